/* dynref_fuzz.c - libFuzzer target for dynamic value references:
 * dynref_check() and dynref_expand() on arbitrary text.
 *
 * Beyond "never crash", it checks what callers rely on: a result is either
 * 0 with a NUL-terminated string no longer than DYNREF_MAX_OUTPUT and an
 * untouched error, or -1 with no string and a non-empty NUL-terminated
 * message; text without "{{" expands to itself; the check answers the same
 * without an error to fill, and an empty scope refuses whatever a full one
 * refuses. A broken property aborts, which libFuzzer reports.
 *
 *   fuzz/run.sh builds every fuzz/NAME_fuzz.c, this one included, and replays
 *   fuzz/corpus/dynref/, one template per file; fuzz/dynref.dict holds
 *   the namespace and argument names.
 *
 * Single-threaded.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/dynref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

/* Built once: the fuzzer calls the target millions of times. */
static json_t *task_keys, *params, *tasks, *job_params, *input;

static void init(void)
{
	if (task_keys)
		return;
	task_keys = json_pack("[sss]", "a", "b", "c");
	params = json_pack("[{s:s,s:s},{s:s,s:s}]", "name", "env", "default", "dev", "name",
			   "my-param", "default", "x");
	job_params = json_pack("{s:s,s:s}", "env", "prod", "my-param", "y");
	/* Task "a" has every fact and an output; the values of "b" are read
	 * by name below. */
	tasks = json_pack("{s:{s:i,s:s,s:i,s:s,s:s,s:{s:i,s:s,s:b,s:n,s:[i,f]},"
			  "s:{s:{s:i},s:[{s:i}],s:s}},"
			  "s:{s:i,s:s,s:i,s:{}},s:{s:i,s:s,s:i,s:{}}}",
			  "a", "run_id", 1, "result_state", "SUCCESS", "execution_count", 1,
			  "error_code", "", "notebook_path", "/a", "values", "n", 5, "s", "str",
			  "t", 1, "z", "l", 1, 0.5, "output", "first_row", "c", 1, "rows", "c", 1,
			  "alert_state", "OK", "b", "run_id", 2, "result_state", "FAILED",
			  "execution_count", 2, "values", "c", "run_id", 3, "result_state",
			  "SUCCESS", "execution_count", 1, "values");
	input = json_pack("{s:s,s:{s:i}}", "k", "v", "o", "x", 1);
	CHECK(task_keys && params && job_params && tasks && input);
}

static void check_err(const struct model_error *err)
{
	CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
	CHECK(memchr(err->code, '\0', sizeof(err->code)) != NULL);
}

static int expand(const char *text, const struct dynref_ctx *ctx, char **out)
{
	struct model_error err;
	memset(&err, 'x', sizeof(err));
	err.status = 0;
	int rc = dynref_expand(text, ctx, out, &err);
	if (rc == 0) {
		CHECK(*out != NULL);
		CHECK(strlen(*out) <= DYNREF_MAX_OUTPUT);
		CHECK(err.status == 0); /* untouched */
	} else {
		CHECK(rc == -1 && *out == NULL);
		CHECK(err.status == 400);
		check_err(&err);
		CHECK(err.message[0] != '\0');
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct model_error err;
	memset(&err, 'x', sizeof(err));
	struct dynref_scope scope = {
		.task_keys = task_keys,
		.parameters = params,
		.task_key = "c",
		.in_for_each = true,
	};
	int checked = dynref_check(text, "tasks[0].notebook_task.base_parameters.p", &scope, &err);
	CHECK(checked == 0 || checked == -1);
	if (checked)
		check_err(&err);
	/* The same answer with no error to fill; an empty scope never accepts
	 * more than a full one. */
	CHECK(dynref_check(text, NULL, &scope, NULL) == checked);
	if (checked)
		CHECK(dynref_check(text, "", NULL, NULL) == -1);

	struct dynref_ctx ctx = {
		.job_id = 1,
		.job_name = "job",
		.job_run_id = 2,
		.start_ms = (int64_t)size * 86400000 * 367 - 5000000000000LL,
		.trigger_ms = INT64_MIN + (int64_t)size,
		.trigger_type = "PERIODIC",
		.job_params = job_params,
		.task_key = "c",
		.task_run_id = 3,
		.tasks = tasks,
		.input = input,
	};
	char *out = NULL;
	int rc = expand(text, &ctx, &out);
	if (rc == 0 && !strstr(text, "{{"))
		CHECK(strcmp(out, text) == 0);
	free(out);

	/* A NULL context: every fact "" or 0, every lookup missing. */
	out = NULL;
	rc = expand(text, NULL, &out);
	free(out);
	free(text);
	return 0;
}
