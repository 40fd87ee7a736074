/* utf8.c - see utf8.h. */
#include "util/utf8.h"

#include <string.h>

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c == 0xe0)
		len = 3, lo = 0xa0; /* no overlong 3-byte forms */
	else if (c == 0xed)
		len = 3, hi = 0x9f; /* no surrogates */
	else if (c >= 0xe1 && c <= 0xef)
		len = 3;
	else if (c == 0xf0)
		len = 4, lo = 0x90; /* no overlong 4-byte forms */
	else if (c >= 0xf1 && c <= 0xf3)
		len = 4;
	else if (c == 0xf4)
		len = 4, hi = 0x8f; /* nothing past U+10FFFF */
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = seq_len(p + i, n - i);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t len = seq_len(p + i, n - i);
		if (len) {
			i += len;
		} else {
			p[i] = '?';
			i++;
		}
	}
}

void utf8_scrub_controls(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}
