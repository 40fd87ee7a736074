/* cmd_tokens.c - `jobctl tokens ...` (personal access tokens, /api/2.0/token/...
 * and the admin-only token-management on-behalf-of endpoint) and
 * `jobctl users ...` (SCIM users, /api/2.0/preview/scim/v2/...): the identity
 * side of a jobsd installation.
 *
 * A created token is printed once, on purpose: it is the command's result and
 * the server will never show it again. The token jobctl itself authenticates
 * with is never printed. */
#include "client.h"
#include "command.h"
#include "jsonio.h"
#include "table.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCIM_USER_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:User"
/* Bounds the SCIM paging loop against a server that never reaches its total. */
#define SCIM_MAX_PAGES 10000

/* Print the answer in json mode, or field `key` of it in text mode (the new
 * token's value, the new user's id). Consumes resp. */
static int print_created(json_t *resp, enum output_mode mode, const char *key)
{
	int rc = EXIT_OK;
	if (mode == OUTPUT_JSON) {
		jsonio_print(resp);
	} else {
		char *v = jsonio_scalar_text(json_object_get(resp, key));
		if (v)
			printf("%s\n", v);
		else
			rc = runtime_failure("the server's answer has no %s", key);
		free(v);
	}
	json_decref(resp);
	return rc;
}

/* --- tokens ------------------------------------------------------------------ */

static int tokens_create(struct session *s, const struct args *a)
{
	const char *lifetime = args_get(a, "lifetime-seconds");
	long long seconds = 0;
	if (lifetime && parse_nonneg_int64(lifetime, &seconds) < 0)
		return usage_failure(s, "--lifetime-seconds must be a number, not '%s'", lifetime);

	const char *user = args_get(a, "user");
	const char *comment = args_get(a, "comment");
	json_t *body = json_object();
	if (user)
		json_object_set_new(body, "application_id", json_string(user));
	if (comment)
		json_object_set_new(body, "comment", json_string(comment));
	if (lifetime)
		json_object_set_new(body, "lifetime_seconds", json_integer(seconds));

	/* With --user an admin mints a token for someone else; same answer shape. */
	const char *path =
		user ? "/api/2.0/token-management/on-behalf-of/tokens" : "/api/2.0/token/create";
	json_t *resp = NULL;
	int rc = client_post(s->client, path, body, &resp) < 0 ? api_failure(s) : EXIT_OK;
	json_decref(body);
	return rc ? rc : print_created(resp, s->output, "token_value");
}

/* "never" for the API's -1 expiry, else the time. */
static void format_expiry(const json_t *info, char *buf, size_t len)
{
	long long ms = 0;
	if (jsonio_int(info, "expiry_time", &ms) && ms == -1)
		snprintf(buf, len, "never");
	else
		format_time_ms(ms, buf, len);
}

static void print_token_table(const json_t *infos)
{
	static const char *const headers[] = {"TOKEN_ID", "COMMENT", "CREATED", "EXPIRES"};
	struct table *t = table_new(4, headers);
	size_t i;
	json_t *info;
	json_array_foreach (infos, i, info) {
		char created[32], expires[32];
		long long ms = 0;
		jsonio_int(info, "creation_time", &ms);
		format_time_ms(ms, created, sizeof(created));
		format_expiry(info, expires, sizeof(expires));
		const char *row[] = {jsonio_str(info, "token_id"), jsonio_str(info, "comment"),
				     created, expires};
		table_add_row(t, row);
	}
	table_print(t);
	table_free(t);
}

static int tokens_list(struct session *s, const struct args *a)
{
	(void)a;
	json_t *resp = NULL;
	if (client_get(s->client, "/api/2.0/token/list", NULL, 0, &resp) < 0)
		return api_failure(s);
	if (s->output == OUTPUT_JSON)
		jsonio_print(resp);
	else
		print_token_table(json_object_get(resp, "token_infos"));
	json_decref(resp);
	return EXIT_OK;
}

static int tokens_delete(struct session *s, const struct args *a)
{
	return command_post_quietly(s, "/api/2.0/token/delete",
				    json_pack("{s:s}", "token_id", a->pos[0]));
}

/* --- users ------------------------------------------------------------------- */

static int users_add(struct session *s, const struct args *a)
{
	const char *display = args_get(a, "display-name");
	json_t *body =
		json_pack("{s:[s], s:s}", "schemas", SCIM_USER_SCHEMA, "userName", a->pos[0]);
	if (display)
		json_object_set_new(body, "displayName", json_string(display));
	json_t *resp = NULL;
	int rc = client_post(s->client, "/api/2.0/preview/scim/v2/Users", body, &resp) < 0
			 ? api_failure(s)
			 : EXIT_OK;
	json_decref(body);
	return rc ? rc : print_created(resp, s->output, "id");
}

/* Fetch the SCIM page starting at start_index (1-based) and append its
 * Resources to all; *added says how many came. */
