/* job_schema.c - the schema of JobSettings and everything in it.
 *
 * Field names, types and limits follow the Databricks Go SDK's jobs and
 * compute models (docs/internals/model.md lists the sources). Objects the
 * service only stores for compute we do not have (cloud attributes, docker
 * images, ...) are checked for their type and otherwise kept as given.
 * Rules that span tasks (unique keys, references, cycles) live in job.c;
 * the ones local to one object are the check functions here.
 */
#include <string.h>
#include <strings.h>

#include "model/job.h"
#include "model/schedule.h"
#include "model/schema.h"

/* --- field macros: designated initializers, so a table row reads as a row -- */
#define STR(n)                               \
	{                                    \
		.name = n, .kind = SK_STRING \
	}
#define STR_MAX(n, m)                                  \
	{                                              \
		.name = n, .kind = SK_STRING, .max = m \
	}
#define STR_REQ(n)                                                               \
	{                                                                        \
		.name = n, .kind = SK_STRING, .flags = SF_REQUIRED | SF_NONEMPTY \
	}
#define STR_CHECK(n, fl, fn)                                           \
	{                                                              \
		.name = n, .kind = SK_STRING, .flags = fl, .check = fn \
	}
#define INT32(n)                            \
	{                                   \
		.name = n, .kind = SK_INT32 \
	}
#define INT64(n)                            \
	{                                   \
		.name = n, .kind = SK_INT64 \
	}
#define INT64_REQ(n)                                              \
	{                                                         \
		.name = n, .kind = SK_INT64, .flags = SF_REQUIRED \
	}
#define RANGE(n, lo, hi)                                                             \
	{                                                                            \
		.name = n, .kind = SK_INT32, .flags = SF_RANGE, .min = lo, .max = hi \
	}
#define RANGE_REQ(n, lo, hi)                                                                       \
	{                                                                                          \
		.name = n, .kind = SK_INT32, .flags = SF_RANGE | SF_REQUIRED, .min = lo, .max = hi \
	}
#define BOOL(n)                            \
	{                                  \
		.name = n, .kind = SK_BOOL \
	}
#define BOOL_REQ(n)                                              \
	{                                                        \
		.name = n, .kind = SK_BOOL, .flags = SF_REQUIRED \
	}
#define OBJ(n, o)                                       \
	{                                               \
		.name = n, .kind = SK_OBJECT, .obj = &o \
	}
#define OBJ_REQ(n, o)                                                         \
	{                                                                     \
		.name = n, .kind = SK_OBJECT, .obj = &o, .flags = SF_REQUIRED \
	}
#define ARR_OBJ(n, o)                                                     \
	{                                                                 \
		.name = n, .kind = SK_ARRAY, .elem = SK_OBJECT, .obj = &o \
	}
#define ARR_OBJ_MAX(n, o, m)                                                        \
	{                                                                           \
		.name = n, .kind = SK_ARRAY, .elem = SK_OBJECT, .obj = &o, .max = m \
	}
#define ARR_STR(n)                                             \
	{                                                      \
		.name = n, .kind = SK_ARRAY, .elem = SK_STRING \
	}
#define ARR_ASCII(n)                                                              \
	{                                                                         \
		.name = n, .kind = SK_ARRAY, .elem = SK_STRING, .flags = SF_ASCII \
	}
#define ARR_MAP(n)                                          \
	{                                                   \
		.name = n, .kind = SK_ARRAY, .elem = SK_MAP \
	}
#define ENUM(n, e)                                     \
	{                                              \
		.name = n, .kind = SK_ENUM, .enums = e \
	}
#define ENUM_REQ(n, e)                                                       \
	{                                                                    \
		.name = n, .kind = SK_ENUM, .enums = e, .flags = SF_REQUIRED \
	}
#define STRMAP(n)                            \
	{                                    \
		.name = n, .kind = SK_STRMAP \
	}
#define MAP(n)                            \
	{                                 \
		.name = n, .kind = SK_MAP \
	}
#define END                  \
	{                    \
		.name = NULL \
	}

/* --- enums ------------------------------------------------------------------ */
static const char *const pause_status[] = {"PAUSED", "UNPAUSED", NULL};
static const char *const source_enum[] = {"WORKSPACE", "GIT", NULL};
static const char *const run_if_enum[] = {"ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED",
					  "ALL_DONE",	 "AT_LEAST_ONE_FAILED",	 "ALL_FAILED",
					  NULL};
