/* base64.c - see base64.h. EVP_DecodeBlock is lenient (it accepts trailing
 * whitespace, non-zero padding bits, and reports padding as zero bytes), so
 * the decoder checks the alphabet, the padding bits and strips padding
 * itself. */
#include "util/base64.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *base64_encode(const void *data, size_t len)
{
	size_t n = 4 * ((len + 2) / 3);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	/* EVP_EncodeBlock takes an int length; callers cap inputs far below. */
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	out[n] = '\0';
	return out;
}

static bool is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int base64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len)
{
	if (text_len % 4 != 0)
		return -1;
	size_t pad = 0;
	if (text_len >= 1 && text[text_len - 1] == '=')
		pad++;
	if (text_len >= 2 && text[text_len - 2] == '=')
		pad++;
	for (size_t i = 0; i < text_len - pad; i++)
		if (!is_b64((unsigned char)text[i]))
			return -1;
	/* Canonical form: the bits padding leaves unused must be zero ("Zg=="
	 * decodes to "f", "Zh==" must not). */
	if (pad > 0) {
		static const char alphabet[] =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		int last = (int)(strchr(alphabet, text[text_len - pad - 1]) - alphabet);
		if (last & (pad == 2 ? 0x0f : 0x03))
			return -1;
	}
	unsigned char *buf = malloc(text_len / 4 * 3 + 1);
	if (!buf)
		return -1;
	int n = text_len ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)text_len) : 0;
	if (n < 0) {
		free(buf);
		return -1;
	}
	*out_len = (size_t)n - pad;
	buf[*out_len] = '\0';
	*out = buf;
	return 0;
}

char *base64url_encode(const void *data, size_t len)
{
	char *s = base64_encode(data, len);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return s;
}

int base64url_decode(const char *text, unsigned char **out, size_t *out_len)
{
	size_t n = strlen(text);
	if (n % 4 == 1)
		return -1;
	char *std = malloc(n + 4);
	if (!std)
		return -1;
	size_t i;
	for (i = 0; i < n; i++) {
		char c = text[i];
		if (c == '+' || c == '/' || c == '=') {
			free(std);
			return -1;
		}
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	while (i % 4)
		std[i++] = '=';
	int rc = base64_decode(std, i, out, out_len);
	free(std);
	return rc;
}
