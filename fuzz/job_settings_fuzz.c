/* job_settings_fuzz.c - libFuzzer target for the JobSettings model:
 * job_settings_parse() in the shapes of API 2.0, 2.1 and 2.2,
 * job_settings_update() against fixed valid jobs, and everything that reads
 * a parsed job back (emit, brief, page, paged_len, name_key, run_as).
 *
 * The input is a request body: NUL-terminated, read with json_loads (NUL
 * escapes allowed, any top-level value). Beyond "never crash, never leak",
 * it checks what clients rely on:
 *   - a failed parse or update leaves a NUL-terminated message, a 400 and
 *     one of the two error codes, and never touches the current job;
 *   - what jobs/get shows (emit) is accepted again by jobs/reset in the same
 *     version and normalizes to the same settings (get-then-reset works);
 *   - an update applied twice gives what it gave once (retries are safe);
 *   - pages hold at most JOB_PAGE_SIZE elements.
 * A broken property aborts, which libFuzzer reports.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       fuzz/job_settings_fuzz.c src/model/job.c src/model/job_schema.c \
 *       src/model/schema.c src/model/error.c src/sched/cron.c src/sched/tz.c \
 *       -ljansson -lcrypto -o build/job_settings_fuzz
 *   build/job_settings_fuzz fuzz/corpus/job_settings
 *
 * Seeds: fuzz/corpus/job_settings/, one body per file (the integration
 * fixtures and small hand-written bodies). Single-threaded.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/job.h"
#include "model/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static const struct job_limits lim = {.max_tasks = 100, .max_tags = 25};

/* The jobs updates are applied to: one multi-task job with every keyed
 * array, one 2.0 single-task job. Built once, never modified. */
static json_t *multi_job, *single_job;

static json_t *parse_fixed(const char *text, int version)
{
	json_error_t e;
	json_t *in = json_loads(text, 0, &e), *out = NULL;
	enum job_format f;
	struct model_error err;
	CHECK(in);
	CHECK(job_settings_parse(in, version, "", JOB_CREATE, &lim, &out, &f, &err) == 0);
	return out;
}

static void init_fixed(void)
{
	if (multi_job)
		return;
	multi_job = parse_fixed(
		"{\"name\":\"Fixed\",\"tags\":{\"team\":\"jobs\"},"
		"\"schedule\":{\"quartz_cron_expression\":\"0 0 * * * ?\",\"timezone_id\":\"UTC\"},"
		"\"git_source\":{\"git_url\":\"https://example.com/r.git\","
		"\"git_provider\":\"gitHub\",\"git_branch\":\"main\"},"
		"\"job_clusters\":[{\"job_cluster_key\":\"c1\","
		"\"new_cluster\":{\"num_workers\":1}}],"
		"\"environments\":[{\"environment_key\":\"e1\",\"spec\":{\"client\":\"1\"}}],"
		"\"parameters\":[{\"name\":\"p1\",\"default\":\"x\"}],"
		"\"tasks\":[{\"task_key\":\"a\",\"job_cluster_key\":\"c1\","
		"\"notebook_task\":{\"notebook_path\":\"nb/a\"}},"
		"{\"task_key\":\"b\",\"depends_on\":[{\"task_key\":\"a\"}],"
		"\"environment_key\":\"e1\","
		"\"spark_python_task\":{\"python_file\":\"dbfs:/b.py\"}},"
		"{\"task_key\":\"c\","
		"\"condition_task\":{\"left\":\"1\",\"op\":\"EQUAL_TO\",\"right\":\"1\"}},"
		"{\"task_key\":\"d\",\"depends_on\":[{\"task_key\":\"c\",\"outcome\":\"true\"}],"
		"\"run_job_task\":{\"job_id\":7}}]}",
		22);
	single_job = parse_fixed(
		"{\"name\":\"Single\",\"new_cluster\":{\"num_workers\":2},"
		"\"libraries\":[{\"jar\":\"dbfs:/x.jar\"}],\"max_retries\":1,"
		"\"spark_jar_task\":{\"main_class_name\":\"Main\"},\"timeout_seconds\":60}",
		20);
}

static void check_err(const struct model_error *err)
{
	CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
	CHECK(memchr(err->code, '\0', sizeof(err->code)) != NULL);
	CHECK(err->status == 400);
	CHECK(strcmp(err->code, MODEL_INVALID) == 0 || strcmp(err->code, MODEL_MALFORMED) == 0);
	CHECK(err->message[0] != '\0');
}

