/* schema.c - see schema.h.
 *
 * The walk visits only the members a request has (plus a check for missing
 * required fields), looks each up in its object's field table, and carries
 * its position as a chain of stack-allocated sch_path nodes. Nothing is
 * formatted unless something is wrong.
 */
#include "model/schema.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sch_path_member(char *out, size_t n, const char *path, const char *name)
{
	if (path && *path)
		snprintf(out, n, "%s.%s", path, name);
	else
		snprintf(out, n, "%s", name);
}

void sch_path_index(char *out, size_t n, const char *path, size_t index)
{
	snprintf(out, n, "%s[%zu]", path, index);
}

void sch_path_render(const struct sch_path *p, char *out, size_t n)
{
	if (!p->up) {
		snprintf(out, n, "%s", p->root ? p->root : "");
		return;
	}
	sch_path_render(p->up, out, n);
	size_t used = strlen(out);
	if (p->member)
		snprintf(out + used, n - used, "%s%s", used ? "." : "", p->member);
	else
		snprintf(out + used, n - used, "[%zu]", p->index);
}

const char *sch_path_text(const struct sch_path *p, char *buf, size_t n)
{
	sch_path_render(p, buf, n);
	return buf;
}

const char *sch_json_type_name(const json_t *v)
{
	if (!v)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

int sch_count_present(const json_t *obj, const char *const *names)
{
	int n = 0;
	for (; *names; names++)
		if (json_object_get(obj, *names))
			n++;
	return n;
}

static const char *kind_name(enum sch_kind k)
{
	switch (k) {
	case SK_STRING:
	case SK_ENUM: return "a string";
	case SK_INT32:
	case SK_INT64: return "an integer";
	case SK_BOOL: return "a boolean";
	case SK_NUMBER: return "a number";
	case SK_OBJECT:
	case SK_STRMAP:
	case SK_MAP: return "an object";
	case SK_ARRAY: return "an array";
	case SK_ANY: return "a value";
	}
	return "a value";
}

static int type_error(struct model_error *err, const struct sch_path *path, enum sch_kind want,
		      const json_t *v)
{
	char w[SCH_PATH_TEXT];
	return model_fail(err, 400, MODEL_MALFORMED,
			  "Could not parse request object: field '%s' must be %s, not %s",
			  sch_path_text(path, w, sizeof(w)), kind_name(want),
			  sch_json_type_name(v));
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 0x7f)
			return false;
	return true;
}

/* Accepts an integer, or a decimal string (proto3 JSON); the string is
 * replaced by the integer in its container via *slot. */
static int check_integer(json_t **slot, enum sch_kind kind, const struct sch_field *f,
			 const struct sch_path *path, struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	json_t *v = *slot;
	if (json_is_string(v)) {
		/* proto3 JSON: integers may come as decimal strings; strictly
		 * digits with an optional '-', no spaces or '+'. */
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		long long n = (*s == '-' || (*s >= '0' && *s <= '9')) ? strtoll(s, &end, 10) : 0;
		if (!(*s == '-' || (*s >= '0' && *s <= '9')) || errno || end == s || *end)
			return type_error(err, path, kind, v);
		*slot = json_integer(n);
		v = *slot;
	}
	if (!json_is_integer(v))
		return type_error(err, path, kind, v);
	json_int_t n = json_integer_value(v);
	if (kind == SK_INT32 && (n < INT32_MIN || n > INT32_MAX))
		return model_fail(err, 400, MODEL_INVALID,
				  "Invalid value for field '%s': %lld does not fit in 32 bits",
				  sch_path_text(path, w, sizeof(w)), (long long)n);
	if ((f->flags & SF_RANGE) && (n < f->min || n > f->max))
		return model_fail(
			err, 400, MODEL_INVALID,
			"Invalid value for field '%s': %lld is out of range (%lld to %lld)",
			sch_path_text(path, w, sizeof(w)), (long long)n, (long long)f->min,
			(long long)f->max);
	return 0;
}

