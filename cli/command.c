/* command.c - helpers every command shares (contract in command.h): failure
 * reporting in the one "Error: ..." format, usage hints, and the POST that
 * answers {} (update, delete, mkdirs...). Output conventions live here so all
 * commands print alike. */
#include "command.h"

#include "client.h"
#include "jsonio.h"

#include <stdarg.h>

void command_print_line(FILE *out, const struct command *c)
{
	fprintf(out, "jobctl %s%s%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name,
		c->synopsis[0] ? " " : "", c->synopsis);
}

int api_failure(const struct session *s)
{
	fprintf(stderr, "Error: %s\n", client_error(s->client));
	return EXIT_FAILURE_API;
}

int runtime_failure(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("Error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_FAILURE_API;
}

static void vusage(const struct command *c, const char *fmt, va_list ap)
{
	fputs("Error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (!c) {
		fputs("Try 'jobctl --help'.\n", stderr);
		return;
	}
	fputs("Usage: ", stderr);
	command_print_line(stderr, c);
	fprintf(stderr, "\nTry 'jobctl %s%s%s --help'.\n", c->group ? c->group : "",
		c->group ? " " : "", c->name);
}

int command_usage_failure(const struct command *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vusage(c, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int usage_failure(const struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vusage(s->cmd, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int command_post_quietly(struct session *s, const char *path, json_t *body)
{
	json_t *resp = NULL;
	int rc = client_post(s->client, path, body, &resp) < 0 ? api_failure(s) : EXIT_OK;
	json_decref(body);
	if (rc)
		return rc;
	if (s->output == OUTPUT_JSON)
		jsonio_print(resp);
	json_decref(resp);
	return EXIT_OK;
}