/* Everything the API layer does with stored settings. */
static void read_back(const json_t *s)
{
	static const int versions[] = {20, 21, 22};
	for (size_t i = 0; i < 3; i++) {
		json_t *e = job_settings_emit(s, versions[i]);
		CHECK(e);
		int len = job_settings_paged_len(e);
		CHECK(len >= 0);
		for (long page = 0; page <= len / JOB_PAGE_SIZE + 1; page++) {
			bool more = false;
			json_t *p = job_settings_page(e, page, &more);
			CHECK(p);
			CHECK(job_settings_paged_len(p) <= JOB_PAGE_SIZE);
			CHECK(more == ((long)len > (page + 1) * JOB_PAGE_SIZE));
			json_decref(p);
		}
		json_decref(e);
	}
	char *full, *brief;
	job_settings_texts((json_t *)s, &full, &brief); /* left as it was */
	json_t *f = json_loads(full, JSON_ALLOW_NUL, NULL),
	       *b = json_loads(brief, JSON_ALLOW_NUL, NULL);
	CHECK(f && json_equal(f, s));
	CHECK(b && !json_object_get(b, "tasks") && !json_object_get(b, "job_clusters"));
	json_decref(f);
	json_decref(b);
	free(full);
	free(brief);
	char *k = job_name_key(s);
	CHECK(k);
	free(k);
	CHECK(job_run_as_user(s, "creator") != NULL);
	(void)job_settings_format(s);
}

/* What jobs/get shows through `version` must be accepted by jobs/reset in
 * the same version and mean the same settings. */
static void check_get_then_reset(const json_t *s, enum job_format fmt, int version)
{
	json_t *shown = job_settings_emit(s, version), *again = NULL;
	enum job_format f2;
	struct model_error err;
	/* A 2.0 single-task job is shown (and so re-sent) in the 2.0 shape. */
	int v = (fmt == JOB_FORMAT_SINGLE_TASK && version != 20) ? 20 : version;
	if (fmt == JOB_FORMAT_SINGLE_TASK && version != 20) {
		json_decref(shown);
		shown = job_settings_emit(s, 20);
	}
	CHECK(job_settings_parse(shown, v, "new_settings", JOB_RESET, &lim, &again, &f2, &err) ==
	      0);
	CHECK(f2 == fmt);
	CHECK(json_equal((json_t *)s, again));
	json_decref(again);
}

static void try_parse(const json_t *body, int version, enum job_origin origin, const char *prefix)
{
	json_t *out = NULL;
	enum job_format fmt;
	struct model_error err;
	memset(&err, 'x', sizeof(err));
	if (job_settings_parse(json_deep_copy(body), version, prefix, origin, &lim, &out, &fmt,
			       &err) != 0) {
		check_err(&err);
		return;
	}
	CHECK(json_is_object(out));
	CHECK(job_settings_format(out) == fmt);
	CHECK(fmt == JOB_FORMAT_MULTI_TASK || version == 20);
	read_back(out);
	check_get_then_reset(out, fmt, version);
	json_decref(out);
}

static void try_update(const json_t *current, enum job_format cur_fmt, const json_t *ns,
		       const json_t *ftr, int version)
{
	json_t *before = json_deep_copy(current), *out = NULL;
	enum job_format fmt;
	struct model_error err;
	memset(&err, 'x', sizeof(err));
	int rc = job_settings_update(current, cur_fmt, ns, ftr, version, &lim, &out, &fmt, &err);
	CHECK(json_equal((json_t *)current, before));
	json_decref(before);
	if (rc != 0) {
		check_err(&err);
		return;
	}
	CHECK(json_is_object(out));
	CHECK(job_settings_format(out) == fmt);
	read_back(out);
	/* A retried update (the client did not see the answer) changes nothing
	 * more: update is idempotent. */
	json_t *twice = NULL;
	enum job_format fmt2;
	CHECK(job_settings_update(out, fmt, ns, ftr, version, &lim, &twice, &fmt2, &err) == 0);
	CHECK(fmt2 == fmt);
	CHECK(json_equal(out, twice));
	json_decref(twice);
	json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_fixed();
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	json_error_t e;
	json_t *body = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	free(text);
	if (!body)
		return 0;

	/* As jobs/create and jobs/reset settings. */
	try_parse(body, 20, JOB_CREATE, "");
	try_parse(body, 21, JOB_CREATE, "");
	try_parse(body, 22, JOB_CREATE, "");
	try_parse(body, 22, JOB_RESET, "new_settings");

	/* As a jobs/update body ({new_settings, fields_to_remove}), or the
	 * whole input as new_settings / fields_to_remove. */
	const json_t *ns = json_object_get(body, "new_settings");
	const json_t *ftr = json_object_get(body, "fields_to_remove");
	if (!ns && !ftr) {
		if (json_is_array(body))
			ftr = body;
		else
			ns = body;
	}
	if (json_is_null(ns))
		ns = NULL;
	if (json_is_null(ftr))
		ftr = NULL;
	for (int version = 20; version <= 22; version++) {
		try_update(multi_job, JOB_FORMAT_MULTI_TASK, ns, ftr, version);
		try_update(single_job, JOB_FORMAT_SINGLE_TASK, ns, ftr, version);
	}
	json_decref(body);
	return 0;
}
