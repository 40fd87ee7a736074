/* args.c - parse jobctl's command line against tables of option specs (args.h).
 * No global state and no getopt: getopt_long permutes argv and stops at the first
 * positional in POSIX mode, and jobctl needs options both before and after the
 * command words with a table only known once the command is. */
#include "args.h"

#include <stdio.h>
#include <string.h>

static int register_specs(struct args *a, const struct opt_spec *table, char *err, size_t err_len)
{
	for (const struct opt_spec *s = table; s && s->name; s++) {
		if (a->nspecs == ARGS_MAX_OPTS) {
			snprintf(err, err_len, "internal error: too many options");
			return -1;
		}
		a->specs[a->nspecs++] = s;
	}
	return 0;
}

/* Index of the spec named by a long option (name_len bytes) or short letter. */
static int find_long(const struct args *a, const char *name, size_t name_len)
{
	for (size_t i = 0; i < a->nspecs; i++)
		if (strlen(a->specs[i]->name) == name_len &&
		    !strncmp(a->specs[i]->name, name, name_len))
			return (int)i;
	return -1;
}

static int find_short(const struct args *a, char c)
{
	for (size_t i = 0; i < a->nspecs; i++)
		if (a->specs[i]->short_name == c)
			return (int)i;
	return -1;
}

static int add_positional(struct args *a, const char *word, char *err, size_t err_len)
{
	if (a->npos == ARGS_MAX_POS) {
		snprintf(err, err_len, "too many arguments");
		return -1;
	}
	a->pos[a->npos++] = word;
	return 0;
}

/* Handle argv[*i], an option. Sets *unknown when the option is not in the table
 * (the caller decides whether that is an error). Advances *i past a value taken
 * from the next word. */
static int parse_option(struct args *a, int argc, char **argv, int *i, bool *unknown, char *err,
			size_t err_len)
{
	const char *word = argv[*i];
	const char *inline_value = NULL;
	int idx;

	if (word[1] == '-') {
		const char *name = word + 2;
		const char *eq = strchr(name, '=');
		size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
		inline_value = eq ? eq + 1 : NULL;
		idx = find_long(a, name, name_len);
	} else {
		idx = find_short(a, word[1]);
		if (idx >= 0 && word[2] != '\0')
			inline_value = word + 2;
	}
	if (idx < 0) {
		*unknown = true;
		snprintf(err, err_len, "unknown option '%s'", word);
		return -1;
	}

	const struct opt_spec *s = a->specs[idx];
	if (!s->takes_value) {
		if (inline_value) {
			snprintf(err, err_len, "option '--%s' takes no value", s->name);
			return -1;
		}
		a->values[idx] = "";
		return 0;
	}
	if (!inline_value) {
		if (*i + 1 >= argc) {
			snprintf(err, err_len, "option '--%s' needs a value", s->name);
			return -1;
		}
		inline_value = argv[++*i];
	}
	a->values[idx] = inline_value; /* repeated options: the last one wins */
	return 0;
}

int args_parse(struct args *a, int argc, char **argv, const struct opt_spec *global,
	       const struct opt_spec *local, bool stop_at_unknown, char *err, size_t err_len)
{
	*a = (struct args){0};
	if (register_specs(a, global, err, err_len) < 0 ||
	    register_specs(a, local, err, err_len) < 0)
		return -1;

	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *word = argv[i];
		bool is_option = !options_done && word[0] == '-' && word[1] != '\0';
		if (is_option && strcmp(word, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!is_option) {
			if (add_positional(a, word, err, err_len) < 0)
				return -1;
			continue;
		}
		bool unknown = false;
		if (parse_option(a, argc, argv, &i, &unknown, err, err_len) < 0) {
			if (unknown && stop_at_unknown)
				return 0;
			return -1;
		}
	}
	return 0;
}

const char *args_get(const struct args *a, const char *name)
{
	for (size_t i = 0; i < a->nspecs; i++)
		if (strcmp(a->specs[i]->name, name) == 0)
			return a->values[i];
	return NULL;
}

bool args_has(const struct args *a, const char *name) { return args_get(a, name) != NULL; }
