/* main.c - jobsd entry point: `jobsd serve`, `jobsd cron next`, `jobsd version`.
 *
 * Start-up order: settings, data dir (lock), store (migrations), first-start
 * bootstrap, workspace, engine, API, listening socket, HTTP server; then
 * wait for SIGTERM/SIGINT. Shutdown runs the other way: stop accepting and
 * answer what is in flight, drain the engine, close the store, unlock.
 * SIGTERM and SIGINT are blocked in every thread and taken with sigwait here,
 * so no handler ever runs inside library code.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "auth/admin.h"
#include "config.h"
#include "datadir.h"
#include "engine/engine.h"
#include "engine/runs.h"
#include "engine/sched.h"
#include "exec/executor.h"
#include "exec/local.h"
#include "http/listen.h"
#include "http/server.h"
#include "sched/preview.h"
#include "sched/tzif.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/fsio.h"
#include "util/log.h"
#include "workspace/workspace.h"

#define JOBSD_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out, "usage: jobsd serve [--data-dir DIR] [--listen HOST:PORT] [--config FILE]\n"
		     "                   [--tls-cert FILE --tls-key FILE] [--log-level LEVEL]\n"
		     "       jobsd cron next EXPR --tz ZONE [--from ISO8601] [-n N]\n"
		     "       jobsd version\n\n"
		     "Settings (flag, environment variable, meaning); flags beat the environment,\n"
		     "which beats the config file (key = value lines, keys as below with '_'):\n");
	config_print_help(out);
	fprintf(out, "  --config FILE          JOBSD_CONFIG           the config file to read\n");
}

/* Fills cfg from defaults, the config file, the environment and argv. */
static int load_settings(struct config *cfg, int argc, char **argv)
{
	char err[512];
	const char *file = getenv("JOBSD_CONFIG");
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			file = argv[i + 1];
	config_defaults(cfg);
	if (file && config_load_file(cfg, file, err, sizeof(err)) < 0)
		goto fail;
	if (config_load_env(cfg, err, sizeof(err)) < 0)
		goto fail;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *value = NULL, *key;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, sizeof(err), "unexpected argument '%s'", a);
			goto fail;
		}
		char opt[64];
		const char *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (n >= sizeof(opt)) {
			snprintf(err, sizeof(err), "unknown option '%s'", a);
			goto fail;
		}
		memcpy(opt, a + 2, n);
		opt[n] = '\0';
		value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (strcmp(opt, "config") == 0)
			continue;
		if (!(key = config_key_for_option(opt))) {
			snprintf(err, sizeof(err), "unknown option '--%s'", opt);
			goto fail;
		}
		if (!value) {
			snprintf(err, sizeof(err), "option '--%s' needs a value", opt);
			goto fail;
		}
		if (config_set(cfg, key, value, err, sizeof(err)) < 0)
			goto fail;
	}
	if (!!cfg->tls_cert[0] != !!cfg->tls_key[0]) {
		snprintf(err, sizeof(err), "--tls-cert and --tls-key go together");
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "jobsd: %s\n", err);
	return -1;
}

static char *read_pem(const char *path)
{
	char *buf;
	size_t len;
	int rc = fsio_read_all(path, 1 << 20, &buf, &len);
	if (rc < 0) {
		log_error("cannot read '%s': %s", path, strerror(-rc));
		return NULL;
	}
	return buf;
}

/* The URL clients should use, for the start-up message. */
static void public_url(const struct config *cfg, int port, char *out, size_t n)
{
	char host[256], p[16];
	if (http_split_host_port(cfg->listen, host, sizeof(host), p, sizeof(p)) < 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	bool v6 = strchr(host, ':') != NULL && strcmp(host, "::") != 0;
	snprintf(out, n, "%s://%s%s%s:%d", cfg->tls_cert[0] ? "https" : "http", v6 ? "[" : "",
		 strcmp(host, "::") == 0 ? "localhost" : host, v6 ? "]" : "", port);
}

struct server {
	struct config cfg;
	struct datadir dir;
	struct store *store;
	struct workspace *ws;
	struct engine *engine;
	struct executor *exec;
	struct runs *runs;
	struct sched *sched;
	struct tzdb *tzdb;
	struct api *api;
	struct http_server *http;
	int listen_fd, port;
};

/* Running tasks are left running: their supervisors outlive jobsd, and the
 * next start re-attaches to them (ARCHITECTURE.md invariant 4). */
static void shutdown_server(struct server *s)
{
	http_server_stop(s->http, 30000);
	engine_stop(s->engine);
	sched_close(s->sched);
	runs_close(s->runs);
	tzdb_close(s->tzdb);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->exec)
		s->exec->ops->close(s->exec);
	api_free(s->api);
	workspace_close(s->ws);
	store_close(s->store);
	datadir_close(&s->dir);
}

