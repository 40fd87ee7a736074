/* jsonio.c - --json argument parsing, response printing and field access
 * (contract in jsonio.h). */
#include "jsonio.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse_object(const char *text, size_t len, const char *what, char *err,
			    size_t err_len)
{
	json_error_t jerr;
	json_t *v = json_loadb(text, len, 0, &jerr);
	if (!v) {
		snprintf(err, err_len, "invalid JSON in %s: %s (line %d, column %d)", what,
			 jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		snprintf(err, err_len, "%s must be a JSON object", what);
		json_decref(v);
		return NULL;
	}
	return v;
}

json_t *jsonio_load_arg(const char *arg, char *err, size_t err_len)
{
	if (arg[0] != '@')
		return parse_object(arg, strlen(arg), "--json", err, err_len);

	char *text;
	size_t len;
	if (read_file_capped(arg + 1, JSONIO_MAX_INPUT_BYTES, &text, &len, err, err_len) < 0)
		return NULL;
	char *what = xasprintf("'%s'", arg + 1);
	json_t *v = parse_object(text, len, what, err, err_len);
	free(what);
	free(text);
	return v;
}

void jsonio_print(const json_t *v)
{
	/* Objects keep the server's key order: jansson preserves insertion order. */
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

const char *jsonio_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool jsonio_int(const json_t *obj, const char *key, long long *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

char *jsonio_scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	return NULL;
}
