/* rand.h - cryptographic randomness (getrandom(2)) and hex encoding.
 * Thread-safe. rand_bytes blocks only before the kernel pool is initialised. */
#ifndef JOBSD_UTIL_RAND_H
#define JOBSD_UTIL_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf with n random bytes. 0 on success, negative errno on failure. */
int rand_bytes(void *buf, size_t n);

/* Writes 2*n lower-case hex digits and a NUL to out (room for 2*n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);

#endif
