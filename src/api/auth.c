/* auth.c - bearer-token authentication for every /api/ call, with a cache.
 *
 * Checking a token costs a SHA-256 and two store reads; a busy client sends
 * the same token thousands of times a second, so verified tokens are cached:
 * token id -> (hash, expiry, user). The cache is always checked against the
 * presented token's hash, so it can only ever answer for the exact token it
 * verified.
 *
 * Invalidation: every committed write that can revoke access (token delete,
 * user change or delete) bumps api->auth_generation after its commit
 * (api_auth_changed). A reader records the generation *before* it reads the
 * store and stores that value with the entry; an entry whose generation is
 * not the current one is ignored. So an entry filled from a state that a
 * write has since changed is never used, whichever way the two race.
 *
 * Threads: any HTTP thread; the table is guarded by a rwlock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "auth/token.h"
#include "http/server.h"

#define CACHE_SLOTS 1024 /* power of two; collisions just evict */

struct cache_entry {
	char id[TOKEN_ID_HEX + 1];
	uint8_t hash[TOKEN_HASH_LEN];
	int64_t expiry_ms;
	uint64_t generation;
	struct store_user user;
};

struct auth_cache {
	pthread_rwlock_t lock;
	struct cache_entry slots[CACHE_SLOTS];
};

int auth_cache_create(struct auth_cache **out)
{
	struct auth_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	pthread_rwlock_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void auth_cache_free(struct auth_cache *c)
{
	if (!c)
		return;
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

void api_auth_changed(struct api *api) { atomic_fetch_add(&api->auth_generation, 1); }

static size_t slot_of(const char *id)
{
	/* The id is random hex: its first 8 digits are already well mixed. */
	uint32_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h * 16 + (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	return h & (CACHE_SLOTS - 1);
}

static bool cache_lookup(struct api *api, const char *id, const uint8_t *hash,
			 struct store_user *user, int64_t *expiry)
{
	struct auth_cache *c = api->auth_cache;
	struct cache_entry *e = &c->slots[slot_of(id)];
	uint64_t gen = atomic_load(&api->auth_generation);
	bool hit = false;
	pthread_rwlock_rdlock(&c->lock);
	if (e->generation == gen && strcmp(e->id, id) == 0 && token_hash_equal(e->hash, hash)) {
		*user = e->user;
		*expiry = e->expiry_ms;
		hit = true;
	}
	pthread_rwlock_unlock(&c->lock);
	return hit;
}

static void cache_store(struct api *api, const struct store_token *t, const struct store_user *user,
			uint64_t gen)
{
	struct auth_cache *c = api->auth_cache;
	struct cache_entry *e = &c->slots[slot_of(t->id)];
	pthread_rwlock_wrlock(&c->lock);
	memcpy(e->id, t->id, sizeof(e->id));
	memcpy(e->hash, t->hash, sizeof(e->hash));
	e->expiry_ms = t->expiry_ms;
	e->generation = gen;
	e->user = *user;
	pthread_rwlock_unlock(&c->lock);
}

static void reply_unauthenticated(struct call *c)
{
	reply_error(c, 401, "UNAUTHENTICATED",
		    "Credential was not sent or was of an unsupported type for this API. "
		    "Send 'Authorization: Bearer <token>'.");
}

static void reply_invalid_token(struct call *c)
{
	/* The legacy shape: a numeric error_code (sdk-go #873). */
	json_t *e = json_object();
	json_object_set_new(e, "error_code", json_integer(403));
	json_object_set_new(e, "message", json_string("Invalid access token."));
	reply_json(c, 403, e);
}

/* Verifies a token against the store. 1 valid (user filled), 0 invalid,
 * -1 after replying with a store error. */
static int verify_in_store(struct call *c, const char *id, const uint8_t *hash,
			   struct store_user *user, int64_t *expiry)
{
	uint64_t gen = atomic_load(&c->api->auth_generation);
	struct store_token t;
	int rc = store_token_get(c->api->store, id, &t);
	if (rc == STORE_OK && !token_hash_equal(hash, t.hash))
		rc = STORE_NOT_FOUND;
	if (rc == STORE_OK)
		rc = store_user_get(c->api->store, t.user_id, user);
	if (rc == STORE_NOT_FOUND)
		return 0;
	if (rc != STORE_OK) {
		reply_store_error(c, rc);
		return -1;
	}
	*expiry = t.expiry_ms;
	cache_store(c->api, &t, user, gen);
	return 1;
}

int authenticate(struct call *c)
{
	const char *h = http_header(c->req, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		reply_unauthenticated(c);
		return -1;
	}
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	if (!*tok) {
		reply_unauthenticated(c);
		return -1;
	}
	char id[TOKEN_ID_HEX + 1];
	uint8_t hash[TOKEN_HASH_LEN];
	if (!token_parse_id(tok, id)) {
		reply_invalid_token(c);
		return -1;
	}
	token_hash(tok, hash);
	int64_t expiry;
	int ok = cache_lookup(c->api, id, hash, &c->user, &expiry);
	if (!ok && (ok = verify_in_store(c, id, hash, &c->user, &expiry)) < 0)
		return -1;
	if (!ok || !c->user.active || (expiry >= 0 && call_now_ms(c) >= expiry)) {
		reply_invalid_token(c);
		return -1;
	}
	return 0;
}