static int fetch_user_page(struct session *s, long long start_index, json_t *all, size_t *added)
{
	char start[32];
	snprintf(start, sizeof(start), "%lld", start_index);
	struct query_param q[] = {{"startIndex", start}};
	json_t *page = NULL;
	if (client_get(s->client, "/api/2.0/preview/scim/v2/Users", q, 1, &page) < 0)
		return api_failure(s);
	long long echoed;
	json_t *resources = json_object_get(page, "Resources");
	/* A server that ignores startIndex would return page one again: stop. */
	bool honoured = !jsonio_int(page, "startIndex", &echoed) || echoed == start_index;
	*added = honoured ? json_array_size(resources) : 0;
	if (*added)
		json_array_extend(all, resources);
	json_decref(page);
	return EXIT_OK;
}

/* GET Users and, when the server pages (SCIM totalResults above what one answer
 * holds), the following pages, merged into the first answer's Resources. */
static int fetch_users(struct session *s, json_t **out)
{
	json_t *first = NULL;
	if (client_get(s->client, "/api/2.0/preview/scim/v2/Users", NULL, 0, &first) < 0)
		return api_failure(s);
	json_t *all = json_object_get(first, "Resources");
	if (!json_is_array(all)) {
		all = json_array();
		json_object_set_new(first, "Resources", all);
	}
	long long total = 0;
	jsonio_int(first, "totalResults", &total);
	size_t added = json_array_size(all);
	for (size_t pages = 1; added && (long long)json_array_size(all) < total; pages++) {
		int rc = pages < SCIM_MAX_PAGES
				 ? fetch_user_page(s, (long long)json_array_size(all) + 1, all,
						   &added)
				 : runtime_failure("the server returned more than %d pages",
						   SCIM_MAX_PAGES);
		if (rc) {
			json_decref(first);
			return rc;
		}
	}
	if (json_object_get(first, "itemsPerPage"))
		json_object_set_new(first, "itemsPerPage",
				    json_integer((json_int_t)json_array_size(all)));
	*out = first;
	return EXIT_OK;
}

static void print_user_table(const json_t *users)
{
	static const char *const headers[] = {"ID", "USER_NAME", "DISPLAY_NAME", "ACTIVE"};
	struct table *t = table_new(4, headers);
	size_t i;
	json_t *u;
	json_array_foreach (users, i, u) {
		char *id = jsonio_scalar_text(json_object_get(u, "id"));
		char *active = jsonio_scalar_text(json_object_get(u, "active"));
		const char *row[] = {id, jsonio_str(u, "userName"), jsonio_str(u, "displayName"),
				     active};
		table_add_row(t, row);
		free(active);
		free(id);
	}
	table_print(t);
	table_free(t);
}

static int users_list(struct session *s, const struct args *a)
{
	(void)a;
	json_t *resp = NULL;
	int rc = fetch_users(s, &resp);
	if (rc)
		return rc;
	if (s->output == OUTPUT_JSON)
		jsonio_print(resp);
	else
		print_user_table(json_object_get(resp, "Resources"));
	json_decref(resp);
	return EXIT_OK;
}

/* The primary e-mail address, else the first one. */
static const char *primary_email(const json_t *user)
{
	json_t *emails = json_object_get(user, "emails");
	size_t i;
	json_t *e;
	json_array_foreach (emails, i, e) {
		if (json_is_true(json_object_get(e, "primary")))
			return jsonio_str(e, "value");
	}
	return jsonio_str(json_array_get(emails, 0), "value");
}

static int users_me(struct session *s, const struct args *a)
{
	(void)a;
	json_t *me = NULL;
	if (client_get(s->client, "/api/2.0/preview/scim/v2/Me", NULL, 0, &me) < 0)
		return api_failure(s);
	if (s->output == OUTPUT_JSON) {
		jsonio_print(me);
	} else {
		char *id = jsonio_scalar_text(json_object_get(me, "id"));
		char *active = jsonio_scalar_text(json_object_get(me, "active"));
		print_field("ID", id);
		print_field("User name", jsonio_str(me, "userName"));
		print_field("Display name", jsonio_str(me, "displayName"));
		print_field("E-mail", primary_email(me));
		print_field("Active", active);
		free(active);
		free(id);
	}
	json_decref(me);
	return EXIT_OK;
}

/* --- tables ------------------------------------------------------------------ */

static const struct opt_spec token_create_opts[] = {
	{"comment", 0, true, "TEXT", "what the token is for"},
	{"lifetime-seconds", 0, true, "N", "expire after N seconds (default: never)"},
	{"user", 0, true, "NAME", "create the token for this user (admins only)"},
	{NULL},
};

static const struct opt_spec user_add_opts[] = {
	{"display-name", 0, true, "NAME", "the user's display name"},
	{NULL},
};

const struct command tokens_commands[] = {
	{"tokens", "create", "[--comment TEXT] [--lifetime-seconds N] [--user NAME]",
	 "create an access token and print its value", token_create_opts, 0, 0, true,
	 tokens_create},
	{"tokens", "list", "", "list your access tokens", NULL, 0, 0, true, tokens_list},
	{"tokens", "delete", "TOKEN_ID", "revoke an access token", NULL, 1, 1, true, tokens_delete},
	{NULL},
};

const struct command users_commands[] = {
	{"users", "add", "NAME [--display-name NAME]", "add a user and print its id", user_add_opts,
	 1, 1, true, users_add},
	{"users", "list", "", "list users", NULL, 0, 0, true, users_list},
	{"users", "me", "", "show the user the token belongs to", NULL, 0, 0, true, users_me},
	{NULL},
};
