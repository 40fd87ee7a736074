/* workspace.c - workspace/import, export, get-status, list, mkdirs, delete
 * (API 2.0; reference §6).
 *
 * Workspace objects are files under DIR/workspace, not rows: the handlers
 * call the workspace module synchronously on the HTTP thread (it serializes
 * writes with its own lock and makes them durable before returning), and
 * never go through the engine. This file only turns requests into module
 * calls and results into JSON; the module's model_error is the answer.
 *
 * import takes its body raw (ROUTE_RAW_BODY): JSON with base64 content, or
 * multipart/form-data with the raw bytes in a part named "content" (the
 * SDKs' upload()). An over-limit body is answered MAX_NOTEBOOK_SIZE_EXCEEDED.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "config.h"
#include "http/server.h"
#include "util/base64.h"
#include "util/log.h"
#include "workspace/multipart.h"
#include "workspace/workspace.h"

/* --- arguments ------------------------------------------------------------------ */

/* The path argument with its length: JSON strings may hold NUL bytes, which
 * the module must see to refuse. 0, or -1 after replying. */
static int arg_path(struct call *c, const char **path, size_t *len)
{
	json_t *v = c->body ? json_object_get(c->body, "path") : NULL;
	if (v && !json_is_null(v)) {
		if (!json_is_string(v)) {
			reply_error(
				c, 400, MODEL_MALFORMED,
				"Could not parse request object: field 'path' must be a string");
			return -1;
		}
		*path = json_string_value(v);
		*len = json_string_length(v);
		return 0;
	}
	if (arg_string(c, "path", true, path) < 0)
		return -1;
	*len = strlen(*path);
	return 0;
}

/* format: SOURCE when absent. 0, or -1 after replying. */
static int arg_format(struct call *c, enum workspace_format *out)
{
	const char *s;
	int rc = arg_string(c, "format", false, &s);
	if (rc < 0)
		return -1;
	*out = WORKSPACE_SOURCE;
	if (rc > 0)
		return 0;
	rc = workspace_format_parse(s, out);
	if (rc == -2)
		reply_error(c, 400, MODEL_INVALID, "format %s is not supported by jobsd", s);
	else if (rc < 0)
		reply_error(c, 400, MODEL_INVALID,
			    "Invalid format '%.64s': expected SOURCE, JUPYTER, AUTO or RAW", s);
	return rc < 0 ? -1 : 0;
}

/* --- ObjectInfo ------------------------------------------------------------------- */

static json_t *object_json(const struct workspace_object *o)
{
	char id[24];
	json_t *v = json_object();
	json_object_set_new(v, "path", json_string(o->path));
	json_object_set_new(v, "object_type", json_string(workspace_type_name(o->type)));
	json_object_set_new(v, "object_id", json_integer(o->object_id));
	snprintf(id, sizeof(id), "%" PRId64, o->object_id);
	json_object_set_new(v, "resource_id", json_string(id));
	if (o->type == WORKSPACE_NOTEBOOK)
		json_object_set_new(v, "language", json_string(workspace_lang_name(o->lang)));
	json_object_set_new(v, "created_at", json_integer(o->created_ms));
	json_object_set_new(v, "modified_at", json_integer(o->modified_ms));
	if (o->type == WORKSPACE_FILE)
		json_object_set_new(v, "size", json_integer(o->size));
	return v;
}

/* --- get-status, list ------------------------------------------------------------------ */

static void ws_get_status(struct call *c)
{
	const char *path;
	size_t len;
	struct workspace_object o;
	struct model_error err;
	if (arg_path(c, &path, &len) < 0)
		return;
	if (workspace_stat(c->api->workspace, path, len, &o, &err) < 0)
		return reply_model_error(c, &err);
	reply_json(c, 200, object_json(&o));
}

static void ws_list(struct call *c)
{
	const char *path;
	size_t len, n;
	int64_t after = -1;
	struct workspace_object *objs;
	struct model_error err;
	if (arg_path(c, &path, &len) < 0 ||
	    arg_int64(c, "notebooks_modified_after", false, &after) < 0)
		return;
	if (workspace_list(c->api->workspace, path, len, after, &objs, &n, &err) < 0)
		return reply_model_error(c, &err);
	json_t *v = json_object();
	if (n > 0) { /* the service omits the key when there is nothing */
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, object_json(&objs[i]));
		json_object_set_new(v, "objects", a);
	}
	free(objs);
	reply_json(c, 200, v);
}