static int check_string(const json_t *v, const struct sch_field *f, const struct sch_path *path,
			struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	if (!json_is_string(v))
		return type_error(err, path, SK_STRING, v);
	size_t len = json_string_length(v);
	if ((f->flags & SF_NONEMPTY) && len == 0)
		return model_fail(err, 400, MODEL_INVALID, "Field '%s' must not be empty",
				  sch_path_text(path, w, sizeof(w)));
	if (f->max > 0 && (int64_t)len > f->max)
		return model_fail(err, 400, MODEL_INVALID,
				  "Field '%s' is too long: %zu bytes (at most %lld)",
				  sch_path_text(path, w, sizeof(w)), len, (long long)f->max);
	if ((f->flags & SF_ASCII) && !is_ascii(json_string_value(v)))
		return model_fail(err, 400, MODEL_INVALID,
				  "Field '%s' accepts only ASCII characters",
				  sch_path_text(path, w, sizeof(w)));
	return 0;
}

static int check_enum(const json_t *v, const struct sch_field *f, const struct sch_path *path,
		      struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	if (!json_is_string(v))
		return type_error(err, path, SK_ENUM, v);
	const char *s = json_string_value(v);
	for (const char *const *e = f->enums; *e; e++)
		if (strcmp(s, *e) == 0)
			return 0;
	char allowed[512] = "";
	size_t used = 0;
	for (const char *const *e = f->enums; *e && used < sizeof(allowed); e++)
		used += (size_t)snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
					 e == f->enums ? "" : ", ", *e);
	return model_fail(err, 400, MODEL_INVALID,
			  "Invalid value '%.100s' for field '%s': expected one of %s", s,
			  sch_path_text(path, w, sizeof(w)), allowed);
}

static int check_count(size_t n, const struct sch_field *f, const struct sch_path *path,
		       struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	if ((f->flags & SF_NONEMPTY) && n == 0)
		return model_fail(err, 400, MODEL_INVALID, "Field '%s' must not be empty",
				  sch_path_text(path, w, sizeof(w)));
	if (f->max > 0 && (int64_t)n > f->max)
		return model_fail(err, 400, MODEL_INVALID,
				  "Field '%s' has %zu entries (at most %lld)",
				  sch_path_text(path, w, sizeof(w)), n, (long long)f->max);
	return 0;
}

static int validate_object(const struct sch_object *o, json_t *value, const struct sch_path *path,
			   struct model_error *err);
static int validate_value(const struct sch_field *f, enum sch_kind kind, json_t **slot,
			  const struct sch_path *path, struct model_error *err);

static int validate_array(const struct sch_field *f, json_t *v, const struct sch_path *path,
			  struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	if (!json_is_array(v))
		return type_error(err, path, SK_ARRAY, v);
	if (check_count(json_array_size(v), f, path, err))
		return -1;
	/* The array's own limits (max items, non-empty) do not apply to each
	 * element; only ASCII-ness and the element schema do. */
	struct sch_field elem = {
		.name = f->name,
		.kind = f->elem,
		.flags = f->flags & SF_ASCII,
		.obj = f->obj,
		.enums = f->enums,
	};
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *el = json_array_get(v, i), *orig = el;
		struct sch_path sub = {.up = path, .index = i};
		if (json_is_null(el))
			return model_fail(err, 400, MODEL_MALFORMED,
					  "Could not parse request object: '%s' must not be null",
					  sch_path_text(&sub, w, sizeof(w)));
		int rc = validate_value(&elem, f->elem, &el, &sub, err);
		if (el != orig) /* stored even on error: the array owns it then */
			json_array_set_new(v, i, el);
		if (rc)
			return -1;
	}
	return 0;
}

