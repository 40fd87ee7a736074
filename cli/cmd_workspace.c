/* cmd_workspace.c - `jobctl workspace ...`: import, export, list, mkdirs,
 * delete and get-status through /api/2.0/workspace/....
 *
 * Content travels base64-encoded inside JSON both ways (import's "content",
 * export's "content"), so files are encoded and decoded here; export writes
 * the decoded bytes to --file or standard output. */
#include "client.h"
#include "command.h"
#include "jsonio.h"
#include "table.h"
#include "util.h"
#include "util/base64.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Local files larger than this are refused before upload; the server's own
 * limit (10 MB of notebook) is lower and it says so itself. */
#define IMPORT_MAX_FILE_BYTES ((size_t)64 * 1024 * 1024)

static const char *const import_formats[] = {"SOURCE", "JUPYTER", "AUTO", "RAW", NULL};
static const char *const export_formats[] = {"SOURCE", "JUPYTER", NULL};
static const char *const languages[] = {"PYTHON", "SQL", "SCALA", "R", NULL};

/* The upper-cased value if it is one of allowed (the API's enums are upper
 * case; users type either), else NULL. Caller frees. */
static char *enum_value(const char *value, const char *const *allowed)
{
	char *up = xstrdup(value);
	for (char *p = up; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	for (const char *const *a = allowed; *a; a++)
		if (strcmp(up, *a) == 0)
			return up;
	free(up);
	return NULL;
}

/* Validate option `name` against allowed; *out = NULL when the option is absent. */
static int enum_option(const struct session *s, const struct args *a, const char *name,
		       const char *const *allowed, char **out)
{
	const char *v = args_get(a, name);
	*out = v ? enum_value(v, allowed) : NULL;
	if (v && !*out) {
		struct strbuf choices = {0};
		for (const char *const *p = allowed; *p; p++)
			strbuf_addf(&choices, "%s%s", p == allowed ? "" : ", ", *p);
		int rc = usage_failure(s, "--%s must be one of %s, not '%s'", name, choices.buf, v);
		strbuf_release(&choices);
		return rc;
	}
	return EXIT_OK;
}

/* The language a SOURCE import implies from the file name, as the Python SDK's
 * upload() infers it; NULL when the extension says nothing. */
static const char *language_from_extension(const char *file)
{
	const char *dot = strrchr(file, '.');
	if (!dot || strchr(dot, '/'))
		return NULL;
	if (strcmp(dot, ".py") == 0)
		return "PYTHON";
	if (strcmp(dot, ".sql") == 0)
		return "SQL";
	if (strcmp(dot, ".scala") == 0)
		return "SCALA";
	if (strcmp(dot, ".r") == 0 || strcmp(dot, ".R") == 0)
		return "R";
	return NULL;
}

/* --- import ------------------------------------------------------------------ */

/* The base64 content to send: --content as given, or --file encoded. */
static int import_content(const struct session *s, const struct args *a, char **out)
{
	const char *file = args_get(a, "file");
	const char *content = args_get(a, "content");
	if (!file == !content)
		return usage_failure(s, "give exactly one of --file and --content");
	if (content) {
		*out = xstrdup(content);
		return EXIT_OK;
	}
	char *data, err[512];
	size_t len;
	if (read_file_capped(file, IMPORT_MAX_FILE_BYTES, &data, &len, err, sizeof(err)) < 0)
		return usage_failure(s, "%s", err);
	*out = base64_encode(data, len);
	free(data);
	return *out ? EXIT_OK : usage_failure(s, "'%s' is too large", file);
}

static int workspace_import(struct session *s, const struct args *a)
{
	char *format = NULL, *language = NULL, *content = NULL;
	int rc = enum_option(s, a, "format", import_formats, &format);
	if (!rc)
		rc = enum_option(s, a, "language", languages, &language);
	if (!rc)
		rc = import_content(s, a, &content);
	if (rc)
		goto out;

	const char *file = args_get(a, "file");
	const char *lang = language;
	if (!lang && file && (!format || strcmp(format, "SOURCE") == 0))
		lang = language_from_extension(file);

	json_t *body = json_pack("{s:s, s:s}", "path", a->pos[0], "content", content);
	if (format)
		json_object_set_new(body, "format", json_string(format));
	if (lang)
		json_object_set_new(body, "language", json_string(lang));
	if (args_has(a, "overwrite"))
		json_object_set_new(body, "overwrite", json_true());
	rc = command_post_quietly(s, "/api/2.0/workspace/import", body);
out:
	free(content);
	free(language);
	free(format);
	return rc;
}

/* --- export ------------------------------------------------------------------ */

/* Write len bytes to path, or to stdout when path is NULL. A partly written
 * file is removed so a failed export leaves nothing that looks complete. */
static int write_output(const char *path, const unsigned char *data, size_t len)
{
	if (!path) {
		fwrite(data, 1, len, stdout);
		return EXIT_OK; /* main() checks stdout for errors once, at exit */
	}
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return runtime_failure("cannot open '%s': %s", path, strerror(errno));
	bool ok = fwrite(data, 1, len, fp) == len;
	int saved = errno;
	if (fclose(fp) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		unlink(path);
		return runtime_failure("cannot write '%s': %s", path, strerror(saved));
	}
	return EXIT_OK;
}

/* Decode the export's content and write it where the user asked. */
static int save_export(const json_t *resp, const char *file)
{
	const char *content = jsonio_str(resp, "content");
	if (!content)
		return runtime_failure("the server's answer has no content");
	unsigned char *data;
	size_t len;
	if (base64_decode(content, strlen(content), &data, &len) < 0)
		return runtime_failure("the server's answer holds invalid base64 content");
	int rc = write_output(file, data, len);
	free(data);
	return rc;
}

static int workspace_export(struct session *s, const struct args *a)
{
	char *format;
	int rc = enum_option(s, a, "format", export_formats, &format);
	if (rc)
		return rc;
	struct query_param q[] = {{"path", a->pos[0]}, {"format", format}};
	json_t *resp = NULL;
	rc = client_get(s->client, "/api/2.0/workspace/export", q, 2, &resp) < 0 ? api_failure(s)
										 : 0;
	free(format);
	if (rc)
		return rc;
	const char *file = args_get(a, "file");
	/* json mode prints the server's answer; the decoded bytes still go to --file. */
	if (file || s->output == OUTPUT_TEXT)
		rc = save_export(resp, file);
	if (!rc && s->output == OUTPUT_JSON)
		jsonio_print(resp);
	json_decref(resp);
	return rc;
}

/* --- list, get-status -------------------------------------------------------- */

static int get_path(struct session *s, const char *api, const char *path, json_t **out)
{
	struct query_param q[] = {{"path", path}};
	return client_get(s->client, api, q, 1, out) < 0 ? api_failure(s) : EXIT_OK;
}

static void print_object_table(const json_t *objects)
{
	static const char *const headers[] = {"TYPE", "LANGUAGE", "PATH"};
	struct table *t = table_new(3, headers);
	size_t i;
	json_t *o;
	json_array_foreach (objects, i, o) {
		const char *row[] = {jsonio_str(o, "object_type"), jsonio_str(o, "language"),
				     jsonio_str(o, "path")};
		table_add_row(t, row);
	}
	table_print(t);
	table_free(t);
}

static int workspace_list(struct session *s, const struct args *a)
{
	json_t *resp = NULL;
	int rc = get_path(s, "/api/2.0/workspace/list", a->pos[0], &resp);
	if (rc)
		return rc;
	if (s->output == OUTPUT_JSON)
		jsonio_print(resp);
	else
		print_object_table(json_object_get(resp, "objects")); /* absent when empty */
	json_decref(resp);
	return EXIT_OK;
}

static void print_time_field(const char *label, const json_t *obj, const char *key)
{
	long long ms = 0;
	char buf[32];
	jsonio_int(obj, key, &ms);
	format_time_ms(ms, buf, sizeof(buf));
	print_field(label, buf);
}

static void print_object_info(const json_t *o)
{
	char *id = jsonio_scalar_text(json_object_get(o, "object_id"));
	char *size = jsonio_scalar_text(json_object_get(o, "size"));
	print_field("Path", jsonio_str(o, "path"));
	print_field("Type", jsonio_str(o, "object_type"));
	print_field("Language", jsonio_str(o, "language"));
	print_field("Object ID", id);
	print_field("Size", size);
	print_time_field("Created", o, "created_at");
	print_time_field("Modified", o, "modified_at");
	free(size);
	free(id);
}

static int workspace_get_status(struct session *s, const struct args *a)
{
	json_t *resp = NULL;
	int rc = get_path(s, "/api/2.0/workspace/get-status", a->pos[0], &resp);
	if (rc)
		return rc;
	if (s->output == OUTPUT_JSON)
		jsonio_print(resp);
	else
		print_object_info(resp);
	json_decref(resp);
	return EXIT_OK;
}

/* --- mkdirs, delete ---------------------------------------------------------- */

static int workspace_mkdirs(struct session *s, const struct args *a)
{
	json_t *body = json_pack("{s:s}", "path", a->pos[0]);
	return command_post_quietly(s, "/api/2.0/workspace/mkdirs", body);
}

static int workspace_delete(struct session *s, const struct args *a)
{
	json_t *body = json_pack("{s:s}", "path", a->pos[0]);
	if (args_has(a, "recursive"))
		json_object_set_new(body, "recursive", json_true());
	return command_post_quietly(s, "/api/2.0/workspace/delete", body);
}

/* --- table ------------------------------------------------------------------- */

static const struct opt_spec import_opts[] = {
	{"file", 0, true, "LOCAL", "local file to upload (- for standard input)", true},
	{"content", 0, true, "BASE64", "content to upload, already base64-encoded"},
	{"format", 0, true, "FORMAT", "SOURCE (default), JUPYTER, AUTO or RAW"},
	{"language", 0, true, "LANG",
	 "PYTHON, SQL, SCALA or R (SOURCE: default from the file name)"},
	{"overwrite", 0, false, NULL, "replace an existing object"},
	{NULL},
};

static const struct opt_spec export_opts[] = {
	{"format", 0, true, "FORMAT", "SOURCE (default) or JUPYTER"},
	{"file", 0, true, "OUT", "write to this file instead of standard output", true},
	{NULL},
};

static const struct opt_spec delete_opts[] = {
	{"recursive", 0, false, NULL, "also delete a non-empty directory's contents"},
	{NULL},
};

const struct command workspace_commands[] = {
	{"workspace", "import",
	 "PATH (--file LOCAL | --content BASE64) [--format FORMAT] [--language LANG] [--overwrite]",
	 "upload a notebook or file to the workspace", import_opts, 1, 1, true, workspace_import},
	{"workspace", "export", "PATH [--format FORMAT] [--file OUT]",
	 "download a notebook or file from the workspace", export_opts, 1, 1, true,
	 workspace_export},
	{"workspace", "list", "PATH", "list a workspace directory", NULL, 1, 1, true,
	 workspace_list},
	{"workspace", "mkdirs", "PATH", "create a directory and its parents", NULL, 1, 1, true,
	 workspace_mkdirs},
	{"workspace", "delete", "PATH [--recursive]", "delete a notebook, file or directory",
	 delete_opts, 1, 1, true, workspace_delete},
	{"workspace", "get-status", "PATH", "show what a workspace path is", NULL, 1, 1, true,
	 workspace_get_status},
	{NULL},
};