/* --- export ------------------------------------------------------------------------------ */

static void ws_export(struct call *c)
{
	const char *path;
	size_t len, n;
	bool direct = false;
	enum workspace_format format;
	struct model_error err;
	char *data, file_type[16];
	if (arg_path(c, &path, &len) < 0 || arg_format(c, &format) < 0 ||
	    arg_bool(c, "direct_download", &direct) < 0)
		return;
	if (format == WORKSPACE_RAW)
		return reply_error(c, 400, MODEL_INVALID,
				   "Invalid format 'RAW' for export: expected SOURCE, JUPYTER or "
				   "AUTO");
	if (workspace_export(c->api->workspace, path, len, format, &data, &n, file_type, &err) < 0)
		return reply_model_error(c, &err);
	if (direct) {
		http_respond(c->req, 200, "application/octet-stream", data, n);
		return;
	}
	char *b64 = base64_encode(data, n);
	free(data);
	if (!b64) {
		log_error("workspace: out of memory encoding an export");
		abort();
	}
	json_t *v = json_object();
	json_object_set_new(v, "content", json_string(b64));
	free(b64);
	if (file_type[0])
		json_object_set_new(v, "file_type", json_string(file_type));
	reply_json(c, 200, v);
}

/* --- import ------------------------------------------------------------------------------- */

/* A text field as JSON; "overwrite" becomes a boolean as in a JSON body.
 * NULL when the bytes are not UTF-8. */
static json_t *field_value(const struct multipart_part *p)
{
	if (strcmp(p->name, "overwrite") == 0) {
		if ((p->len == 4 && strncasecmp(p->data, "true", 4) == 0) ||
		    (p->len == 1 && p->data[0] == '1'))
			return json_true();
		if ((p->len == 5 && strncasecmp(p->data, "false", 5) == 0) ||
		    (p->len == 1 && p->data[0] == '0'))
			return json_false();
	}
	return json_stringn(p->data, p->len);
}

/* Builds c->body from the text fields of a multipart body, so the same
 * argument readers serve both encodings, and points *content at the raw
 * bytes of the "content" part (NULL when absent). 0, or -1 after replying. */
static int read_multipart(struct call *c, const char *ct, const char *body, size_t len,
			  const char **content, size_t *content_len)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	struct multipart_part parts[MULTIPART_MAX_PARTS];
	size_t n;
	const char *why;
	if (multipart_boundary(ct, boundary, sizeof(boundary), &why) < 0) {
		reply_error(c, 400, MODEL_MALFORMED, "Invalid multipart/form-data request: %s",
			    why);
		return -1;
	}
	if (multipart_parse(body, len, boundary, parts, MULTIPART_MAX_PARTS, &n, &why) < 0) {
		reply_error(c, 400, MODEL_MALFORMED,
			    "Invalid multipart/form-data body: the body %s", why);
		return -1;
	}
	c->body = json_object();
	*content = NULL;
	*content_len = 0;
	for (size_t i = 0; i < n; i++) {
		const struct multipart_part *p = &parts[i];
		if (strcmp(p->name, "content") == 0) {
			*content = p->data;
			*content_len = p->len;
			continue;
		}
		json_t *v = field_value(p);
		if (!v) {
			reply_error(
				c, 400, MODEL_INVALID,
				"Invalid multipart/form-data body: field '%s' is not UTF-8 text",
				p->name);
			return -1;
		}
		json_object_set_new(c->body, p->name, v);
	}
	return 0;
}

/* Parses a JSON body into c->body and decodes its base64 content into
 * *decoded (caller frees). 0, or -1 after replying. */
