/* jsonio.h - JSON in and out for jobctl commands: reading --json arguments,
 * printing responses, and typed reads of response fields that tolerate absent
 * or mistyped members (a server may omit empty fields, as the API allows). */
#ifndef JOBCTL_JSONIO_H
#define JOBCTL_JSONIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest --json @file accepted: far above any job definition, and the server
 * refuses bodies over 10 MB anyway. */
#define JSONIO_MAX_INPUT_BYTES ((size_t)16 * 1024 * 1024)

/* Parse a --json argument: inline JSON text, or "@path" to read a file ("@-" is
 * standard input). The value must be an object. Returns a new reference, or NULL
 * with a message in err. */
json_t *jsonio_load_arg(const char *arg, char *err, size_t err_len);

/* Print v to stdout indented by two spaces, then a newline. */
void jsonio_print(const json_t *v);

/* obj[key] as a string, or NULL when absent or not a string. */
const char *jsonio_str(const json_t *obj, const char *key);

/* obj[key] as an integer; false when absent or not an integer. */
bool jsonio_int(const json_t *obj, const char *key, long long *out);

/* A scalar as display text (strings as is, integers in decimal, booleans as
 * true/false), or NULL for absent, null, arrays and objects. Caller frees. */
char *jsonio_scalar_text(const json_t *v);

#endif