static const char *const condition_op[] = {
	"EQUAL_TO",	      "NOT_EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN",
	"LESS_THAN_OR_EQUAL", NULL};
static const char *const edit_mode[] = {"UI_LOCKED", "EDITABLE", NULL};
static const char *const deployment_kind[] = {"BUNDLE", "SYSTEM_MANAGED", NULL};
static const char *const performance_target[] = {"STANDARD", "PERFORMANCE_OPTIMIZED", NULL};
static const char *const health_metric[] = {
	"RUN_DURATION_SECONDS",	     "STREAMING_BACKLOG_BYTES", "STREAMING_BACKLOG_RECORDS",
	"STREAMING_BACKLOG_SECONDS", "STREAMING_BACKLOG_FILES", NULL};
static const char *const health_op[] = {"GREATER_THAN", NULL};
static const char *const periodic_unit[] = {"MINUTES", "HOURS", "DAYS", "WEEKS", NULL};
static const char *const task_retry_mode[] = {"NEVER", "ON_FAILURE", NULL};
static const char *const dirty_state[] = {"NOT_SYNCED", "DISCONNECTED", NULL};
static const char *const git_providers[] = {"gitHub",
					    "bitbucketCloud",
					    "azureDevOpsServices",
					    "gitHubEnterprise",
					    "bitbucketServer",
					    "gitLab",
					    "gitLabEnterpriseEdition",
					    "awsCodeCommit",
					    NULL};

/* --- checks -------------------------------------------------------------------- */

static int exclusive(json_t *obj, const struct sch_path *path, const char *const *names,
		     bool required, struct model_error *err)
{
	int n = sch_count_present(obj, names);
	if (n <= 1 && (n == 1 || !required))
		return 0;
	char list[640] = "";
	size_t used = 0;
	for (const char *const *p = names; *p && used < sizeof(list); p++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 p == names ? "" : ", ", *p);
	char w[SCH_PATH_TEXT];
	sch_path_render(path, w, sizeof(w));
	return model_fail(err, 400, MODEL_INVALID, "%s%s%s one of %s", w, *w ? ": " : "",
			  n == 0 ? "specify" : "specify only", list);
}

static int check_cron(json_t *v, const struct sch_path *path, struct model_error *err)
{
	(void)path;
	return schedule_check_cron(json_string_value(v), NULL, err);
}

static int check_timezone(json_t *v, const struct sch_path *path, struct model_error *err)
{
	char w[SCH_PATH_TEXT];
	return schedule_check_timezone(json_string_value(v), sch_path_text(path, w, sizeof(w)), err);
}

static int check_git_provider(json_t *v, const struct sch_path *path, struct model_error *err)
{
	/* The service compares providers case-insensitively ("github" works). */
	for (const char *const *p = git_providers; *p; p++)
		if (strcasecmp(json_string_value(v), *p) == 0)
			return 0;
	char w[SCH_PATH_TEXT];
	return model_fail(err, 400, MODEL_INVALID,
			  "Invalid value '%.100s' for field '%s': expected one of gitHub, "
			  "bitbucketCloud, azureDevOpsServices, gitHubEnterprise, bitbucketServer, "
			  "gitLab, gitLabEnterpriseEdition, awsCodeCommit",
			  json_string_value(v), sch_path_text(path, w, sizeof(w)));
}

/* task_key, job_cluster_key, environment_key: 1-100 characters of [A-Za-z0-9_-]. */
static int check_key(json_t *v, const struct sch_path *path, struct model_error *err)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	bool ok = n >= 1 && n <= 100;
	for (size_t i = 0; ok && i < n; i++) {
		char c = s[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_' || c == '-';
	}
	if (ok)
		return 0;
	char w[SCH_PATH_TEXT];
	return model_fail(err, 400, MODEL_INVALID,
			  "Invalid value '%.120s' for field '%s': a key is 1 to 100 characters of "
			  "letters, digits, '_' and '-'",
			  s, sch_path_text(path, w, sizeof(w)));
}