static int start_http(struct server *s, char *err, size_t errlen)
{
	int fd = s->listen_fd, port = s->port;
	char *cert = NULL, *key = NULL;
	if (s->cfg.tls_cert[0] &&
	    (!(cert = read_pem(s->cfg.tls_cert)) || !(key = read_pem(s->cfg.tls_key)))) {
		snprintf(err, errlen, "cannot load the TLS certificate or key");
		free(cert);
		return -1;
	}
	long threads = s->cfg.http_threads ? s->cfg.http_threads : sysconf(_SC_NPROCESSORS_ONLN);
	struct http_config hc = {
		.listen_fd = fd,
		.tls_cert = cert,
		.tls_key = key,
		.threads = (unsigned)(threads > 0 ? threads : 2),
		.max_body = (size_t)s->cfg.max_request_bytes,
		/* Room for 32 bodies of the largest size at once; past it, 503. */
		.max_buffered = 32 * (size_t)s->cfg.max_request_bytes,
		.headers = api_headers,
		.handler = api_handle,
		.cls = s->api,
	};
	int rc = http_server_start(&s->http, &hc, err, errlen);
	/* libmicrohttpd copies the PEM text when it starts. */
	free(cert);
	free(key);
	if (rc < 0)
		return -1;
	s->listen_fd = -1; /* the server owns it now */
	char url[300];
	public_url(&s->cfg, port, url, sizeof(url));
	log_info("jobsd %s ready: listening on %s, data in %s", JOBSD_VERSION, url, s->dir.path);
	printf("jobsd is ready. To use it:\n"
	       "  export DATABRICKS_HOST=%s\n"
	       "  export DATABRICKS_TOKEN=$(cat %s/admin.token)\n",
	       url, s->dir.path);
	fflush(stdout);
	return 0;
}

/* A file next to the running binary (or a level up, for build/asan/jobsd). */
static int beside_binary(const char *name, char *out, size_t n)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -1;
	exe[len] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	static const char *const ups[] = {"", "/..", "/../..", NULL};
	for (const char *const *u = ups; *u; u++) {
		int w = snprintf(out, n, "%s%s/%s", exe, *u, name);
		if (w > 0 && (size_t)w < n && access(out, F_OK) == 0)
			return 0;
	}
	return -1;
}

