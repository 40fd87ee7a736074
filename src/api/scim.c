/* scim.c - the SCIM users jobsd needs: /preview/scim/v2/Me (SDKs and the
 * CLI ask who they are, and build /Users/<userName>/ paths from it) and
 * /preview/scim/v2/Users for admins to list, add, change and remove users.
 *
 * SCIM errors carry both the SCIM shape (detail, status) and the usual
 * error_code/message, so every client parses them.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "http/server.h"

#define SCIM_USER  "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_LIST  "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"

static json_t *scim_error(int status, const char *code, const char *msg)
{
	char st[8];
	snprintf(st, sizeof(st), "%d", status);
	json_t *e = json_object();
	json_object_set_new(e, "schemas", json_pack("[s]", SCIM_ERROR));
	json_object_set_new(e, "detail", json_string(msg));
	json_object_set_new(e, "status", json_string(st));
	json_object_set_new(e, "error_code", json_string(code));
	json_object_set_new(e, "message", json_string(msg));
	return e;
}

static json_t *user_json(const struct store_user *u)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, u->id);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "userName", json_string(u->name));
	json_object_set_new(o, "displayName", json_string(u->display_name));
	json_object_set_new(o, "active", json_boolean(u->active));
	json_object_set_new(
		o, "emails",
		json_pack("[{s:s,s:s,s:b}]", "value", u->name, "type", "work", "primary", 1));
	json_object_set_new(o, "schemas", json_pack("[s]", SCIM_USER));
	json_object_set_new(
		o, "groups",
		u->admin ? json_pack("[{s:s,s:s}]", "display", "admins", "value", "admins")
			 : json_array());
	return o;
}

static void me(struct call *c) { reply_json(c, 200, user_json(&c->user)); }

/* --- list ------------------------------------------------------------------------ */

struct list_ctx {
	json_t *all;
	const char *name_filter; /* userName eq "x" */
};

static int list_one(void *arg, const struct store_user *u)
{
	struct list_ctx *l = arg;
	if (!l->name_filter || strcasecmp(l->name_filter, u->name) == 0)
		json_array_append_new(l->all, user_json(u));
	return 0;
}

/* Understands the one filter clients send: userName eq "name". */
static int parse_filter(const char *filter, char *name, size_t n)
{
	const char *p = filter;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "userName", 8) != 0)
		return -1;
	p += 8;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "eq", 2) != 0)
		return -1;
	p += 2;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '"')
		return -1;
	const char *end = strchr(p + 1, '"');
	if (!end || (size_t)(end - p - 1) >= n)
		return -1;
	memcpy(name, p + 1, (size_t)(end - p - 1));
	name[end - p - 1] = '\0';
	return 0;
}

static void users_list(struct call *c)
{
	const char *filter = NULL;
	int64_t start = 1, count = 10000;
	char name[256];
	if (arg_string(c, "filter", false, &filter) < 0 ||
	    arg_int64(c, "startIndex", false, &start) < 0 ||
	    arg_int64(c, "count", false, &count) < 0)
		return;
	struct list_ctx l = {json_array(), NULL};
	if (filter && *filter) {
		if (parse_filter(filter, name, sizeof(name)))
			return reply_json(
				c, 400,
				scim_error(400, MODEL_INVALID,
					   "Unsupported filter: only 'userName eq \"...\"' is "
					   "understood"));
		l.name_filter = name;
	}
	int rc = store_user_list(c->api->store, list_one, &l);
	if (rc != STORE_OK) {
		json_decref(l.all);
		return reply_store_error(c, rc);
	}
	if (start < 1)
		start = 1;
	if (count < 0)
		count = 0;
	size_t total = json_array_size(l.all);
	json_t *page = json_array();
	for (size_t i = (size_t)start - 1; i < total && (int64_t)json_array_size(page) < count; i++)
		json_array_append(page, json_array_get(l.all, i));
	json_t *r = json_object();
	json_object_set_new(r, "schemas", json_pack("[s]", SCIM_LIST));
	json_object_set_new(r, "totalResults", json_integer((json_int_t)total));
	json_object_set_new(r, "startIndex", json_integer(start));
	json_object_set_new(r, "itemsPerPage", json_integer((json_int_t)json_array_size(page)));
	json_object_set_new(r, "Resources", page);
	json_decref(l.all);
	reply_json(c, 200, r);
}