static int check_param_name(json_t *v, const struct sch_path *path, struct model_error *err)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	bool ok = n >= 1 && n <= 255;
	for (size_t i = 0; ok && i < n; i++) {
		char c = s[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_' || c == '-' || c == '.';
	}
	if (ok)
		return 0;
	char w[SCH_PATH_TEXT];
	return model_fail(err, 400, MODEL_INVALID,
			  "Invalid value '%.120s' for field '%s': a parameter name is letters, "
			  "digits, '_', '-' and '.'",
			  s, sch_path_text(path, w, sizeof(w)));
}

static int check_dbt_commands(json_t *v, const struct sch_path *path, struct model_error *err)
{
	size_t i;
	json_t *c;
	json_array_foreach (v, i, c) {
		char w[SCH_PATH_TEXT];
		if (strncmp(json_string_value(c), "dbt", 3) != 0)
			return model_fail(err, 400, MODEL_INVALID,
					  "Invalid value for field '%s[%zu]': every dbt command "
					  "starts with 'dbt'",
					  sch_path_text(path, w, sizeof(w)), i);
	}
	return 0;
}

static int check_run_as(json_t *o, const struct sch_path *path, struct model_error *err)
{
	static const char *const names[] = {"user_name", "service_principal_name", "group_name",
					    NULL};
	return exclusive(o, path, names, true, err);
}

static int check_git_source(json_t *o, const struct sch_path *path, struct model_error *err)
{
	static const char *const refs[] = {"git_branch", "git_tag", "git_commit", NULL};
	return exclusive(o, path, refs, false, err);
}

static int check_wheel(json_t *o, const struct sch_path *path, struct model_error *err)
{
	static const char *const p[] = {"parameters", "named_parameters", NULL};
	return exclusive(o, path, p, false, err);
}

static int check_sql_task(json_t *o, const struct sch_path *path, struct model_error *err)
{
	static const char *const kinds[] = {"query", "file", "alert", "dashboard", NULL};
	return exclusive(o, path, kinds, true, err);
}

static int check_subscription(json_t *o, const struct sch_path *path, struct model_error *err)
{
	static const char *const who[] = {"user_name", "destination_id", NULL};
	return exclusive(o, path, who, false, err);
}

static int check_library(json_t *o, const struct sch_path *path, struct model_error *err)
{
	static const char *const kinds[] = {"jar",  "egg",   "whl",  "requirements",
					    "pypi", "maven", "cran", NULL};
	return exclusive(o, path, kinds, true, err);
}

static int check_autoscale(json_t *o, const struct sch_path *path, struct model_error *err)
{
	json_t *lo = json_object_get(o, "min_workers"), *hi = json_object_get(o, "max_workers");
	char w[SCH_PATH_TEXT];
	if (lo && hi && json_integer_value(hi) < json_integer_value(lo))
		return model_fail(err, 400, MODEL_INVALID,
				  "%s: max_workers must not be less than min_workers",
				  sch_path_text(path, w, sizeof(w)));
	return 0;
}

static int check_trigger(json_t *o, const struct sch_path *path, struct model_error *err)
{
	/* jobsd has no Unity Catalog tables or registered models to watch; refuse
	 * rather than accept a trigger that could never fire. */
	static const char *const unsupported[] = {"table_update", "table", "model", "sql_condition",
						  NULL};
	char w[SCH_PATH_TEXT];
	for (const char *const *u = unsupported; *u; u++)
		if (json_object_get(o, *u))
			return model_fail(
				err, 400, MODEL_INVALID,
				"%s.%s: this trigger kind is not supported by jobsd (no "
				"Unity Catalog tables or models to watch); use "
				"schedule, trigger.periodic, trigger.file_arrival or continuous",
				sch_path_text(path, w, sizeof(w)), *u);
	static const char *const kinds[] = {"file_arrival", "periodic", NULL};
	return exclusive(o, path, kinds, true, err);
}

/* --- objects ------------------------------------------------------------------- */

static const struct sch_field cron_fields[] = {
	STR_CHECK("quartz_cron_expression", SF_REQUIRED | SF_NONEMPTY, check_cron),
	STR_CHECK("timezone_id", SF_REQUIRED | SF_NONEMPTY, check_timezone),
	ENUM("pause_status", pause_status),
	END,
};
static const struct sch_object cron_schedule = {"CronSchedule", cron_fields, NULL};

