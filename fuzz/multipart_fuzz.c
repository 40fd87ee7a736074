/* multipart_fuzz.c - libFuzzer target for the multipart/form-data parser
 * (src/workspace/multipart.c) that reads workspace/import bodies.
 *
 * Build and run (from the repository root):
 *   clang -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
 *     fuzz/multipart_fuzz.c src/workspace/multipart.c -o build/multipart_fuzz
 *   build/multipart_fuzz fuzz/corpus/multipart
 *
 * Input: the first line is the Content-Type header value, the rest is the
 * body, copied into an exactly-sized buffer so ASan sees any read past it.
 * Beyond "no crash": parts lie inside the body, in order, without overlap,
 * names are NUL-terminated within their buffer, and a refusal says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workspace/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
	size_t hlen = nl ? (size_t)(nl - data) : 0;
	char ct[257];
	memcpy(ct, data, hlen);
	ct[hlen] = '\0';
	size_t blen = nl ? size - hlen - 1 : size;
	char *body = malloc(blen ? blen : 1);
	memcpy(body, nl ? (const char *)nl + 1 : (const char *)data, blen);

	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	const char *why = NULL;
	if (multipart_boundary(ct, boundary, sizeof(boundary), &why) != 0) {
		if (!why)
			abort();
		memcpy(boundary, "b", 2);
	} else if (strlen(boundary) == 0 || strlen(boundary) > MULTIPART_BOUNDARY_MAX) {
		abort();
	}
	struct multipart_part parts[MULTIPART_MAX_PARTS];
	size_t n = 0;
	why = NULL;
	if (multipart_parse(body, blen, boundary, parts, MULTIPART_MAX_PARTS, &n, &why) == 0) {
		const char *prev_end = body;
		if (n > MULTIPART_MAX_PARTS)
			abort();
		for (size_t i = 0; i < n; i++) {
			const struct multipart_part *p = &parts[i];
			if (p->data < prev_end || p->data + p->len > body + blen)
				abort();
			if (!memchr(p->name, '\0', sizeof(p->name)) || p->name[0] == '\0')
				abort();
			if (multipart_find(parts, n, p->name) > p)
				abort(); /* find returns the first of a name */
			prev_end = p->data + p->len;
		}
	} else if (!why) {
		abort();
	}
	free(body);
	return 0;
}