static int start_runs(struct server *s, char *err, size_t errlen)
{
	char sup[PATH_MAX], rt[PATH_MAX] = "";
	if (s->cfg.supervisor[0])
		snprintf(sup, sizeof(sup), "%s", s->cfg.supervisor);
	else if (beside_binary("jobsd-supervisor", sup, sizeof(sup)) < 0) {
		snprintf(err, errlen, "jobsd-supervisor is not next to the jobsd binary; set supervisor");
		return -1;
	}
	if (s->cfg.runtime_dir[0])
		snprintf(rt, sizeof(rt), "%s", s->cfg.runtime_dir);
	else if (beside_binary("runtime", rt, sizeof(rt)) < 0)
		snprintf(rt, sizeof(rt), "/usr/share/jobsd/runtime");
	char entry[PATH_MAX + 16];
	snprintf(entry, sizeof(entry), "%s/jobsd_task.py", rt);
	if (access(entry, R_OK) != 0)
		log_warn("the Python task runtime is not at %s: notebook and Python tasks will fail "
			 "until runtime_dir names it",
			 rt);
	if (exec_local_open(&s->exec, sup) < 0) {
		snprintf(err, errlen, "cannot use the supervisor %.900s", sup);
		return -1;
	}
	char url[300];
	public_url(&s->cfg, s->port, url, sizeof(url));
	struct runs_config rc = {
		.clock = &clock_system,
		.data_dir = s->dir.path,
		.python = s->cfg.python,
		.runtime_dir = rt,
		.base_url = url,
		.grace_ms = (int)s->cfg.task_grace_ms,
		.allow_local_files = s->cfg.allow_local_files != 0,
		.retention_ms = s->cfg.run_retention_days * 86400000LL,
		.max_task_runs = (int)s->cfg.max_concurrent_task_runs,
		.max_created_per_hour = (int)s->cfg.max_jobs_created_per_hour,
	};
	if (!(s->tzdb = tzdb_open(NULL))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (runs_open(&s->runs, s->engine, s->store, s->exec, s->ws, &rc) < 0) {
		snprintf(err, errlen, "cannot start the run engine");
		return -1;
	}
	char ws_root[sizeof(s->dir.path) + 16];
	snprintf(ws_root, sizeof(ws_root), "%s/workspace", s->dir.path);
	struct sched_config sc = {
		.clock = &clock_system,
		.tzdb = s->tzdb,
		.workspace_root = ws_root,
		.allow_local_dirs = s->cfg.allow_local_files != 0,
	};
	if (sched_open(&s->sched, s->engine, s->store, s->runs, &sc) < 0) {
		snprintf(err, errlen, "cannot start the scheduler");
		return -1;
	}
	return 0;
}

static int start(struct server *s, char *err, size_t errlen)
{
	if (datadir_open(&s->dir, s->cfg.data_dir, err, errlen) < 0)
		return -1;
	if (store_open_sqlite(&s->store, s->dir.path, err, errlen) != STORE_OK)
		return -1;
	bool created;
	if (admin_bootstrap(s->store, s->dir.path, clock_now_ms(&clock_system), &created, err,
			    errlen) < 0)
		return -1;
	if (created)
		log_info("created user 'admin'; its token is in %s/admin.token", s->dir.path);
	char ws_root[sizeof(s->dir.path) + 16];
	snprintf(ws_root, sizeof(ws_root), "%s/workspace", s->dir.path);
	if (workspace_open(&s->ws, ws_root, err, errlen) < 0)
		return -1;
	if (engine_start(&s->engine, s->store) < 0) {
		snprintf(err, errlen, "cannot start the engine thread");
		return -1;
	}
	/* Listen first: run_page_url needs the port, and runs load before
	 * the first request is served. */
	s->listen_fd = http_listen(s->cfg.listen, &s->port, err, errlen);
	if (s->listen_fd < 0 || start_runs(s, err, errlen) < 0)
		return -1;
	struct api_deps deps = {s->store, s->engine, s->ws, s->runs, s->sched, &s->cfg, &clock_system};
	if (api_create(&s->api, &deps) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (start_http(s, err, errlen) < 0)
		return -1;
	api_set_ready(s->api, true);
	return 0;
}

static int serve(int argc, char **argv)
{
	static struct server s;
	s.dir.lock_fd = -1;
	s.listen_fd = -1;
	if (load_settings(&s.cfg, argc, argv) < 0)
		return 2;
	log_set_level(s.cfg.log_level);

	/* Block the stop signals before any thread exists, so all inherit it. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	char err[1024];
	if (start(&s, err, sizeof(err)) < 0) {
		log_error("cannot start: %s", err);
		shutdown_server(&s);
		return 1;
	}
	int sig = 0;
	sigwait(&stop, &sig);
	log_info("received %s: finishing requests in flight, then stopping",
		 sig == SIGTERM ? "SIGTERM" : "SIGINT");
	api_set_ready(s.api, false);
	shutdown_server(&s);
	log_info("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "cron") == 0)
		return cron_command(argc - 2, argv + 2, stdout, stderr);
	if (argc >= 2 && strcmp(argv[1], "version") == 0) {
		printf("jobsd %s\n", JOBSD_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