static const struct sch_field continuous_fields[] = {
	ENUM("pause_status", pause_status),
	ENUM("task_retry_mode", task_retry_mode),
	END,
};
static const struct sch_object continuous = {"Continuous", continuous_fields, NULL};

static const struct sch_field queue_fields[] = {BOOL_REQ("enabled"), END};
static const struct sch_object queue = {"QueueSettings", queue_fields, NULL};

static const struct sch_field run_as_fields[] = {
	STR("user_name"),
	STR("service_principal_name"),
	STR("group_name"),
	END,
};
static const struct sch_object run_as = {"JobRunAs", run_as_fields, check_run_as};

static const struct sch_field deployment_fields[] = {
	ENUM_REQ("kind", deployment_kind),
	STR("deployment_id"),
	STR("version_id"),
	STR("metadata_file_path"),
	END,
};
static const struct sch_object deployment = {"JobDeployment", deployment_fields, NULL};

static const struct sch_field health_rule_fields[] = {
	ENUM_REQ("metric", health_metric),
	ENUM_REQ("op", health_op),
	INT64_REQ("value"),
	END,
};
static const struct sch_object health_rule = {"JobsHealthRule", health_rule_fields, NULL};
static const struct sch_field health_fields[] = {ARR_OBJ("rules", health_rule), END};
static const struct sch_object health = {"JobsHealthRules", health_fields, NULL};

static const struct sch_field email_fields[] = {
	ARR_ASCII("on_start"),
	ARR_ASCII("on_success"),
	ARR_ASCII("on_failure"),
	ARR_ASCII("on_duration_warning_threshold_exceeded"),
	ARR_ASCII("on_streaming_backlog_exceeded"),
	BOOL("no_alert_for_skipped_runs"),
	END,
};
static const struct sch_object email_notifications = {"JobEmailNotifications", email_fields, NULL};

static const struct sch_field webhook_fields[] = {STR_REQ("id"), END};
static const struct sch_object webhook = {"Webhook", webhook_fields, NULL};
static const struct sch_field webhook_notif_fields[] = {
	ARR_OBJ_MAX("on_start", webhook, 3),
	ARR_OBJ_MAX("on_success", webhook, 3),
	ARR_OBJ_MAX("on_failure", webhook, 3),
	ARR_OBJ_MAX("on_duration_warning_threshold_exceeded", webhook, 3),
	ARR_OBJ_MAX("on_streaming_backlog_exceeded", webhook, 3),
	END,
};
static const struct sch_object webhook_notifications = {"WebhookNotifications",
							webhook_notif_fields, NULL};

static const struct sch_field job_notif_fields[] = {
	BOOL("no_alert_for_skipped_runs"),
	BOOL("no_alert_for_canceled_runs"),
	END,
};
static const struct sch_object job_notification_settings = {"JobNotificationSettings",
							    job_notif_fields, NULL};
static const struct sch_field task_notif_fields[] = {
	BOOL("no_alert_for_skipped_runs"),
	BOOL("no_alert_for_canceled_runs"),
	BOOL("alert_on_last_attempt"),
	END,
};
static const struct sch_object task_notification_settings = {"TaskNotificationSettings",
							     task_notif_fields, NULL};

static const struct sch_field git_snapshot_fields[] = {STR("used_commit"), END};
static const struct sch_object git_snapshot = {"GitSnapshot", git_snapshot_fields, NULL};
static const struct sch_field job_source_fields[] = {
	STR_REQ("import_from_git_branch"),
	STR_REQ("job_config_path"),
	ENUM("dirty_state", dirty_state),
	END,
};
static const struct sch_object job_source = {"JobSource", job_source_fields, NULL};
static const struct sch_field git_source_fields[] = {
	{.name = "git_url", .kind = SK_STRING, .flags = SF_REQUIRED | SF_NONEMPTY, .max = 300},
	STR_CHECK("git_provider", SF_REQUIRED, check_git_provider),
	STR_MAX("git_branch", 255),
	STR_MAX("git_tag", 255),
	STR_MAX("git_commit", 64),
	OBJ("git_snapshot", git_snapshot),
	MAP("sparse_checkout"),
	OBJ("job_source", job_source),
	END,
};
static const struct sch_object git_source = {"GitSource", git_source_fields, check_git_source};

