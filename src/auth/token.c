/* token.c - see token.h. */
#include "auth/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "util/rand.h"

int token_generate(char *token, char *id)
{
	uint8_t raw[(TOKEN_ID_HEX + TOKEN_SECRET_HEX) / 2];
	int rc = rand_bytes(raw, sizeof(raw));
	if (rc < 0)
		return rc;
	memcpy(token, TOKEN_PREFIX, 4);
	hex_encode(raw, sizeof(raw), token + 4);
	memcpy(id, token + 4, TOKEN_ID_HEX);
	id[TOKEN_ID_HEX] = '\0';
	return 0;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

bool token_parse_id(const char *token, char *id)
{
	if (strlen(token) != TOKEN_LEN || memcmp(token, TOKEN_PREFIX, 4) != 0 ||
	    !is_lower_hex(token + 4, TOKEN_LEN - 4))
		return false;
	memcpy(id, token + 4, TOKEN_ID_HEX);
	id[TOKEN_ID_HEX] = '\0';
	return true;
}

void token_hash(const char *token, uint8_t hash[TOKEN_HASH_LEN])
{
	unsigned int len = TOKEN_HASH_LEN;
	/* EVP_Digest only fails on allocation failure inside OpenSSL; a zero hash
	 * then matches nothing stored, which fails closed. */
	if (!EVP_Digest(token, strlen(token), hash, &len, EVP_sha256(), NULL))
		memset(hash, 0, TOKEN_HASH_LEN);
}

bool token_hash_equal(const uint8_t a[TOKEN_HASH_LEN], const uint8_t b[TOKEN_HASH_LEN])
{
	return CRYPTO_memcmp(a, b, TOKEN_HASH_LEN) == 0;
}

int token_mint(struct store_token *t, char *value, int64_t user_id, int64_t created_by,
	       int64_t now_ms, int64_t lifetime_s, const char *comment)
{
	memset(t, 0, sizeof(*t));
	int rc = token_generate(value, t->id);
	if (rc < 0)
		return rc;
	token_hash(value, t->hash);
	t->user_id = user_id;
	t->created_by = created_by;
	t->created_ms = now_ms;
	t->expiry_ms = lifetime_s > 0 ? now_ms + lifetime_s * 1000 : -1;
	snprintf(t->comment, sizeof(t->comment), "%s", comment ? comment : "");
	return 0;
}
