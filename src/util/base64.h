/* base64.h - base64 (RFC 4648 §4) and base64url (§5, no padding) on top of
 * OpenSSL's EVP encoder. Results are malloc'd and NUL-terminated; decoding
 * rejects anything that is not canonical base64 (whitespace included).
 * Thread-safe. */
#ifndef JOBSD_UTIL_BASE64_H
#define JOBSD_UTIL_BASE64_H

#include <stddef.h>

char *base64_encode(const void *data, size_t len);
/* 0 on success; -1 if text is not valid base64. *out is NUL-terminated. */
int base64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len);

char *base64url_encode(const void *data, size_t len);
int base64url_decode(const char *text, unsigned char **out, size_t *out_len);

#endif