static const struct sch_field param_def_fields[] = {
	STR_CHECK("name", SF_REQUIRED, check_param_name),
	{.name = "default", .kind = SK_STRING, .flags = SF_REQUIRED},
	END,
};
static const struct sch_object param_def = {"JobParameterDefinition", param_def_fields, NULL};

/* compute.ClusterSpec: checked for types; cloud-specific objects kept as given. */
static const struct sch_field autoscale_fields[] = {
	RANGE("min_workers", 0, 100000),
	RANGE("max_workers", 0, 100000),
	END,
};
static const struct sch_object autoscale = {"AutoScale", autoscale_fields, check_autoscale};
static const struct sch_field cluster_fields[] = {
	STR("spark_version"),
	STR("node_type_id"),
	STR("driver_node_type_id"),
	RANGE("num_workers", 0, 100000),
	OBJ("autoscale", autoscale),
	MAP("spark_conf"), /* values may be booleans or numbers in the wild */
	STRMAP("spark_env_vars"),
	{.name = "custom_tags", .kind = SK_STRMAP, .max = 45},
	ARR_MAP("init_scripts"),
	MAP("cluster_log_conf"),
	MAP("aws_attributes"),
	MAP("azure_attributes"),
	MAP("gcp_attributes"),
	MAP("docker_image"),
	MAP("workload_type"),
	STR("policy_id"),
	BOOL("apply_policy_default_values"),
	STR("instance_pool_id"),
	STR("driver_instance_pool_id"),
	STR("data_security_mode"),
	STR("single_user_name"),
	STR("runtime_engine"),
	STR("cluster_name"),
	STR("kind"),
	BOOL("is_single_node"),
	BOOL("use_ml_runtime"),
	BOOL("enable_elastic_disk"),
	BOOL("enable_local_disk_encryption"),
	INT32("autotermination_minutes"),
	{.name = "ssh_public_keys", .kind = SK_ARRAY, .elem = SK_STRING, .max = 10},
	END,
};
static const struct sch_object cluster_spec = {"ClusterSpec", cluster_fields, NULL};

static const struct sch_field job_cluster_fields[] = {
	STR_CHECK("job_cluster_key", SF_REQUIRED, check_key),
	OBJ_REQ("new_cluster", cluster_spec),
	END,
};
static const struct sch_object job_cluster = {"JobCluster", job_cluster_fields, NULL};

static const struct sch_field env_spec_fields[] = {
	STR("client"),
	STR("environment_version"),
	STR("base_environment"),
	ARR_STR("dependencies"),
	ARR_STR("jar_dependencies"),
	ARR_STR("java_dependencies"),
	END,
};
static const struct sch_object env_spec = {"Environment", env_spec_fields, NULL};
static const struct sch_field job_env_fields[] = {
	STR_CHECK("environment_key", SF_REQUIRED, check_key),
	OBJ("spec", env_spec),
	END,
};
static const struct sch_object job_environment = {"JobEnvironment", job_env_fields, NULL};

static const struct sch_field pypi_fields[] = {STR_REQ("package"), STR("repo"), END};
static const struct sch_object pypi = {"PythonPyPiLibrary", pypi_fields, NULL};
static const struct sch_field maven_fields[] = {
	STR_REQ("coordinates"),
	STR("repo"),
	ARR_STR("exclusions"),
	END,
};
static const struct sch_object maven = {"MavenLibrary", maven_fields, NULL};
static const struct sch_field cran_fields[] = {STR_REQ("package"), STR("repo"), END};
static const struct sch_object cran = {"RCranLibrary", cran_fields, NULL};
static const struct sch_field library_fields[] = {
	STR("jar"),	   STR("egg"),		STR("whl"),	   STR("requirements"),
	OBJ("pypi", pypi), OBJ("maven", maven), OBJ("cran", cran), END,
};
static const struct sch_object library = {"Library", library_fields, check_library};

/* --- task kinds -------------------------------------------------------------------- */

static const struct sch_field dependency_fields[] = {STR_REQ("task_key"), STR("outcome"), END};
static const struct sch_object dependency = {"TaskDependency", dependency_fields, NULL};

static const struct sch_field notebook_fields[] = {
	STR_REQ("notebook_path"), STRMAP("base_parameters"),   ENUM("source", source_enum),
	STR("warehouse_id"),	  INT64("revision_timestamp"), END,
};
static const struct sch_object notebook_task = {"NotebookTask", notebook_fields, NULL};