/* --- create ------------------------------------------------------------------------ */

/* A user name becomes a workspace folder (/Users/<name>), so it must be a
 * valid path segment: no '/', no control characters, not "." or "..". */
static bool valid_user_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '/' || *s == 0x7f)
			return false;
	return true;
}

struct user_write {
	struct store_user user;
	int64_t id;
	json_t *ops; /* PATCH operations, borrowed from the body */
};

static int create_write(struct call *c, struct store *st)
{
	struct user_write *w = c->data;
	int rc = store_user_insert(st, &w->user);
	if (rc == STORE_CONFLICT) {
		set_reply(c, 409,
			  scim_error(409, "RESOURCE_ALREADY_EXISTS", "User already exists."));
		return -1;
	}
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	set_reply(c, 201, user_json(&w->user));
	return 0;
}

static struct user_write *new_write(struct call *c)
{
	struct user_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	c->data = w;
	c->data_free = free;
	return w;
}

static void users_create(struct call *c)
{
	const char *name, *display = NULL;
	bool active = true;
	if (arg_string(c, "userName", true, &name) < 0 ||
	    arg_string(c, "displayName", false, &display) < 0 || arg_bool(c, "active", &active) < 0)
		return;
	if (display && strlen(display) >= sizeof(((struct store_user *)0)->display_name))
		return reply_json(c, 400,
				  scim_error(400, MODEL_INVALID,
					     "Invalid displayName: at most 255 bytes"));
	if (!valid_user_name(name))
		return reply_json(c, 400,
				  scim_error(400, MODEL_INVALID,
					     "Invalid userName: 1 to 255 characters, no '/' and no "
					     "control characters"));
	struct user_write *w = new_write(c);
	snprintf(w->user.name, sizeof(w->user.name), "%s", name);
	snprintf(w->user.display_name, sizeof(w->user.display_name), "%s",
		 display && *display ? display : name);
	w->user.active = active;
	w->user.created_ms = call_now_ms(c);
	call_write(c, create_write);
}

/* --- one user: get, patch, delete ----------------------------------------------------- */

static int user_id_arg(struct call *c, int64_t *id)
{
	char *end;
	long long v = strtoll(c->rest, &end, 10);
	if (*c->rest && *end == '\0' && v > 0) {
		*id = v;
		return 0;
	}
	reply_json(c, 404, scim_error(404, "RESOURCE_DOES_NOT_EXIST", "User not found."));
	return -1;
}

static void users_get(struct call *c)
{
	int64_t id;
	if (user_id_arg(c, &id))
		return;
	struct store_user u;
	int rc = store_user_get(c->api->store, id, &u);
	if (rc == STORE_NOT_FOUND)
		return reply_json(c, 404,
				  scim_error(404, "RESOURCE_DOES_NOT_EXIST", "User not found."));
	if (rc != STORE_OK)
		return reply_store_error(c, rc);
	reply_json(c, 200, user_json(&u));
}

/* Whether another active admin than user id exists: the last admin may not
 * be removed or deactivated, or nobody could manage the server any more. */
static int other_admin(void *arg, const struct store_user *u)
{
	int64_t *id = arg;
	if (u->admin && u->active && u->id != *id) {
		*id = -1;
		return 1;
	}
	return 0;
}

