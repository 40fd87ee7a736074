/* jobctl.c - entry point of jobctl, the command-line client of jobsd (and of
 * any server speaking the Databricks Jobs / Workspace REST API).
 *
 * main() finds the command words, parses the whole line against the global
 * options plus that command's own, resolves host and token (config.c), opens
 * the HTTP client (client.c), runs the command (cmd_*.c) and returns its exit
 * status: 0 success, 1 the server said no or could not be reached, 2 usage or
 * configuration error. libcurl's global state is initialized only for commands
 * that talk to a server, once, and cleaned up before main() returns. */
#include "client.h"
#include "command.h"
#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options every command accepts, before or after the command words. */
static const struct opt_spec global_opts[] = {
	{"host", 0, true, "URL", "server URL (else $DATABRICKS_HOST, else the profile)", true},
	{"token", 0, true, "TOKEN", "access token (else $DATABRICKS_TOKEN, else the profile)",
	 true},
	{"profile", 0, true, "NAME",
	 "profile of ~/.databrickscfg (else $DATABRICKS_CONFIG_PROFILE, else DEFAULT)", true},
	{"output", 'o', true, "FORMAT", "text (tables, the default) or json"},
	{"insecure", 0, false, NULL, "do not verify the server's TLS certificate"},
	{"help", 'h', false, NULL, "show help and exit"},
	{NULL},
};

static int version_run(struct session *s, const struct args *a);

static const struct command top_commands[] = {
	{NULL, "version", "", "print jobctl's version", NULL, 0, 0, false, version_run},
	{NULL},
};

struct group {
	const char *name;
	const char *summary;
	const struct command *commands;
};

static const struct group groups[] = {
	{"jobs", "create, read, update and delete jobs", jobs_commands},
	{"workspace", "import, export and manage notebooks and files", workspace_commands},
	{"tokens", "create, list and revoke access tokens", tokens_commands},
	{"users", "add and list users", users_commands},
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static int version_run(struct session *s, const struct args *a)
{
	(void)a;
	if (s->output == OUTPUT_JSON)
		printf("{\n  \"version\": \"%s\"\n}\n", JOBCTL_VERSION);
	else
		printf("jobctl %s\n", JOBCTL_VERSION);
	return EXIT_OK;
}

/* --- usage ------------------------------------------------------------------ */

static void print_options(FILE *out, const struct opt_spec *opts)
{
	for (const struct opt_spec *o = opts; o && o->name; o++) {
		char left[64];
		const char *value = o->value_name ? o->value_name : "";
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 *value ? " " : "", value);
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, *value ? " " : "",
				 value);
		fprintf(out, "  %-28s%s\n", left, o->help);
	}
}

/* A summary ("list jobs") as a sentence ("List jobs."), on its own line. */
static void print_sentence(FILE *out, const char *summary)
{
	fprintf(out, "%c%s.\n", toupper((unsigned char)summary[0]), summary + 1);
}

static void print_command_usage(FILE *out, const struct command *c)
{
	fputs("Usage: ", out);
	command_print_line(out, c);
	fputs("\n\n", out);
	print_sentence(out, c->summary);
	if (c->opts) {
		fputs("\nOptions:\n", out);
		print_options(out, c->opts);
	}
	fputs("\nGlobal options:\n", out);
	print_options(out, global_opts);
}

static void print_group_usage(FILE *out, const struct group *g)
{
	fprintf(out, "Usage: jobctl %s COMMAND [arguments] [options]\n\n", g->name);
	print_sentence(out, g->summary);
	fputs("\nCommands:\n", out);
	for (const struct command *c = g->commands; c->name; c++) {
		fputs("  ", out);
		command_print_line(out, c);
		fprintf(out, "\n      %s\n", c->summary);
	}
	fprintf(out, "\nRun 'jobctl %s COMMAND --help' for a command's options.\n", g->name);
}

