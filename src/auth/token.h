/* token.h - personal access tokens: generation, parsing, hashing.
 *
 * A token looks like a Databricks PAT: "dapi" + 16 hex digits of public id +
 * 32 hex digits of secret (128 random bits). The id is what token/list shows
 * and what the store indexes; only SHA-256 of the whole token is stored, and
 * the comparison of hashes is constant-time (CRYPTO_memcmp), so neither the
 * database nor timing reveals a usable token. Pure functions, any thread.
 */
#ifndef JOBSD_AUTH_TOKEN_H
#define JOBSD_AUTH_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define TOKEN_PREFIX	 "dapi"
#define TOKEN_ID_HEX	 16
#define TOKEN_SECRET_HEX 32
#define TOKEN_LEN	 (4 + TOKEN_ID_HEX + TOKEN_SECRET_HEX)
#define TOKEN_HASH_LEN	 32

/* Makes a fresh token (TOKEN_LEN+1 bytes) and its id (TOKEN_ID_HEX+1 bytes).
 * 0 on success, negative errno if the kernel gave no randomness. */
int token_generate(char *token, char *id);

/* Extracts the id of a well-formed token into id (TOKEN_ID_HEX+1 bytes).
 * Returns false for anything that cannot be one of our tokens. */
bool token_parse_id(const char *token, char *id);

void token_hash(const char *token, uint8_t hash[TOKEN_HASH_LEN]);
bool token_hash_equal(const uint8_t a[TOKEN_HASH_LEN], const uint8_t b[TOKEN_HASH_LEN]);

/* Mints a token for user_id: fills t (id, hash, times, comment; nothing is
 * stored yet) and writes the token's value to value (TOKEN_LEN+1 bytes).
 * lifetime_s <= 0 means no expiry. 0, or negative errno without randomness. */
int token_mint(struct store_token *t, char *value, int64_t user_id, int64_t created_by,
	       int64_t now_ms, int64_t lifetime_s, const char *comment);

#endif