static int read_json(struct call *c, const char *body, size_t len, unsigned char **decoded,
		     size_t *content_len)
{
	json_error_t jerr;
	/* NUL bytes are allowed in, so that a path holding one is refused by
	 * name rather than as unparseable JSON. */
	json_t *v = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
	if (!json_is_object(v)) {
		json_decref(v);
		reply_error(c, 400, MODEL_MALFORMED,
			    "Invalid JSON given in the body of the request - failed to parse given "
			    "JSON: %s",
			    v ? "expected a JSON object" : jerr.text);
		return -1;
	}
	c->body = v;
	json_t *content = json_object_get(v, "content");
	*decoded = NULL;
	*content_len = 0;
	if (!content || json_is_null(content))
		return 0;
	if (!json_is_string(content)) {
		reply_error(c, 400, MODEL_MALFORMED,
			    "Could not parse request object: field 'content' must be a string");
		return -1;
	}
	size_t b64len = json_string_length(content);
	if (b64len / 4 * 3 > (size_t)WORKSPACE_MAX_CONTENT + 3) {
		reply_error(c, 400, "MAX_NOTEBOOK_SIZE_EXCEEDED",
			    "The content is over the 10 MB limit for a notebook or file");
		return -1;
	}
	if (base64_decode(json_string_value(content), b64len, decoded, content_len) < 0) {
		reply_error(c, 400, MODEL_INVALID, "Invalid content: it is not valid base64");
		return -1;
	}
	return 0;
}

static bool is_multipart(const char *ct)
{
	return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

static void ws_import(struct call *c)
{
	size_t too_large = http_body_too_large(c->req);
	if (too_large)
		return reply_error(c, 400, "MAX_NOTEBOOK_SIZE_EXCEEDED",
				   "The request body of %zu bytes is over the %ld-byte limit; a "
				   "notebook or file may hold at most 10 MB",
				   too_large, c->api->config->max_request_bytes);
	size_t len;
	const char *body = http_body(c->req, &len), *ct = http_header(c->req, "Content-Type");
	unsigned char *decoded = NULL;
	struct workspace_import imp = {0};
	const char *lang_name;
	enum workspace_lang lang = WORKSPACE_LANG_NONE;
	struct model_error err;
	int rc;
	const char *content = NULL;
	if (is_multipart(ct)) {
		rc = read_multipart(c, ct, body, len, &content, &imp.len);
	} else {
		rc = read_json(c, body, len, &decoded, &imp.len);
		content = (const char *)decoded;
	}
	if (rc < 0)
		goto out;
	imp.content = content ? content : "";
	if (arg_path(c, &imp.path, &imp.path_len) < 0 || arg_format(c, &imp.format) < 0 ||
	    (rc = arg_string(c, "language", false, &lang_name)) < 0 ||
	    arg_bool(c, "overwrite", &imp.overwrite) < 0)
		goto out;
	if (rc == 0 && workspace_lang_parse(lang_name, &lang) < 0) {
		reply_error(c, 400, MODEL_INVALID,
			    "Invalid language '%.64s': expected PYTHON, SQL, SCALA or R",
			    lang_name);
		goto out;
	}
	imp.lang = lang;
	if (workspace_import(c->api->workspace, &imp, &err) < 0)
		reply_model_error(c, &err);
	else
		reply_empty(c);
out:
	free(decoded);
}

/* --- mkdirs, delete ----------------------------------------------------------------------- */

static void ws_mkdirs(struct call *c)
{
	const char *path;
	size_t len;
	struct model_error err;
	if (arg_path(c, &path, &len) < 0)
		return;
	if (workspace_mkdirs(c->api->workspace, path, len, &err) < 0)
		return reply_model_error(c, &err);
	reply_empty(c);
}

static void ws_delete(struct call *c)
{
	const char *path;
	size_t len;
	bool recursive = false;
	struct model_error err;
	if (arg_path(c, &path, &len) < 0 || arg_bool(c, "recursive", &recursive) < 0)
		return;
	if (workspace_delete(c->api->workspace, path, len, recursive, &err) < 0)
		return reply_model_error(c, &err);
	reply_empty(c);
}

const struct route workspace_routes[] = {
	{"POST", "workspace/import", V20, ws_import, ROUTE_RAW_BODY},
	{"GET", "workspace/export", V20, ws_export, 0},
	{"GET", "workspace/get-status", V20, ws_get_status, 0},
	{"GET", "workspace/list", V20, ws_list, 0},
	{"POST", "workspace/mkdirs", V20, ws_mkdirs, 0},
	{"POST", "workspace/delete", V20, ws_delete, 0},
	{NULL, NULL, 0, NULL, 0},
};