static void print_usage(FILE *out)
{
	fputs("jobctl - command-line client for jobsd and the Databricks Jobs API\n\n"
	      "Usage: jobctl [global options] GROUP COMMAND [arguments] [options]\n\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < NGROUPS; i++)
		for (const struct command *c = groups[i].commands; c->name; c++)
			fprintf(out, "  %-10s %-12s %s\n", groups[i].name, c->name, c->summary);
	for (const struct command *c = top_commands; c->name; c++)
		fprintf(out, "  %-23s %s\n", c->name, c->summary);
	fputs("\nGlobal options (accepted before or after the command):\n", out);
	print_options(out, global_opts);
	fputs("\nThe host and token come from --host/--token, else "
	      "DATABRICKS_HOST/DATABRICKS_TOKEN,\n"
	      "else a profile of ~/.databrickscfg ($DATABRICKS_CONFIG_FILE): the one named by\n"
	      "--profile or DATABRICKS_CONFIG_PROFILE, else [DEFAULT].\n"
	      "Exit status: 0 success, 1 error reported by the server, 2 usage or configuration "
	      "error.\n",
	      out);
}

/* --- dispatch ---------------------------------------------------------------- */

static const struct command *find_in(const struct command *table, const char *name)
{
	for (const struct command *c = table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static const struct group *find_group(const char *name)
{
	for (size_t i = 0; i < NGROUPS; i++)
		if (strcmp(groups[i].name, name) == 0)
			return &groups[i];
	return NULL;
}

/* Help for the words seen so far, or the parse error that stopped the search
 * for the command words. */
static int help_or_error(const char *err, bool help, const struct group *g)
{
	if (err[0] && !help)
		return command_usage_failure(NULL, "%s", err);
	FILE *out = help ? stdout : stderr;
	if (g)
		print_group_usage(out, g);
	else
		print_usage(out);
	return help ? EXIT_OK : EXIT_USAGE;
}

/* Identify the command from the words before the first non-global option.
 * Returns the command, or NULL after printing help or an error, with the exit
 * status in *rc. */
static const struct command *find_command(int argc, char **argv, int *rc)
{
	char err[256] = "";
	struct args first;
	if (args_parse(&first, argc, argv, global_opts, NULL, true, err, sizeof(err)) < 0) {
		*rc = command_usage_failure(NULL, "%s", err);
		return NULL;
	}
	bool help = args_has(&first, "help");
	if (first.npos == 0) {
		*rc = help_or_error(err, help, NULL);
		return NULL;
	}
	if (strcmp(first.pos[0], "help") == 0) {
		*rc = help_or_error("", true, NULL);
		return NULL;
	}
	const struct command *top = find_in(top_commands, first.pos[0]);
	if (top)
		return top;
	const struct group *g = find_group(first.pos[0]);
	if (!g) {
		*rc = command_usage_failure(NULL, "unknown command '%s'", first.pos[0]);
		return NULL;
	}
	if (first.npos < 2) {
		*rc = help_or_error(err, help, g);
		return NULL;
	}
	const struct command *c = find_in(g->commands, first.pos[1]);
	if (!c)
		*rc = command_usage_failure(NULL, "unknown command '%s %s'", g->name, first.pos[1]);
	return c;
}

/* Parse the full line for command c and drop the command words from the
 * positionals. Returns EXIT_OK, or an exit status after printing. */
static int parse_command_line(const struct command *c, int argc, char **argv, struct args *a,
			      enum output_mode *output)
{
	char err[256];
	if (args_parse(a, argc, argv, global_opts, c->opts, false, err, sizeof(err)) < 0)
		return command_usage_failure(c, "%s", err);
	size_t words = c->group ? 2 : 1;
	if (a->npos < words) /* cannot happen: find_command() saw these words */
		return command_usage_failure(c, "internal error: command words not found");
	memmove(a->pos, a->pos + words, (a->npos - words) * sizeof(a->pos[0]));
	a->npos -= words;

	const char *out = args_get(a, "output");
	if (out && strcmp(out, "json") != 0 && strcmp(out, "text") != 0)
		return command_usage_failure(c, "output format must be 'json' or 'text', not '%s'",
					     out);
	*output = out && strcmp(out, "json") == 0 ? OUTPUT_JSON : OUTPUT_TEXT;
	return EXIT_OK;
}

static bool is_utf8(const char *s)
{
	json_t *probe = json_string(s); /* jansson refuses invalid UTF-8 */
	json_decref(probe);
	return probe != NULL;
}

/* Values that end up in a JSON body must be UTF-8: jansson would otherwise
 * drop them without a word. */
static int check_utf8(const struct command *c, const struct args *a)
{
	for (size_t i = 0; i < a->npos; i++)
		if (!is_utf8(a->pos[i]))
			return command_usage_failure(c, "argument %zu is not valid UTF-8", i + 1);
	for (size_t i = 0; i < a->nspecs; i++)
		if (a->values[i] && !a->specs[i]->raw_bytes && !is_utf8(a->values[i]))
			return command_usage_failure(c, "the value of --%s is not valid UTF-8",
						     a->specs[i]->name);
	return EXIT_OK;
}

static int check_positionals(const struct command *c, const struct args *a)
{
	if (a->npos < c->min_pos)
		return command_usage_failure(c, "missing argument");
	if (a->npos > c->max_pos)
		return command_usage_failure(c, "unexpected argument '%s'", a->pos[c->max_pos]);
	return EXIT_OK;
}

/* Resolve the configuration, open the client and run c. */
static int run_with_server(const struct command *c, const struct args *a, struct session *s)
{
	struct config cfg;
	char err[512];
	struct config_flags flags = {
		.host = args_get(a, "host"),
		.token = args_get(a, "token"),
		.profile = args_get(a, "profile"),
		.insecure = args_has(a, "insecure"),
	};
	if (config_resolve(&cfg, &flags, err, sizeof(err)) < 0) {
		fprintf(stderr, "Error: %s\n", err);
		config_release(&cfg);
		return EXIT_USAGE;
	}
	int rc = EXIT_FAILURE_API;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "Error: cannot initialize libcurl\n");
		goto release_config;
	}
	s->client = client_new(cfg.host, cfg.token, cfg.insecure);
	if (!s->client) {
		fprintf(stderr, "Error: cannot create an HTTP handle\n");
		goto cleanup_curl;
	}
	rc = c->run(s, a);
	client_free(s->client);
	s->client = NULL;
cleanup_curl:
	curl_global_cleanup();
release_config:
	config_release(&cfg);
	return rc;
}

/* A full disk or closed pipe must not pass for success. */
static int finish_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "Error: cannot write the output: %s\n", strerror(errno));
		return rc ? rc : EXIT_FAILURE_API;
	}
	return rc;
}

int main(int argc, char **argv)
{
	int rc;
	const struct command *c = find_command(argc, argv, &rc);
	if (!c)
		return rc;

	struct args a;
	struct session s = {.cmd = c};
	rc = parse_command_line(c, argc, argv, &a, &s.output);
	if (rc != EXIT_OK)
		return rc;
	if (args_has(&a, "help")) {
		print_command_usage(stdout, c);
		return finish_output(EXIT_OK);
	}
	rc = check_positionals(c, &a);
	if (rc == EXIT_OK)
		rc = check_utf8(c, &a);
	if (rc != EXIT_OK)
		return rc;
	rc = c->needs_server ? run_with_server(c, &a, &s) : c->run(&s, &a);
	return finish_output(rc);
}