static int validate_map(const struct sch_field *f, json_t *v, const struct sch_path *path,
			bool strings, struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	if (!json_is_object(v))
		return type_error(err, path, SK_OBJECT, v);
	if (check_count(json_object_size(v), f, path, err))
		return -1;
	if (!strings)
		return 0;
	const char *key;
	json_t *val;
	json_object_foreach (v, key, val) {
		struct sch_path sub = {.up = path, .member = key};
		if (!json_is_string(val))
			return type_error(err, &sub, SK_STRING, val);
		if ((f->flags & SF_ASCII) && (!is_ascii(key) || !is_ascii(json_string_value(val))))
			return model_fail(err, 400, MODEL_INVALID,
					  "Field '%s' accepts only ASCII characters",
					  sch_path_text(&sub, w, sizeof(w)));
	}
	return 0;
}

/* Validates the value in *slot as `kind` (f's own kind, or its element kind
 * for arrays); may replace *slot with a new reference the caller stores. */
static int validate_value(const struct sch_field *f, enum sch_kind kind, json_t **slot,
			  const struct sch_path *path, struct model_error *err)
{
	json_t *v = *slot;
	int rc = 0;
	switch (kind) {
	case SK_STRING: rc = check_string(v, f, path, err); break;
	case SK_ENUM: rc = check_enum(v, f, path, err); break;
	case SK_INT32:
	case SK_INT64: rc = check_integer(slot, kind, f, path, err); break;
	case SK_BOOL:
		if (!json_is_boolean(v))
			rc = type_error(err, path, kind, v);
		break;
	case SK_NUMBER:
		if (!json_is_number(v))
			rc = type_error(err, path, kind, v);
		break;
	case SK_OBJECT: rc = validate_object(f->obj, v, path, err); break;
	case SK_ARRAY: rc = validate_array(f, v, path, err); break;
	case SK_STRMAP: rc = validate_map(f, v, path, true, err); break;
	case SK_MAP: rc = validate_map(f, v, path, false, err); break;
	case SK_ANY: break;
	}
	if (rc)
		return rc;
	return f->check ? f->check(*slot, path, err) : 0;
	return 0;
}

static const struct sch_field *find_field(const struct sch_object *o, const char *name)
{
	for (const struct sch_field *f = o->fields; f->name; f++)
		if (f->name[0] == name[0] && strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static int validate_object(const struct sch_object *o, json_t *value, const struct sch_path *path,
			   struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	if (!json_is_object(value))
		return type_error(err, path, SK_OBJECT, value);

	/* Walk the members present: few, where the schema lists many. null
	 * means unset, so such members are dropped first. */
	const char *key;
	json_t *val;
	void *tmp;
	int required_seen = 0;
	json_object_foreach_safe (value, tmp, key, val) {
		if (json_is_null(val)) {
			json_object_del(value, key);
			continue;
		}
		const struct sch_field *f = find_field(o, key);
		if (!f)
			continue; /* unknown: kept as given */
		if (f->flags & SF_REQUIRED)
			required_seen++;
		struct sch_path sub = {.up = path, .member = f->name};
		json_t *v = val;
		int rc = validate_value(f, f->kind, &v, &sub, err);
		if (v != val) /* stored even on error: the object owns it then */
			json_object_set_new(value, f->name, v);
		if (rc)
			return -1;
	}
	int required = 0;
	for (const struct sch_field *f = o->fields; f->name; f++)
		required += (f->flags & SF_REQUIRED) != 0;
	if (required_seen < required) {
		for (const struct sch_field *f = o->fields; f->name; f++) {
			if ((f->flags & SF_REQUIRED) && !json_object_get(value, f->name)) {
				struct sch_path sub = {.up = path, .member = f->name};
				return model_fail(err, 400, MODEL_INVALID,
						  "Missing required field: %s",
						  sch_path_text(&sub, w, sizeof(w)));
			}
		}
	}
	return o->check ? o->check(value, path, err) : 0;
}

int sch_validate(const struct sch_object *o, json_t *value, const char *path,
		 struct model_error *err)
{
	struct sch_path root = {.root = path};
	if (!json_is_object(value))
		return model_fail(
			err, 400, MODEL_MALFORMED,
			"Could not parse request object: %s%s%s must be an object, not %s",
			*path ? "field '" : "", *path ? path : "the body", *path ? "'" : "",
			sch_json_type_name(value));
	return validate_object(o, value, &root, err);
}