static const struct sch_field python_fields[] = {
	STR_REQ("python_file"),
	ARR_STR("parameters"),
	ENUM("source", source_enum),
	END,
};
static const struct sch_object spark_python_task = {"SparkPythonTask", python_fields, NULL};

static const struct sch_field jar_fields[] = {
	STR("main_class_name"), STR("jar_uri"), ARR_STR("parameters"), BOOL("run_as_repl"), END,
};
static const struct sch_object spark_jar_task = {"SparkJarTask", jar_fields, NULL};

static const struct sch_field submit_fields[] = {ARR_STR("parameters"), END};
static const struct sch_object spark_submit_task = {"SparkSubmitTask", submit_fields, NULL};

static const struct sch_field wheel_fields[] = {
	STR_REQ("package_name"),
	STR_REQ("entry_point"),
	ARR_STR("parameters"),
	STRMAP("named_parameters"),
	END,
};
static const struct sch_object python_wheel_task = {"PythonWheelTask", wheel_fields, check_wheel};

static const struct sch_field subscription_fields[] = {STR("user_name"), STR("destination_id"),
						       END};
static const struct sch_object subscription = {"SqlTaskSubscription", subscription_fields,
					       check_subscription};
static const struct sch_field sql_query_fields[] = {STR_REQ("query_id"), END};
static const struct sch_object sql_query = {"SqlTaskQuery", sql_query_fields, NULL};
static const struct sch_field sql_file_fields[] = {STR_REQ("path"), ENUM("source", source_enum),
						   END};
static const struct sch_object sql_file = {"SqlTaskFile", sql_file_fields, NULL};
static const struct sch_field sql_alert_fields[] = {
	STR_REQ("alert_id"),
	ARR_OBJ("subscriptions", subscription),
	BOOL("pause_subscriptions"),
	END,
};
static const struct sch_object sql_alert = {"SqlTaskAlert", sql_alert_fields, NULL};
static const struct sch_field sql_dashboard_fields[] = {
	STR_REQ("dashboard_id"),
	ARR_OBJ("subscriptions", subscription),
	STR("custom_subject"),
	BOOL("pause_subscriptions"),
	END,
};
static const struct sch_object sql_dashboard = {"SqlTaskDashboard", sql_dashboard_fields, NULL};
static const struct sch_field sql_fields[] = {
	STR_REQ("warehouse_id"),
	OBJ("query", sql_query),
	OBJ("file", sql_file),
	OBJ("alert", sql_alert),
	OBJ("dashboard", sql_dashboard),
	STRMAP("parameters"),
	END,
};
static const struct sch_object sql_task = {"SqlTask", sql_fields, check_sql_task};

static const struct sch_field dbt_fields[] = {
	{.name = "commands",
	 .kind = SK_ARRAY,
	 .elem = SK_STRING,
	 .flags = SF_REQUIRED | SF_NONEMPTY,
	 .max = 10,
	 .check = check_dbt_commands},
	STR("project_directory"),
	STR("profiles_directory"),
	STR("warehouse_id"),
	STR("catalog"),
	STR("schema"),
	ENUM("source", source_enum),
	END,
};
static const struct sch_object dbt_task = {"DbtTask", dbt_fields, NULL};

static const struct sch_field run_job_fields[] = {
	INT64_REQ("job_id"),
	STRMAP("job_parameters"),
	STRMAP("notebook_params"),
	ARR_ASCII("python_params"),
	ARR_STR("jar_params"),
	ARR_ASCII("spark_submit_params"),
	STRMAP("python_named_params"),
	STRMAP("sql_params"),
	ARR_STR("dbt_commands"),
	MAP("pipeline_params"),
	END,
};
static const struct sch_object run_job_task = {"RunJobTask", run_job_fields, NULL};

static const struct sch_field condition_fields[] = {
	{.name = "left", .kind = SK_STRING, .flags = SF_REQUIRED},
	ENUM_REQ("op", condition_op),
	{.name = "right", .kind = SK_STRING, .flags = SF_REQUIRED},
	END,
};
static const struct sch_object condition_task = {"ConditionTask", condition_fields, NULL};

