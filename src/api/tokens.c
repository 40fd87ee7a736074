/* tokens.c - personal access tokens: /api/2.0/token/{create,list,delete}
 * for one's own tokens, and the admin-only token-management endpoints
 * (on-behalf-of creation, list, get, delete) for everyone's.
 *
 * A token's value exists only in the create response; the store keeps its
 * SHA-256 (auth/token.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "auth/token.h"
#include "http/server.h"

/* Longer than any sensible token life, short enough that ms never overflow. */
#define MAX_LIFETIME_S (100LL * 366 * 24 * 3600)
#define MAX_COMMENT    1000

struct token_write {
	struct store_token token;
	char value[TOKEN_LEN + 1];
	char id[TOKEN_ID_HEX + 1]; /* for delete */
	struct store_user owner;
	bool management; /* token-management shapes in the reply */
};

static void token_write_free(void *p)
{
	struct token_write *w = p;
	if (w)
		memset(w->value, 0, sizeof(w->value));
	free(w);
}

static struct token_write *new_write(struct call *c)
{
	struct token_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	c->data = w;
	c->data_free = token_write_free;
	return w;
}

/* PublicTokenInfo, or token-management's TokenInfo with owner and creator. */
static json_t *token_info(const struct store_token *t, bool management,
			  const struct store_user *owner, const char *creator_name)
{
	json_t *o = json_object();
	json_object_set_new(o, "token_id", json_string(t->id));
	json_object_set_new(o, "creation_time", json_integer(t->created_ms));
	json_object_set_new(o, "expiry_time", json_integer(t->expiry_ms));
	json_object_set_new(o, "comment", json_string(t->comment));
	if (management) {
		json_object_set_new(o, "owner_id", json_integer(t->user_id));
		json_object_set_new(o, "created_by_id", json_integer(t->created_by));
		if (creator_name)
			json_object_set_new(o, "created_by_username", json_string(creator_name));
		if (owner)
			json_object_set_new(o, "owner_username", json_string(owner->name));
	}
	return o;
}

/* Reads lifetime_seconds and comment shared by both create endpoints. */
static int create_args(struct call *c, int64_t *lifetime, const char **comment)
{
	*lifetime = 0;
	*comment = "";
	if (arg_int64(c, "lifetime_seconds", false, lifetime) < 0 ||
	    arg_string(c, "comment", false, comment) < 0)
		return -1;
	if (*lifetime > MAX_LIFETIME_S) {
		reply_error(c, 400, MODEL_INVALID,
			    "Invalid lifetime_seconds %" PRId64 ": at most %lld (100 years)",
			    *lifetime, MAX_LIFETIME_S);
		return -1;
	}
	if (strlen(*comment) > MAX_COMMENT) {
		reply_error(c, 400, MODEL_INVALID, "Field 'comment' is too long (at most %d bytes)",
			    MAX_COMMENT);
		return -1;
	}
	return 0;
}

static int create_write(struct call *c, struct store *st)
{
	struct token_write *w = c->data;
	/* The owner was looked up on the HTTP thread; it may be gone now. */
	struct store_user owner;
	int rc = store_user_get(st, w->owner.id, &owner);
	if (rc == STORE_NOT_FOUND)
		return set_error(c, 404, "RESOURCE_DOES_NOT_EXIST", "User '%s' does not exist.",
				 w->owner.name);
	if (rc == STORE_OK)
		rc = store_token_insert(st, &w->token);
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	json_t *r = json_object();
	json_object_set_new(r, "token_value", json_string(w->value));
	json_object_set_new(r, "token_info",
			    token_info(&w->token, w->management, &w->owner, c->user.name));
	set_reply(c, 200, r);
	return 0;
}

static void mint(struct call *c, struct token_write *w, int64_t lifetime, const char *comment)
{
	if (token_mint(&w->token, w->value, w->owner.id, c->user.id, call_now_ms(c), lifetime,
		       comment) < 0)
		return reply_error(c, 500, "INTERNAL_ERROR", "No randomness available for a token");
	call_write(c, create_write);
}

static void token_create(struct call *c)
{
	int64_t lifetime;
	const char *comment;
	if (create_args(c, &lifetime, &comment))
		return;
	struct token_write *w = new_write(c);
	w->owner = c->user;
	mint(c, w, lifetime, comment);
}

/* application_id names the user: by id, or by userName (jobsd has no
 * service principals; users stand in for them). */
static int find_user(struct call *c, const char *who, struct store_user *u)
{
	char *end;
	long long id = strtoll(who, &end, 10);
	int rc = (*who && *end == '\0') ? store_user_get(c->api->store, id, u) : STORE_NOT_FOUND;
	if (rc == STORE_NOT_FOUND)
		rc = store_user_get_by_name(c->api->store, who, u);
	if (rc == STORE_NOT_FOUND) {
		reply_error(c, 404, "RESOURCE_DOES_NOT_EXIST", "User '%.200s' does not exist.",
			    who);
		return -1;
	}
	if (rc != STORE_OK) {
		reply_store_error(c, rc);
		return -1;
	}
	return 0;
}

