/* command.h - what every jobctl command module (cmd_*.c) shares with the
 * dispatcher in jobctl.c: the session a command runs in, the command table
 * entry, exit codes, and the two ways a command reports failure.
 *
 * A command's run() returns the process exit status. It prints its result to
 * stdout (a table or summary in text mode, the server's JSON in json mode) and
 * errors to stderr, always as "Error: ..." lines. */
#ifndef JOBCTL_COMMAND_H
#define JOBCTL_COMMAND_H

#include "args.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JOBCTL_VERSION "0.1.0"

enum {
	EXIT_OK = 0,
	EXIT_FAILURE_API = 1, /* the server said no, or could not be reached */
	EXIT_USAGE = 2,	      /* bad command line, bad input or missing configuration */
};

enum output_mode {
	OUTPUT_TEXT,
	OUTPUT_JSON,
};

struct command;
struct client;

struct session {
	const struct command *cmd;
	struct client *client; /* NULL for commands with needs_server == false */
	enum output_mode output;
};

struct command {
	const char *group;	     /* "jobs", "workspace"...; NULL for a top-level command */
	const char *name;	     /* "create", or the top-level command's name */
	const char *synopsis;	     /* arguments after the command words, for usage */
	const char *summary;	     /* one line, lower case, no full stop */
	const struct opt_spec *opts; /* NULL-name-terminated; NULL when none */
	size_t min_pos, max_pos;     /* positional words after the command words */
	bool needs_server;
	int (*run)(struct session *s, const struct args *a);
};

/* The command tables, each ending with an entry whose name is NULL. */
extern const struct command jobs_commands[];
extern const struct command workspace_commands[];
extern const struct command tokens_commands[];
extern const struct command users_commands[];

/* Print "Error: <the client's last error>" to stderr; returns EXIT_FAILURE_API. */
int api_failure(const struct session *s);

/* Print "Error: <message>" for a failure that is not the client's (a local file
 * that cannot be written, a malformed answer); returns EXIT_FAILURE_API. */
int runtime_failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "Error: <message>" and the command's usage line to stderr; returns
 * EXIT_USAGE. */
int usage_failure(const struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same for a command known or not (c may be NULL: then point at --help). */
int command_usage_failure(const struct command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "jobctl GROUP NAME SYNOPSIS" (no newline), as usage texts show it. */
void command_print_line(FILE *out, const struct command *c);

/* POST body (consumed) to path for commands whose answer is {}: print it in
 * json mode, nothing in text mode. Returns an exit status. */
int command_post_quietly(struct session *s, const char *path, json_t *body);

#endif