static const struct sch_field pipeline_fields[] = {
	STR_REQ("pipeline_id"),
	BOOL("full_refresh"),
	ARR_STR("full_refresh_selection"),
	ARR_STR("refresh_selection"),
	ARR_STR("refresh_flow_selection"),
	ARR_STR("reset_checkpoint_selection"),
	STRMAP("parameters"),
	END,
};
static const struct sch_object pipeline_task = {"PipelineTask", pipeline_fields, NULL};

static const struct sch_field clean_rooms_fields[] = {
	STR_REQ("clean_room_name"),
	STR_REQ("notebook_name"),
	STRMAP("notebook_base_parameters"),
	STR("etag"),
	END,
};
static const struct sch_object clean_rooms_task = {"CleanRoomsNotebookTask", clean_rooms_fields,
						   NULL};

/* ForEachTask and Task refer to each other. */
static const struct sch_field for_each_fields[];
static const struct sch_object for_each_task;

/* The task-kind members of a Task; exactly one must be present. job.c uses
 * the same list to move a 2.0 single-task job's kind in and out of tasks[0]. */
const char *const job_task_kinds[] = {
	"notebook_task",
	"spark_jar_task",
	"spark_python_task",
	"spark_submit_task",
	"pipeline_task",
	"python_wheel_task",
	"sql_task",
	"dbt_task",
	"run_job_task",
	"condition_task",
	"for_each_task",
	"clean_rooms_notebook_task",
	"dashboard_task",
	"power_bi_task",
	"dbt_cloud_task",
	"dbt_platform_task",
	"gen_ai_compute_task",
	"python_operator_task",
	"alert_task",
	"ai_runtime_task",
	NULL,
};

static int check_task(json_t *o, const struct sch_path *path, struct model_error *err)
{
	if (exclusive(o, path, job_task_kinds, true, err))
		return -1;
	static const char *const compute[] = {"existing_cluster_id", "new_cluster",
					      "job_cluster_key", "environment_key", NULL};
	return exclusive(o, path, compute, false, err);
}

#define TASK_COMMON_FIELDS                                                                        \
	STR_CHECK("task_key", SF_REQUIRED, check_key), STR_MAX("description", 4096),              \
		ARR_OBJ("depends_on", dependency), ENUM("run_if", run_if_enum), BOOL("disabled"), \
		STR("existing_cluster_id"), OBJ("new_cluster", cluster_spec),                     \
		STR_CHECK("job_cluster_key", 0, check_key),                                       \
		STR_CHECK("environment_key", 0, check_key), ARR_OBJ("libraries", library),        \
		RANGE("max_retries", -1, INT32_MAX),                                              \
		RANGE("min_retry_interval_millis", 0, INT32_MAX), BOOL("retry_on_timeout"),       \
		RANGE("timeout_seconds", 0, INT32_MAX), OBJ("health", health),                    \
		OBJ("email_notifications", email_notifications),                                  \
		OBJ("webhook_notifications", webhook_notifications),                              \
		OBJ("notification_settings", task_notification_settings), MAP("compute"),         \
		BOOL("disable_auto_optimization"), OBJ("notebook_task", notebook_task),           \
		OBJ("spark_jar_task", spark_jar_task),                                            \
		OBJ("spark_python_task", spark_python_task),                                      \
		OBJ("spark_submit_task", spark_submit_task), OBJ("pipeline_task", pipeline_task), \
		OBJ("python_wheel_task", python_wheel_task), OBJ("sql_task", sql_task),           \
		OBJ("dbt_task", dbt_task), OBJ("run_job_task", run_job_task),                     \
		OBJ("condition_task", condition_task),                                            \
		OBJ("clean_rooms_notebook_task", clean_rooms_task), MAP("dashboard_task"),        \
		MAP("power_bi_task"), MAP("dbt_cloud_task"), MAP("dbt_platform_task"),            \
		MAP("gen_ai_compute_task"), MAP("python_operator_task"), MAP("alert_task"),       \
		MAP("ai_runtime_task")

static const struct sch_field task_fields[] = {
	TASK_COMMON_FIELDS,
	OBJ("for_each_task", for_each_task),
	END,
};
const struct sch_object job_task_schema = {"Task", task_fields, check_task};

