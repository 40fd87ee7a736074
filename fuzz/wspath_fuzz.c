/* wspath_fuzz.c - libFuzzer target for wspath_normalize (src/workspace/wspath.c).
 *
 * Build and run (from the repository root):
 *   clang -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
 *     fuzz/wspath_fuzz.c src/workspace/wspath.c -o build/wspath_fuzz
 *   build/wspath_fuzz fuzz/corpus/wspath
 *
 * Beyond "no crash", every accepted path must satisfy the invariants that
 * the workspace module relies on to stay inside its root (wspath.h), and
 * normalizing a canonical path must give it back unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workspace/wspath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canonical(const char *p)
{
	size_t n = strlen(p);
	if (p[0] != '/' || n > WSPATH_MAX)
		abort();
	if (n > 1 && p[n - 1] == '/')
		abort();
	for (const char *s = p + 1; n > 1 && s <= p + n;) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == 0 || len > WSPATH_SEGMENT_MAX)
			abort();
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			abort();
		if (len >= 7 && memcmp(s, WSPATH_RESERVED, 7) == 0)
			abort();
		if (!e)
			break;
		s = e + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[WSPATH_MAX + 1], again[WSPATH_MAX + 1], parent[WSPATH_MAX + 1];
	const char *why = NULL;
	if (wspath_normalize((const char *)data, size, out, sizeof(out), &why) != 0) {
		if (!why)
			abort(); /* a refusal always says why */
		return 0;
	}
	if (why)
		abort();
	check_canonical(out);
	/* Idempotent, except that a canonical path starting with a folder named
	 * "Workspace" loses it again (the alias applies to any input). */
	if (strncmp(out, "/Workspace", 10) != 0 || (out[10] != '\0' && out[10] != '/')) {
		if (wspath_normalize(out, strlen(out), again, sizeof(again), &why) != 0 ||
		    strcmp(out, again) != 0)
			abort();
	}
	/* The helpers agree with each other. */
	if (wspath_parent(out, parent, sizeof(parent)) != 0)
		abort();
	const char *base = wspath_base(out), *rel = wspath_rel(out);
	if (wspath_is_root(out)) {
		if (strcmp(rel, ".") != 0 || *base || strcmp(parent, "/") != 0)
			abort();
	} else {
		size_t pl = strlen(parent);
		if (strncmp(out, parent, pl) != 0 || rel != out + 1 || strchr(base, '/'))
			abort();
		if (strcmp(out + (pl > 1 ? pl : 0) + 1, base) != 0)
			abort();
	}
	return 0;
}
