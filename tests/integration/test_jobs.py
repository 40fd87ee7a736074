"""Jobs API definitions (create, get, list, update, reset, delete) through 2.0,
2.1 and 2.2, against a real jobsd: shapes, defaults, merging and paging."""
import copy

import pytest

from conftest import load_fixture


def create(server, settings, version="2.1"):
    return server.ok("POST", f"/api/{version}/jobs/create", json=settings)["job_id"]


def get(server, job_id, version="2.1", **params):
    return server.ok("GET", f"/api/{version}/jobs/get", params={"job_id": job_id, **params})


def notebook_task(key, path="/Users/admin/nb", **extra):
    return {"task_key": key, "notebook_task": {"notebook_path": path}, **extra}


def assert_subset(expected, actual, path="settings"):
    """Every field of expected is in actual with the same value (actual may
    carry defaults the service adds)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r}"
        for k, v in expected.items():
            assert k in actual, f"{path}.{k} missing in {actual!r}"
            assert_subset(v, actual[k], f"{path}.{k}")
    else:
        assert expected == actual, f"{path}: {expected!r} != {actual!r}"


# --- the seed examples -------------------------------------------------------------

def test_seed_create_job_reads_back_through_2_0_exactly(server):
    body = load_fixture("create-job.json")
    job_id = create(server, body, "2.0")
    job = get(server, job_id, "2.0")
    assert job["job_id"] == job_id
    assert job["creator_user_name"] == "admin"
    assert isinstance(job["created_time"], int) and job["created_time"] > 1_600_000_000_000
    settings = job["settings"]
    expected = copy.deepcopy(body)
    expected["schedule"]["pause_status"] = "UNPAUSED"
    # Exactly the fields created, plus the service's defaults and nothing else.
    extra = set(settings) - set(expected)
    assert extra <= {"max_concurrent_runs", "format"}, extra
    assert {k: settings[k] for k in expected} == expected
    assert settings["format"] == "SINGLE_TASK"
    assert settings["max_concurrent_runs"] == 1


def test_seed_create_job_through_2_1_is_one_task(server):
    job_id = create(server, load_fixture("create-job.json"), "2.0")
    for version in ("2.1", "2.2"):
        s = get(server, job_id, version)["settings"]
        assert s["format"] == "SINGLE_TASK"
        assert "spark_jar_task" not in s and "new_cluster" not in s
        (task,) = s["tasks"]
        assert task["spark_jar_task"] == {"main_class_name": "com.databricks.ComputeModels"}
        assert task["max_retries"] == 1
        assert task["libraries"][1] == {"maven": {"coordinates": "org.jsoup:jsoup:1.7.2"}}
        assert task["task_key"]
        assert s["timeout_seconds"] == 3600


def test_seed_reset_and_update_examples(server):
    body = load_fixture("create-job.json")
    first = create(server, body, "2.0")
    second = create(server, {"name": "placeholder"}, "2.0")
    reset = load_fixture("reset-job.json")
    reset["job_id"] = second
    assert server.ok("POST", "/api/2.0/jobs/reset", json=reset) == {}
    s = get(server, second, "2.0")["settings"]
    assert {k: s[k] for k in reset["new_settings"]} == reset["new_settings"]

    update = load_fixture("update-job.json")
    update["job_id"] = first
    assert server.ok("POST", "/api/2.0/jobs/update", json=update) == {}
    s = get(server, first, "2.0")["settings"]
    assert "libraries" not in s
    assert s["existing_cluster_id"] == "1201-my-cluster"
    assert "new_cluster" not in s  # one compute at a time in the 2.0 shape
    assert s["email_notifications"] == update["new_settings"]["email_notifications"]
    assert s["spark_jar_task"] == body["spark_jar_task"]
    assert s["name"] == body["name"]


@pytest.mark.parametrize("version", ["2.0", "2.1", "2.2"])
def test_seed_multi_task_job_reads_back(server, version):
    body = load_fixture("multi-task-job.json")
    job_id = create(server, body, version)
    s = get(server, job_id, version)["settings"]
    expected = {k: v for k, v in body.items() if k != "format"}
    assert_subset(expected, s)
    assert s["format"] == "MULTI_TASK"
    assert [t["task_key"] for t in s["tasks"]] == ["Sessionize", "Orders_Ingest", "Match"]
    assert ("queue" in s) == (version == "2.2")


# --- defaults ------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2.0", "2.1", "2.2"])
def test_defaults(server, version):
    job_id = create(server, {"schedule": {"quartz_cron_expression": "0 0 * * * ?",
                                          "timezone_id": "UTC"}}, version)
    job = get(server, job_id, version)
    s = job["settings"]
    assert s["name"] == "Untitled"
    assert s["max_concurrent_runs"] == 1
    assert s["schedule"]["pause_status"] == "UNPAUSED"
    assert s["format"] == ("SINGLE_TASK" if version == "2.0" else "MULTI_TASK")
    if version == "2.2":
        assert s["queue"] == {"enabled": True}
    else:
        assert "queue" not in s
    assert job["run_as_user_name"] == "admin"


def test_format_in_request_is_ignored(server):
    job_id = create(server, {"name": "x", "format": "SINGLE_TASK", "tasks": [notebook_task("a")]})
    assert get(server, job_id)["settings"]["format"] == "MULTI_TASK"


def test_every_jobsettings_field_round_trips(server):
    settings = {
        "name": "everything",
        "description": "all the fields",
        "tags": {"team": "data"},
        "tasks": [
            {"task_key": "cond", "condition_task": {"op": "EQUAL_TO", "left": "{{job.id}}",
                                                    "right": "1"}},
            {"task_key": "nb", "depends_on": [{"task_key": "cond", "outcome": "true"}],
             "run_if": "ALL_SUCCESS", "job_cluster_key": "jc",
             "notebook_task": {"notebook_path": "/Users/admin/nb", "source": "WORKSPACE",
                               "base_parameters": {"a": "1"}},
             "max_retries": -1, "min_retry_interval_millis": 1000, "retry_on_timeout": True,
             "timeout_seconds": 60, "health": {"rules": [{"metric": "RUN_DURATION_SECONDS",
                                                          "op": "GREATER_THAN", "value": 10}]},
             "email_notifications": {"on_failure": ["a@example.com"]},
             "webhook_notifications": {"on_start": [{"id": "w1"}]},
             "notification_settings": {"alert_on_last_attempt": True},
             "libraries": [{"pypi": {"package": "requests"}}, {"whl": "/Workspace/x.whl"}]},
            {"task_key": "py", "depends_on": [{"task_key": "nb"}], "environment_key": "env",
             "spark_python_task": {"python_file": "/Users/admin/main.py",
                                   "parameters": ["--x", "1"]}},
            {"task_key": "wheel", "existing_cluster_id": "c1",
             "python_wheel_task": {"package_name": "p", "entry_point": "main",
                                   "named_parameters": {"k": "v"}}},
            {"task_key": "sql", "sql_task": {"warehouse_id": "w", "query": {"query_id": "q"}}},
            {"task_key": "dbt", "dbt_task": {"commands": ["dbt run"], "project_directory": "p"},
             "existing_cluster_id": "c1"},
            {"task_key": "child", "run_job_task": {"job_id": 1, "job_parameters": {"a": "b"}}},
            {"task_key": "loop", "for_each_task": {
                "inputs": "[1,2,3]", "concurrency": 2,
                "task": {"task_key": "loop_iter",
                         "notebook_task": {"notebook_path": "/Users/admin/iter"}}}},
            {"task_key": "pipe", "pipeline_task": {"pipeline_id": "p1", "full_refresh": True}},
            {"task_key": "jar", "spark_jar_task": {"main_class_name": "Main"},
             "existing_cluster_id": "c1"},
            {"task_key": "submit", "spark_submit_task": {"parameters": ["--class", "X"]},
             "new_cluster": {"spark_version": "13.3.x", "num_workers": 1}},
        ],
        "job_clusters": [{"job_cluster_key": "jc", "new_cluster": {"spark_version": "13.3.x",
                                                                   "node_type_id": "n",
                                                                   "num_workers": 2}}],
        "environments": [{"environment_key": "env",
                          "spec": {"environment_version": "2", "dependencies": ["pandas"]}}],
        "parameters": [{"name": "p.1", "default": "x"}],
        "git_source": {"git_url": "https://example.com/r.git", "git_provider": "github",
                       "git_branch": "main"},
        "trigger": {"periodic": {"interval": 2, "unit": "HOURS"}, "pause_status": "PAUSED"},
        "queue": {"enabled": False},
        "run_as": {"user_name": "admin"},
        "max_concurrent_runs": 5,
        "timeout_seconds": 3600,
        "health": {"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN",
                              "value": 100}]},
        "email_notifications": {"on_start": ["a@example.com"], "no_alert_for_skipped_runs": True},
        "webhook_notifications": {"on_success": [{"id": "w"}]},
        "notification_settings": {"no_alert_for_skipped_runs": True,
                                  "no_alert_for_canceled_runs": True},
        "edit_mode": "UI_LOCKED",
        "deployment": {"kind": "BUNDLE", "metadata_file_path": "/x"},
        "budget_policy_id": "bp",
        "performance_target": "STANDARD",
        "some_future_field": {"kept": True},
    }
    for version in ("2.1", "2.2"):
        job_id = create(server, settings, version)
        got = get(server, job_id, version)["settings"]
        assert_subset(settings, got)


# --- update / reset / delete ------------------------------------------------------------

def test_update_merges_tasks_and_clusters_by_key(server):
    job_id = create(server, {
        "name": "merge",
        "tasks": [notebook_task("a"), notebook_task("b", depends_on=[{"task_key": "a"}])],
        "job_clusters": [{"job_cluster_key": "x", "new_cluster": {"num_workers": 1}},
                         {"job_cluster_key": "y", "new_cluster": {"num_workers": 2}}],
        "tags": {"a": "1"},
        "timeout_seconds": 10,
    })
    server.ok("POST", "/api/2.1/jobs/update", json={
        "job_id": job_id,
        "new_settings": {
            "tasks": [notebook_task("b", "/Users/admin/other"), notebook_task("c")],
            "job_clusters": [{"job_cluster_key": "y", "new_cluster": {"num_workers": 5}}],
            "tags": {"b": "2"},
        },
        "fields_to_remove": ["timeout_seconds"],
    })
    s = get(server, job_id)["settings"]
    assert [t["task_key"] for t in s["tasks"]] == ["a", "b", "c"]
    b = s["tasks"][1]
    assert b["notebook_task"]["notebook_path"] == "/Users/admin/other"
    assert "depends_on" not in b  # replaced whole, not merged field by field
    assert [c["new_cluster"]["num_workers"] for c in s["job_clusters"]] == [1, 5]
    assert s["tags"] == {"b": "2"}  # top-level fields are replaced
    assert "timeout_seconds" not in s
    assert s["name"] == "merge"

    server.ok("POST", "/api/2.2/jobs/update", json={
        "job_id": job_id, "fields_to_remove": ["tasks/a", "job_clusters/x", "tasks/missing"]})
    s = get(server, job_id)["settings"]
    assert [t["task_key"] for t in s["tasks"]] == ["b", "c"]
    assert [c["job_cluster_key"] for c in s["job_clusters"]] == ["y"]


def test_update_that_breaks_the_graph_changes_nothing(server):
    job_id = create(server, {"tasks": [notebook_task("a"),
                                       notebook_task("b", depends_on=[{"task_key": "a"}])]})
    before = get(server, job_id)
    body = server.error("POST", "/api/2.1/jobs/update", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": job_id, "fields_to_remove": ["tasks/a"]})
    assert "'a'" in body["message"] and "depends_on" in body["message"]
    assert get(server, job_id) == before


def test_update_removing_name_restores_default(server):
    job_id = create(server, {"name": "n", "max_concurrent_runs": 3})
    server.ok("POST", "/api/2.1/jobs/update",
              json={"job_id": job_id, "fields_to_remove": ["name", "max_concurrent_runs"]})
    s = get(server, job_id)["settings"]
    assert s["name"] == "Untitled" and s["max_concurrent_runs"] == 1


def test_reset_replaces_everything(server):
    job_id = create(server, {"name": "old", "tags": {"a": "b"}, "tasks": [notebook_task("a")]})
    server.ok("POST", "/api/2.2/jobs/reset",
              json={"job_id": job_id, "new_settings": {"name": "new",
                                                       "tasks": [notebook_task("z")]}})
    s = get(server, job_id)["settings"]
    assert s["name"] == "new" and "tags" not in s
    assert [t["task_key"] for t in s["tasks"]] == ["z"]
    job = get(server, job_id)
    assert job["creator_user_name"] == "admin"


def test_2_0_update_single_task_job_keeps_its_shape(server):
    job_id = create(server, load_fixture("create-job.json"), "2.0")
    server.ok("POST", "/api/2.0/jobs/update", json={
        "job_id": job_id, "new_settings": {"notebook_task": {"notebook_path": "/Users/a/n"}}})
    s = get(server, job_id, "2.0")["settings"]
    assert s["notebook_task"] == {"notebook_path": "/Users/a/n"}
    assert "spark_jar_task" not in s  # one task kind replaces the other
    assert s["new_cluster"]["num_workers"] == 10
    assert s["format"] == "SINGLE_TASK"


def test_2_1_update_with_tasks_makes_a_single_task_job_multi_task(server):
    job_id = create(server, load_fixture("create-job.json"), "2.0")
    key = get(server, job_id)["settings"]["tasks"][0]["task_key"]
    server.ok("POST", "/api/2.1/jobs/update",
              json={"job_id": job_id, "new_settings": {"tasks": [notebook_task("second")]}})
    s = get(server, job_id)["settings"]
    assert s["format"] == "MULTI_TASK"
    assert [t["task_key"] for t in s["tasks"]] == [key, "second"]
    assert "tasks" in get(server, job_id, "2.0")["settings"]


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_delete(server, version):
    job_id = create(server, {"name": "doomed"})
    assert server.ok("POST", f"/api/{version}/jobs/delete", json={"job_id": job_id}) == {}
    body = server.error("GET", f"/api/{version}/jobs/get", 400, "INVALID_PARAMETER_VALUE",
                        params={"job_id": job_id})
    assert body["message"] == f"Job {job_id} does not exist."
    body = server.error("POST", f"/api/{version}/jobs/delete", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": job_id})
    assert body["message"] == f"Job {job_id} does not exist."
    # ids are never reused
    assert create(server, {"name": "next"}) > job_id


def test_2_0_delete_of_a_removed_job_is_a_no_op(server):
    job_id = create(server, {"name": "doomed"}, "2.0")
    server.ok("POST", "/api/2.0/jobs/delete", json={"job_id": job_id})
    assert server.ok("POST", "/api/2.0/jobs/delete", json={"job_id": job_id}) == {}


# --- list -------------------------------------------------------------------------------

def make_jobs(server, n, name="job"):
    return [create(server, {"name": f"{name}-{i}", "tasks": [notebook_task("t")]})
            for i in range(n)]


def test_list_newest_first_with_offset_and_has_more(server):
    ids = make_jobs(server, 7)
    page = server.ok("GET", "/api/2.1/jobs/list", params={"limit": 3})
    assert [j["job_id"] for j in page["jobs"]] == ids[::-1][:3]
    assert page["has_more"] is True
    page = server.ok("GET", "/api/2.1/jobs/list", params={"limit": 3, "offset": 6})
    assert [j["job_id"] for j in page["jobs"]] == [ids[0]]
    assert page["has_more"] is False
    assert "tasks" not in page["jobs"][0]["settings"]


def test_list_pages_with_tokens_through_2_2(server):
    ids = make_jobs(server, 25)
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 10}
        if token:
            params["page_token"] = token
        page = server.ok("GET", "/api/2.2/jobs/list", params=params)
        pages += 1
        seen += [j["job_id"] for j in page.get("jobs", [])]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == ids[::-1] and pages == 3
    # prev_page_token goes back to the page before
    p1 = server.ok("GET", "/api/2.2/jobs/list", params={"limit": 10})
    p2 = server.ok("GET", "/api/2.2/jobs/list",
                   params={"limit": 10, "page_token": p1["next_page_token"]})
    back = server.ok("GET", "/api/2.2/jobs/list",
                     params={"limit": 10, "page_token": p2["prev_page_token"]})
    assert [j["job_id"] for j in back["jobs"]] == [j["job_id"] for j in p1["jobs"]]
    assert "prev_page_token" not in p1


def test_list_empty_omits_jobs(server):
    page = server.ok("GET", "/api/2.2/jobs/list")
    assert "jobs" not in page and page["has_more"] is False


def test_list_name_filter_is_exact_and_case_insensitive(server):
    make_jobs(server, 2, "other")
    a = create(server, {"name": "Nightly ETL"})
    create(server, {"name": "Nightly ETL 2"})
    page = server.ok("GET", "/api/2.2/jobs/list", params={"name": "nightly etl"})
    assert [j["job_id"] for j in page["jobs"]] == [a]


def test_list_expand_tasks(server):
    create(server, {"name": "x", "tasks": [notebook_task("a")],
                    "job_clusters": [{"job_cluster_key": "c", "new_cluster": {}}]})
    brief = server.ok("GET", "/api/2.2/jobs/list")["jobs"][0]["settings"]
    assert "tasks" not in brief and "job_clusters" not in brief and brief["name"] == "x"
    full = server.ok("GET", "/api/2.2/jobs/list",
                     params={"expand_tasks": "true"})["jobs"][0]["settings"]
    assert full["tasks"][0]["task_key"] == "a" and full["job_clusters"][0]["job_cluster_key"] == "c"


def test_list_limit_is_clamped_and_validated(server):
    make_jobs(server, 3)
    assert len(server.ok("GET", "/api/2.1/jobs/list", params={"limit": 1000})["jobs"]) == 3
    server.error("GET", "/api/2.1/jobs/list", 400, "INVALID_PARAMETER_VALUE", params={"limit": -1})
    server.error("GET", "/api/2.2/jobs/list", 400, "INVALID_PARAMETER_VALUE",
                 params={"page_token": "garbage!"})


# --- 2.2 paging of large jobs --------------------------------------------------------------

def test_get_pages_tasks_100_at_a_time_in_2_2(make_server):
    server = make_server(extra_args=["--max-tasks-per-job", "1000"]).start()
    tasks = [notebook_task(f"t{i:03d}") for i in range(250)]
    job_id = create(server, {"name": "big", "tasks": tasks}, "2.2")
    first = get(server, job_id, "2.2")
    assert len(first["settings"]["tasks"]) == 100 and first["next_page_token"]
    collected = list(first["settings"]["tasks"])
    token = first["next_page_token"]
    while token:
        page = get(server, job_id, "2.2", page_token=token)
        collected += page["settings"]["tasks"]
        token = page.get("next_page_token")
    assert [t["task_key"] for t in collected] == [t["task_key"] for t in tasks]
    # 2.1 returns them all at once
    assert len(get(server, job_id, "2.1")["settings"]["tasks"]) == 250
    listed = server.ok("GET", "/api/2.2/jobs/list", params={"expand_tasks": "true"})["jobs"][0]
    assert len(listed["settings"]["tasks"]) == 100 and listed["has_more"] is True


def test_get_accepts_legacy_json_body_on_get(server):
    job_id = create(server, {"name": "legacy"})
    r = server.api("GET", "/api/2.0/jobs/get", json={"job_id": job_id})
    assert r.status_code == 200 and r.json()["settings"]["name"] == "legacy"


def test_job_id_as_string_is_accepted(server):
    job_id = create(server, {"name": "s"})
    server.ok("POST", "/api/2.1/jobs/update",
              json={"job_id": str(job_id), "new_settings": {"name": "t"}})
    assert get(server, job_id)["settings"]["name"] == "t"


def test_run_as_user_name(server):
    r = server.api("POST", "/api/2.0/preview/scim/v2/Users", json={"userName": "ana@example.com"})
    assert r.status_code == 201, r.text
    job_id = create(server, {"name": "r", "run_as": {"user_name": "ana@example.com"}})
    job = get(server, job_id)
    assert job["run_as_user_name"] == "ana@example.com"
    assert job["creator_user_name"] == "admin"


def test_reset_keeps_run_as_and_falls_back_to_the_creator(server):
    r = server.api("POST", "/api/2.0/preview/scim/v2/Users", json={"userName": "bo@example.com"})
    bo = server.ok("POST", "/api/2.0/token-management/on-behalf-of/tokens",
                   json={"application_id": "bo@example.com"})["token_value"]
    assert r.status_code == 201
    job_id = server.ok("POST", "/api/2.2/jobs/create", json={"name": "x"})["job_id"]
    # bo resets admin's job, naming himself as run_as: that choice stands
    server.ok("POST", "/api/2.2/jobs/reset", token=bo,
              json={"job_id": job_id, "new_settings": {"name": "y",
                                                       "run_as": {"user_name": "bo@example.com"}}})
    assert get(server, job_id)["run_as_user_name"] == "bo@example.com"
    # without run_as, runs go as the job's creator, not as whoever reset it
    server.ok("POST", "/api/2.2/jobs/reset", token=bo,
              json={"job_id": job_id, "new_settings": {"name": "z"}})
    job = get(server, job_id)
    assert job["run_as_user_name"] == "admin" and job["creator_user_name"] == "admin"


def test_run_as_rules(server):
    assert server.api("POST", "/api/2.0/preview/scim/v2/Users",
                      json={"userName": "cy@example.com"}).status_code == 201
    cy = server.ok("POST", "/api/2.0/token-management/on-behalf-of/tokens",
                   json={"application_id": "cy@example.com"})["token_value"]
    # a user may name only themself
    body = server.error("POST", "/api/2.2/jobs/create", 403, "PERMISSION_DENIED", token=cy,
                        json={"name": "x", "run_as": {"user_name": "admin"}})
    assert "admin" in body["message"]
    server.ok("POST", "/api/2.2/jobs/create", token=cy,
              json={"name": "x", "run_as": {"user_name": "cy@example.com"}})
    # nobody may name a user that does not exist, or a service principal
    server.error("POST", "/api/2.2/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                 json={"name": "x", "run_as": {"user_name": "ghost@example.com"}})
    server.error("POST", "/api/2.2/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                 json={"name": "x", "run_as": {"service_principal_name": "abc"}})
    # updates and resets are checked too, and refused changes change nothing
    job_id = server.ok("POST", "/api/2.2/jobs/create", token=cy, json={"name": "mine"})["job_id"]
    server.error("POST", "/api/2.2/jobs/update", 403, "PERMISSION_DENIED", token=cy,
                 json={"job_id": job_id, "new_settings": {"run_as": {"user_name": "admin"}}})
    server.error("POST", "/api/2.2/jobs/reset", 403, "PERMISSION_DENIED", token=cy,
                 json={"job_id": job_id, "new_settings": {"run_as": {"user_name": "admin"}}})
    assert get(server, job_id)["run_as_user_name"] == "cy@example.com"
