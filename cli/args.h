/* args.h - command-line option parsing for jobctl.
 *
 * jobctl accepts options anywhere on the line, before or after the command words
 * (`jobctl -o json jobs list` and `jobctl jobs list -o json` mean the same), like
 * the Databricks CLI. A parse is driven by one table of option specs (the global
 * options plus those of the command being run); everything that is not an option
 * or an option's value is a positional word, in order. `--` ends option parsing.
 *
 * Accepted forms: `--name value`, `--name=value`, `-x value`, `-xvalue`, `--flag`.
 * Parsed values point into argv, so they live as long as argv does. */
#ifndef JOBCTL_ARGS_H
#define JOBCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

struct opt_spec {
	const char *name; /* long name without the leading "--" */
	char short_name;  /* 0 when there is none */
	bool takes_value;
	const char *value_name; /* shown in usage, e.g. "JSON"; NULL for flags */
	const char *help;
	/* The value is a local file name or is parsed by its user (--json), so it
	 * is passed on as bytes; other values go into JSON and must be UTF-8. */
	bool raw_bytes;
};

/* Upper bounds of one command line; more is a usage error, never an overflow. */
#define ARGS_MAX_OPTS 32
#define ARGS_MAX_POS  16

struct args {
	const struct opt_spec *specs[ARGS_MAX_OPTS];
	const char *values[ARGS_MAX_OPTS]; /* NULL = not given; "" for a given flag */
	size_t nspecs;
	const char *pos[ARGS_MAX_POS];
	size_t npos;
};

/* Parse argv[1..argc-1] against the union of the NULL-name-terminated tables
 * `global` and `local` (local may be NULL). With stop_at_unknown, parsing stops
 * quietly at the first unknown option instead of failing: the dispatcher uses
 * that to find the command words before it knows the command's own options.
 * Returns 0, or -1 with a message for the user in err. */
int args_parse(struct args *a, int argc, char **argv, const struct opt_spec *global,
	       const struct opt_spec *local, bool stop_at_unknown, char *err, size_t err_len);

/* Value of option `name` ("" for a flag that was given), or NULL when absent. */
const char *args_get(const struct args *a, const char *name);
bool args_has(const struct args *a, const char *name);

#endif