static int load_for_change(struct call *c, struct store *st, struct user_write *w,
			   bool removing_admin_rights)
{
	int rc = store_user_get(st, w->id, &w->user);
	if (rc == STORE_NOT_FOUND) {
		set_reply(c, 404, scim_error(404, "RESOURCE_DOES_NOT_EXIST", "User not found."));
		return -1;
	}
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	if (removing_admin_rights && w->user.admin) {
		int64_t probe = w->id;
		store_user_list(st, other_admin, &probe);
		if (probe != -1) {
			set_reply(c, 400,
				  scim_error(400, MODEL_INVALID,
					     "Cannot remove or deactivate the last admin."));
			return -1;
		}
	}
	return 0;
}

static int delete_write(struct call *c, struct store *st)
{
	struct user_write *w = c->data;
	if (load_for_change(c, st, w, true))
		return -1;
	int rc = store_user_delete(st, w->id);
	c->auth_changed = true;
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	set_reply(c, 204, json_object());
	return 0;
}

static void users_delete(struct call *c)
{
	struct user_write *w = new_write(c);
	if (user_id_arg(c, &w->id))
		return;
	call_write(c, delete_write);
}

/* Applies SCIM PatchOp "replace" operations on active and displayName. */
static int patch_apply(struct call *c, struct user_write *w)
{
	size_t i;
	json_t *op;
	json_array_foreach (w->ops, i, op) {
		const char *kind = json_string_value(json_object_get(op, "op"));
		const char *path = json_string_value(json_object_get(op, "path"));
		json_t *value = json_object_get(op, "value");
		if (kind && strcasecmp(kind, "replace") == 0 && path &&
		    strcmp(path, "active") == 0 && json_is_boolean(value)) {
			w->user.active = json_is_true(value);
		} else if (kind && strcasecmp(kind, "replace") == 0 && path &&
			   strcmp(path, "displayName") == 0 && json_is_string(value) &&
			   json_string_length(value) < sizeof(w->user.display_name)) {
			snprintf(w->user.display_name, sizeof(w->user.display_name), "%s",
				 json_string_value(value));
		} else {
			char msg[256];
			snprintf(
				msg, sizeof(msg),
				"Unsupported operation Operations[%zu]: only 'replace' of 'active' "
				"(a boolean) or 'displayName' (a string)",
				i);
			set_reply(c, 400, scim_error(400, MODEL_INVALID, msg));
			return -1;
		}
	}
	return 0;
}

static bool deactivates(const json_t *ops)
{
	size_t i;
	json_t *op;
	json_array_foreach (ops, i, op) {
		const char *path = json_string_value(json_object_get(op, "path"));
		if (path && strcmp(path, "active") == 0 &&
		    json_is_false(json_object_get(op, "value")))
			return true;
	}
	return false;
}

static int patch_write(struct call *c, struct store *st)
{
	struct user_write *w = c->data;
	if (load_for_change(c, st, w, deactivates(w->ops)) || patch_apply(c, w))
		return -1;
	int rc = store_user_update(st, &w->user);
	c->auth_changed = true;
	if (rc != STORE_OK)
		return set_store_error(c, rc);
	set_reply(c, 204, json_object());
	return 0;
}

static void users_patch(struct call *c)
{
	struct user_write *w = new_write(c);
	if (user_id_arg(c, &w->id))
		return;
	w->ops = json_object_get(c->body, "Operations");
	if (!json_is_array(w->ops))
		return reply_json(
			c, 400,
			scim_error(400, MODEL_INVALID, "Missing required field: Operations"));
	call_write(c, patch_write);
}

const struct route scim_routes[] = {
	{"GET", "preview/scim/v2/Me", V20, me, 0},
	{"GET", "preview/scim/v2/Users", V20, users_list, 0},
	{"POST", "preview/scim/v2/Users", V20, users_create, ROUTE_ADMIN},
	{"GET", "preview/scim/v2/Users/", V20, users_get, ROUTE_PREFIX},
	{"PATCH", "preview/scim/v2/Users/", V20, users_patch, ROUTE_ADMIN | ROUTE_PREFIX},
	{"DELETE", "preview/scim/v2/Users/", V20, users_delete, ROUTE_ADMIN | ROUTE_PREFIX},
	{NULL, NULL, 0, NULL, 0},
};
