/* schema.h - declarative validation of JSON request objects.
 *
 * A struct sch_object lists the fields of one API object (JobSettings, Task,
 * CronSchedule, ...) with their types and limits; sch_validate walks a JSON
 * value against it and reports the first problem as a model_error whose
 * message names the field by its full path ("tasks[2].notebook_task.
 * notebook_path"). Wrong JSON types are MALFORMED_REQUEST ("Could not parse
 * request object: ..."), wrong values INVALID_PARAMETER_VALUE, as the real
 * service answers.
 *
 * Validation also normalizes in place: members whose value is null are
 * removed (null means "not set" in the API's JSON), and integers given as
 * decimal strings become integers (the proto3 JSON mapping allows both).
 * Fields the schema does not know are kept untouched, so clients newer than
 * jobsd round-trip their settings.
 *
 * Paths are chains of stack nodes (struct sch_path) rendered to text only
 * when an error is reported, so a valid request costs no string work.
 *
 * Pure functions over jansson values; any thread.
 */
#ifndef JOBSD_MODEL_SCHEMA_H
#define JOBSD_MODEL_SCHEMA_H

#include <jansson.h>
#include <stdint.h>

#include "model/error.h"

enum sch_kind {
	SK_STRING,
	SK_INT32,
	SK_INT64,
	SK_BOOL,
	SK_NUMBER,
	SK_OBJECT, /* a nested object described by .obj */
	SK_ARRAY,  /* elements of kind .elem (and .obj / .enums for them) */
	SK_STRMAP, /* object whose values are all strings */
	SK_MAP,	   /* object with any values */
	SK_ANY,	   /* any JSON value */
	SK_ENUM,   /* a string from .enums */
};

enum sch_flags {
	SF_REQUIRED = 1 << 0,
	SF_ASCII = 1 << 1,    /* strings (or string elements) must be ASCII */
	SF_NONEMPTY = 1 << 2, /* strings, arrays: must not be empty */
	SF_RANGE = 1 << 3,    /* integers: .min <= v <= .max */
};

struct sch_object;

/* Where a value sits in the request: a member of its parent, an element of
 * an array, or the root (a prefix such as "new_settings", possibly ""). */
struct sch_path {
	const struct sch_path *up; /* NULL at the root */
	const char *member;	   /* member name, or NULL for an array element */
	size_t index;		   /* array index when member is NULL */
	const char *root;	   /* only at the root */
};

/* Renders a path as "tasks[2].notebook_task.notebook_path". */
void sch_path_render(const struct sch_path *p, char *out, size_t n);
/* The same, returning buf, for use as a printf argument. */
const char *sch_path_text(const struct sch_path *p, char *buf, size_t n);
#define SCH_PATH_TEXT 512

/* Extra per-field or per-object rule; returns 0 or model_fail(...). */
typedef int (*sch_check_fn)(json_t *value, const struct sch_path *path, struct model_error *err);

struct sch_field {
	const char *name;
	enum sch_kind kind;
	unsigned flags;
	const struct sch_object *obj; /* SK_OBJECT, or SK_ARRAY of SK_OBJECT */
	enum sch_kind elem;	      /* SK_ARRAY element kind */
	const char *const *enums;     /* SK_ENUM, or SK_ARRAY of SK_ENUM; NULL-terminated */
	int64_t min, max;	      /* SF_RANGE bounds; for strings/arrays/maps max > 0 caps
					 bytes/items */
	sch_check_fn check;
};

struct sch_object {
	const char *name;
	const struct sch_field *fields; /* terminated by a field with name NULL */
	sch_check_fn check;		/* runs after the fields validated */
};

/* Validates (and normalizes) value against o. path is the path of value
 * itself ("" at the top of a request). 0, or -1 with err filled. */
int sch_validate(const struct sch_object *o, json_t *value, const char *path,
		 struct model_error *err);

/* Joins path and a member name: "a.b" ("b" when path is empty). */
void sch_path_member(char *out, size_t n, const char *path, const char *name);
/* Joins path and an index: "a[3]". */
void sch_path_index(char *out, size_t n, const char *path, size_t index);

/* Names of JSON types for messages: "a string", "an integer", ... */
const char *sch_json_type_name(const json_t *v);

/* How many of the named members are present in obj. */
int sch_count_present(const json_t *obj, const char *const *names);

#endif
