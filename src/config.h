/* config.h - jobsd settings: defaults < config file < environment < flags.
 *
 * Every setting has one key used in three spellings: `key = value` in the
 * config file, JOBSD_KEY in the environment, --key on the command line
 * (underscores become dashes). The table in config.c is the list; docs/
 * configuration.md documents it. Filled once at start-up by the main thread,
 * read-only afterwards.
 */
#ifndef JOBSD_CONFIG_H
#define JOBSD_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "util/log.h"

struct config {
	char data_dir[PATH_MAX];
	char listen[256]; /* HOST:PORT; port 0 picks a free one */
	char tls_cert[PATH_MAX];
	char tls_key[PATH_MAX];
	enum log_level log_level;
	long http_threads;	/* libmicrohttpd thread pool size; 0 = one per core */
	long max_request_bytes; /* request bodies above this are refused (10 MB) */
	long max_tasks_per_job; /* tasks in one job or submit (100) */
	long max_saved_jobs;	/* jobs in the workspace (12,000) */
	long max_tags;		/* tags per job (25) */
	char python[PATH_MAX];	/* interpreter of notebook and Python tasks */
	char runtime_dir[PATH_MAX]; /* jobsd's Python runtime; "" = found next to the binary */
	char supervisor[PATH_MAX];  /* jobsd-supervisor; "" = next to the binary */
	long task_grace_ms;	    /* SIGTERM to SIGKILL when a task is stopped */
	long allow_local_files;	    /* 1: python_file may name a local absolute path */
	long run_retention_days;    /* finished runs older than this are deleted (60) */
	long max_concurrent_task_runs; /* task runs running at once in the workspace (1000) */
	long max_jobs_created_per_hour; /* jobs/create + runs/submit in any hour (10000) */
};

void config_defaults(struct config *cfg);

/* Sets one setting by key (file spelling). 0, or -1 with a message in err. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Loads `key = value` lines; '#' starts a comment. 0, or -1 with err set. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Applies every JOBSD_<KEY> variable that is set. 0, or -1 with err set. */
int config_load_env(struct config *cfg, char *err, size_t errlen);

/* Maps a long option name ("data-dir") to its key ("data_dir"); NULL if none. */
const char *config_key_for_option(const char *option);

/* Prints the settings table (key, env, default, description) for --help. */
void config_print_help(FILE *out);

#endif