/* The task inside a for_each_task cannot itself be a for_each_task. */
static int check_nested_task(json_t *o, const struct sch_path *path, struct model_error *err)
{
	if (json_object_get(o, "for_each_task")) {
		char w[SCH_PATH_TEXT];
		return model_fail(err, 400, MODEL_INVALID,
				  "%s.for_each_task: the task of a for_each_task cannot itself be a "
				  "for_each_task",
				  sch_path_text(path, w, sizeof(w)));
	}
	return check_task(o, path, err);
}

static const struct sch_field nested_task_fields[] = {TASK_COMMON_FIELDS, END};
static const struct sch_object nested_task = {"Task", nested_task_fields, check_nested_task};

static const struct sch_field for_each_fields[] = {
	STR_REQ("inputs"),
	OBJ_REQ("task", nested_task),
	RANGE("concurrency", 1, 100),
	END,
};
static const struct sch_object for_each_task = {"ForEachTask", for_each_fields, NULL};

/* --- triggers and the settings themselves -------------------------------------------- */

static const struct sch_field file_arrival_fields[] = {
	STR_REQ("url"),
	RANGE("min_time_between_triggers_seconds", 60, INT32_MAX),
	RANGE("wait_after_last_change_seconds", 60, INT32_MAX),
	END,
};
static const struct sch_object file_arrival = {"FileArrivalTriggerConfiguration",
					       file_arrival_fields, NULL};
static const struct sch_field periodic_fields[] = {
	RANGE_REQ("interval", 1, INT32_MAX),
	ENUM_REQ("unit", periodic_unit),
	END,
};
static const struct sch_object periodic = {"PeriodicTriggerConfiguration", periodic_fields, NULL};
static const struct sch_field trigger_fields[] = {
	ENUM("pause_status", pause_status),
	OBJ("file_arrival", file_arrival),
	OBJ("periodic", periodic),
	MAP("table_update"),
	MAP("table"),
	MAP("model"),
	MAP("sql_condition"),
	END,
};
static const struct sch_object trigger = {"TriggerSettings", trigger_fields, check_trigger};

static int check_settings(json_t *o, const struct sch_path *path, struct model_error *err)
{
	static const char *const when[] = {"schedule", "trigger", "continuous", NULL};
	if (sch_count_present(o, when) > 1)
		return exclusive(o, path, when, false, err);
	if (json_array_size(json_object_get(o, "triggers")) > 0) {
		/* Nothing would read the list, so nothing in it would ever fire. */
		char w[SCH_PATH_TEXT];
		sch_path_render(path, w, sizeof(w));
		return model_fail(err, 400, MODEL_INVALID,
				  "%s%striggers: the multi-trigger list (a preview of the service) is "
				  "not supported by jobsd; use schedule, trigger or continuous",
				  w, *w ? "." : "");
	}
	if (json_object_get(o, "triggers") && sch_count_present(o, when) > 0) {
		char w[SCH_PATH_TEXT];
		sch_path_render(path, w, sizeof(w));
		return model_fail(err, 400, MODEL_INVALID,
				  "%s%striggers cannot be combined with schedule, trigger or "
				  "continuous",
				  w, *w ? ": " : "");
	}
	return 0;
}

static const struct sch_field settings_fields[] = {
	STR_MAX("name", 4096),
	STR_MAX("description", 27700),
	STRMAP("tags"),
	ARR_OBJ("tasks", job_task_schema),
	ARR_OBJ("job_clusters", job_cluster),
	ARR_OBJ("environments", job_environment),
	ARR_OBJ("parameters", param_def),
	OBJ("git_source", git_source),
	OBJ("schedule", cron_schedule),
	OBJ("trigger", trigger),
	ARR_MAP("triggers"),
	OBJ("continuous", continuous),
	OBJ("queue", queue),
	OBJ("run_as", run_as),
	RANGE("max_concurrent_runs", 0, 1000),
	RANGE("timeout_seconds", 0, INT32_MAX),
	OBJ("health", health),
	OBJ("email_notifications", email_notifications),
	OBJ("webhook_notifications", webhook_notifications),
	OBJ("notification_settings", job_notification_settings),
	ENUM("edit_mode", edit_mode),
	OBJ("deployment", deployment),
	STR("budget_policy_id"),
	STR("usage_policy_id"),
	ENUM("performance_target", performance_target),
	STR("parent_path"),
	END,
};
const struct sch_object job_settings_schema = {"JobSettings", settings_fields, check_settings};