static void obo_create(struct call *c)
{
	int64_t lifetime;
	const char *comment, *who;
	if (arg_string(c, "application_id", true, &who) < 0 || create_args(c, &lifetime, &comment))
		return;
	struct token_write *w = new_write(c);
	w->management = true;
	if (find_user(c, who, &w->owner))
		return;
	mint(c, w, lifetime, comment);
}

struct list_ctx {
	json_t *infos;
	struct call *c;
	bool management;
	int64_t created_by; /* filter, -1 none */
};

static int list_one(void *arg, const struct store_token *t)
{
	struct list_ctx *l = arg;
	if (l->created_by >= 0 && t->created_by != l->created_by)
		return 0;
	struct store_user owner, creator;
	bool have_owner =
		l->management && store_user_get(l->c->api->store, t->user_id, &owner) == 0;
	bool have_creator =
		l->management && store_user_get(l->c->api->store, t->created_by, &creator) == 0;
	json_array_append_new(l->infos, token_info(t, l->management, have_owner ? &owner : NULL,
						   have_creator ? creator.name : NULL));
	return 0;
}

static void reply_list(struct call *c, int64_t owner, bool management, int64_t created_by)
{
	struct list_ctx l = {json_array(), c, management, created_by};
	int rc = store_token_list(c->api->store, owner, list_one, &l);
	if (rc != STORE_OK) {
		json_decref(l.infos);
		return reply_store_error(c, rc);
	}
	json_t *r = json_object();
	json_object_set_new(r, "token_infos", l.infos);
	reply_json(c, 200, r);
}

static void token_list(struct call *c) { reply_list(c, c->user.id, false, -1); }

static void management_list(struct call *c)
{
	int64_t by = -1;
	const char *by_name = NULL;
	if (arg_int64(c, "created_by_id", false, &by) < 0 ||
	    arg_string(c, "created_by_username", false, &by_name) < 0)
		return;
	if (by_name && *by_name) {
		struct store_user u;
		if (find_user(c, by_name, &u))
			return;
		by = u.id;
	}
	reply_list(c, -1, true, by);
}

static int delete_write(struct call *c, struct store *st)
{
	struct token_write *w = c->data;
	struct store_token t;
	int rc = store_token_get(st, w->id, &t);
	/* Through token/delete a user only sees their own tokens. */
	if (rc == STORE_NOT_FOUND || (rc == STORE_OK && !w->management && t.user_id != c->user.id))
		return set_error(c, 404, "RESOURCE_DOES_NOT_EXIST", "Token %s does not exist.",
				 w->id);
	if (rc == STORE_OK)
		rc = store_token_delete(st, w->id);
	c->auth_changed = true;
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	set_reply(c, 200, json_object());
	return 0;
}

static void delete_token(struct call *c, const char *id, bool management)
{
	struct token_write *w = new_write(c);
	w->management = management;
	if (strlen(id) != TOKEN_ID_HEX)
		return reply_error(c, 404, "RESOURCE_DOES_NOT_EXIST", "Token %.64s does not exist.",
				   id);
	memcpy(w->id, id, TOKEN_ID_HEX + 1);
	call_write(c, delete_write);
}

static void token_delete(struct call *c)
{
	const char *id;
	if (arg_string(c, "token_id", true, &id) < 0)
		return;
	delete_token(c, id, false);
}

static void management_delete(struct call *c) { delete_token(c, c->rest, true); }

static void management_get(struct call *c)
{
	struct store_token t;
	int rc = strlen(c->rest) == TOKEN_ID_HEX ? store_token_get(c->api->store, c->rest, &t)
						 : STORE_NOT_FOUND;
	if (rc == STORE_NOT_FOUND)
		return reply_error(c, 404, "RESOURCE_DOES_NOT_EXIST", "Token %.64s does not exist.",
				   c->rest);
	if (rc != STORE_OK)
		return reply_store_error(c, rc);
	struct list_ctx l = {json_array(), c, true, -1};
	list_one(&l, &t);
	json_t *r = json_object();
	json_object_set(r, "token_info", json_array_get(l.infos, 0));
	json_decref(l.infos);
	reply_json(c, 200, r);
}

const struct route token_routes[] = {
	{"POST", "token/create", V20, token_create, 0},
	{"GET", "token/list", V20, token_list, 0},
	{"POST", "token/delete", V20, token_delete, 0},
	{"POST", "token-management/on-behalf-of/tokens", V20, obo_create, ROUTE_ADMIN},
	{"GET", "token-management/tokens", V20, management_list, ROUTE_ADMIN},
	{"GET", "token-management/tokens/", V20, management_get, ROUTE_ADMIN | ROUTE_PREFIX},
	{"DELETE", "token-management/tokens/", V20, management_delete, ROUTE_ADMIN | ROUTE_PREFIX},
	{NULL, NULL, 0, NULL, 0},
};
