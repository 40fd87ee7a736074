/* config.c - see config.h. One table describes every setting; parsing from
 * the file, the environment and flags all go through config_set. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum setting_type { SET_PATH, SET_STRING, SET_LONG, SET_LEVEL };

struct setting {
	const char *key;
	enum setting_type type;
	size_t offset;
	size_t size; /* buffer size for strings */
	long min, max;
	const char *help;
};

#define STR(field, t, h)                                                                           \
	{                                                                                          \
#field, t, offsetof(struct config, field), sizeof(((struct config *)0)->field), 0, \
			0, h                                                                       \
	}
#define NUM(field, lo, hi, h)                                                  \
	{                                                                      \
#field, SET_LONG, offsetof(struct config, field), 0, lo, hi, h \
	}

static const struct setting settings[] = {
	STR(data_dir, SET_PATH, "folder holding the database, workspace and runs (./jobsd-data)"),
	STR(listen, SET_STRING,
	    "HOST:PORT to listen on (127.0.0.1:8080); port 0 picks a free port"),
	STR(tls_cert, SET_PATH, "PEM certificate: serve HTTPS instead of HTTP (needs tls_key)"),
	STR(tls_key, SET_PATH, "PEM private key for tls_cert"),
	{"log_level", SET_LEVEL, offsetof(struct config, log_level), 0, 0, 0,
	 "debug, info, warn or error (info)"},
	NUM(http_threads, 0, 256, "HTTP worker threads; 0 = one per core (0)"),
	NUM(max_request_bytes, 1024, 1L << 30, "largest request body accepted (10485760)"),
	NUM(max_tasks_per_job, 1, 10000, "most tasks in one job or runs/submit (100)"),
	NUM(max_saved_jobs, 1, 100000000, "most jobs the workspace may hold (12000)"),
	NUM(max_tags, 0, 1000, "most tags on one job (25)"),
	STR(python, SET_PATH, "Python interpreter of notebook and Python tasks (/usr/bin/python3)"),
	STR(runtime_dir, SET_PATH,
	    "folder of jobsd's Python task runtime (found next to the binary when empty)"),
	STR(supervisor, SET_PATH,
	    "the jobsd-supervisor binary (found next to the binary when empty)"),
	NUM(task_grace_ms, 0, 3600000,
	    "ms between SIGTERM and SIGKILL when a task is cancelled or times out (10000)"),
	NUM(allow_local_files, 0, 1,
	    "1: python_file and file_arrival urls may name local files and folders (0)"),
	NUM(run_retention_days, 1, 36500,
	    "finished runs older than this many days are deleted with their files (60)"),
	NUM(max_concurrent_task_runs, 1, 1000000,
	    "task runs running at once; a run that cannot start queues or gets 429 (1000)"),
	NUM(max_jobs_created_per_hour, 1, 1000000,
	    "jobs/create and runs/submit calls accepted in any hour; beyond, 429 (10000)"),
};

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./jobsd-data");
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:8080");
	cfg->log_level = LOG_INFO;
	cfg->http_threads = 0;
	cfg->max_request_bytes = 10L * 1024 * 1024;
	cfg->max_tasks_per_job = 100;
	cfg->max_saved_jobs = 12000;
	cfg->max_tags = 25;
	snprintf(cfg->python, sizeof(cfg->python), "/usr/bin/python3");
	cfg->task_grace_ms = 10000;
	cfg->run_retention_days = 60;
	cfg->max_concurrent_task_runs = 1000;
	cfg->max_jobs_created_per_hour = 10000;
}

static const struct setting *find_setting(const char *key)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const struct setting *s = find_setting(key);
	if (!s) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return -1;
	}
	char *field = (char *)cfg + s->offset;
	switch (s->type) {
	case SET_PATH:
	case SET_STRING:
		if (strlen(value) >= s->size) {
			snprintf(err, errlen, "value of '%s' is too long", key);
			return -1;
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case SET_LEVEL:
		if (log_level_parse(value, (enum log_level *)(void *)field) < 0) {
			snprintf(err, errlen, "invalid log level '%s' (debug, info, warn, error)",
				 value);
			return -1;
		}
		return 0;
	case SET_LONG: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < s->min || v > s->max) {
			snprintf(err, errlen,
				 "invalid value '%s' for '%s' (an integer from %ld to %ld)", value,
				 key, s->min, s->max);
			return -1;
		}
		*(long *)(void *)field = v;
		return 0;
	}
	}
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Cuts a line at its comment: a '#' outside double quotes. */
static void strip_comment(char *line)
{
	bool quoted = false;
	for (char *p = line; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted) {
			*p = '\0';
			return;
		}
	}
}

static int parse_line(struct config *cfg, char *line, const char *path, int lineno, char *err,
		      size_t errlen)
{
	char msg[512];
	strip_comment(line);
	char *s = trim(line);
	if (!*s)
		return 0;
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
		return -1;
	}
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	size_t vl = strlen(value);
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
		value[vl - 1] = '\0';
		value++;
	}
	if (config_set(cfg, key, value, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
		return -1;
	}
	return 0;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot open config file '%s': %s", path, strerror(errno));
		return -1;
	}
	/* getline: a line is a line, however long (a long path stays whole). */
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0)
		rc = parse_line(cfg, line, path, ++lineno, err, errlen);
	free(line);
	fclose(f);
	return rc;
}

int config_load_env(struct config *cfg, char *err, size_t errlen)
{
	char name[128], msg[512];
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const char *key = settings[i].key;
		int n = snprintf(name, sizeof(name), "JOBSD_");
		for (const char *k = key; *k && n < (int)sizeof(name) - 1; k++)
			name[n++] = (char)toupper((unsigned char)*k);
		name[n] = '\0';
		const char *v = getenv(name);
		if (!v)
			continue;
		if (config_set(cfg, key, v, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s: %s", name, msg);
			return -1;
		}
	}
	return 0;
}

const char *config_key_for_option(const char *option)
{
	static _Thread_local char key[64];
	size_t n = strlen(option);
	if (n >= sizeof(key))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		key[i] = option[i] == '-' ? '_' : option[i];
	return find_setting(key) ? key : NULL;
}

void config_print_help(FILE *out)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		char opt[64], env[64];
		size_t j;
		for (j = 0; settings[i].key[j] && j < sizeof(opt) - 1; j++) {
			opt[j] = settings[i].key[j] == '_' ? '-' : settings[i].key[j];
			env[j] = (char)toupper((unsigned char)settings[i].key[j]);
		}
		opt[j] = env[j] = '\0';
		fprintf(out, "  --%-20s JOBSD_%-20s %s\n", opt, env, settings[i].help);
	}
}
