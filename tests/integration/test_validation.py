"""Every refused request: the documented status, a JSON error whose message
names the problem, nothing changed, and the server still serving."""
import pytest
import requests

# Phrases that make the SDKs retry (reference §4); no error of ours may say them.
RETRY_PHRASES = ("Unexpected error", "Please try again later", "RPC token bucket",
                 "ClusterNotReadyException", "Timed out after", "deadline exceeded",
                 "connection refused", "i/o timeout")


def nb(key, path="/Users/admin/nb", **extra):
    return {"task_key": key, "notebook_task": {"notebook_path": path}, **extra}


def job_count(server):
    return len(server.ok("GET", "/api/2.1/jobs/list", params={"limit": 100}).get("jobs", []))


CASES = [
    # (settings, error_code, words the message must contain)
    ({"max_concurrent_runs": "x"}, "MALFORMED_REQUEST", ["max_concurrent_runs", "integer"]),
    ({"max_concurrent_runs": 1001}, "INVALID_PARAMETER_VALUE", ["max_concurrent_runs", "1001"]),
    ({"max_concurrent_runs": -1}, "INVALID_PARAMETER_VALUE", ["max_concurrent_runs"]),
    ({"name": 5}, "MALFORMED_REQUEST", ["name", "string"]),
    ({"name": "x" * 4097}, "INVALID_PARAMETER_VALUE", ["name", "too long"]),
    ({"tasks": {}}, "MALFORMED_REQUEST", ["tasks", "array"]),
    ({"tasks": [{"notebook_task": {"notebook_path": "/a"}}]}, "INVALID_PARAMETER_VALUE",
     ["tasks[0].task_key"]),
    ({"tasks": [{"task_key": "bad key!", "notebook_task": {"notebook_path": "/a"}}]},
     "INVALID_PARAMETER_VALUE", ["tasks[0].task_key"]),
    ({"tasks": [{"task_key": "a"}]}, "INVALID_PARAMETER_VALUE", ["tasks[0]", "notebook_task"]),
    ({"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/a"},
                 "spark_python_task": {"python_file": "/b.py"}}]},
     "INVALID_PARAMETER_VALUE", ["tasks[0]", "only one"]),
    ({"tasks": [{"task_key": "a", "notebook_task": {}}]}, "INVALID_PARAMETER_VALUE",
     ["tasks[0].notebook_task.notebook_path"]),
    ({"tasks": [nb("a"), nb("a")]}, "INVALID_PARAMETER_VALUE", ["Duplicate", "'a'"]),
    ({"tasks": [nb("a", depends_on=[{"task_key": "zz"}])]}, "INVALID_PARAMETER_VALUE",
     ["'zz'", "tasks[0].depends_on[0]"]),
    ({"tasks": [nb("a", depends_on=[{"task_key": "a"}])]}, "INVALID_PARAMETER_VALUE",
     ["itself"]),
    ({"tasks": [nb("a", depends_on=[{"task_key": "c"}]), nb("b", depends_on=[{"task_key": "a"}]),
                nb("c", depends_on=[{"task_key": "b"}])]}, "INVALID_PARAMETER_VALUE", ["cycle"]),
    ({"tasks": [nb("a", "Users/admin/nb")]}, "INVALID_PARAMETER_VALUE",
     ["tasks[0].notebook_task.notebook_path", "absolute"]),
    ({"tasks": [nb("a", "/Users/admin/../../etc/passwd")]}, "INVALID_PARAMETER_VALUE",
     ["notebook_path", ".."]),
    ({"tasks": [{"task_key": "p", "spark_python_task": {"python_file": "/a/../b.py"}}]},
     "INVALID_PARAMETER_VALUE", ["python_file", ".."]),
    ({"tasks": [nb(f"t{i}") for i in range(101)]}, "INVALID_PARAMETER_VALUE", ["tasks", "100"]),
    ({"schedule": {"quartz_cron_expression": "0 0 * * * *", "timezone_id": "UTC"}},
     "INVALID_PARAMETER_VALUE", ["Invalid quartz_cron_expression"]),
    ({"schedule": {"quartz_cron_expression": "not cron", "timezone_id": "UTC"}},
     "INVALID_PARAMETER_VALUE", ["Invalid quartz_cron_expression"]),
    ({"schedule": {"quartz_cron_expression": "0 0 12 * * ?", "timezone_id": "Mars/Olympus"}},
     "INVALID_PARAMETER_VALUE", ["timezone_id", "Mars/Olympus"]),
    ({"schedule": {"timezone_id": "UTC"}}, "INVALID_PARAMETER_VALUE",
     ["schedule.quartz_cron_expression"]),
    ({"schedule": {"quartz_cron_expression": "0 0 12 * * ?", "timezone_id": "UTC",
                   "pause_status": "STOPPED"}}, "INVALID_PARAMETER_VALUE",
     ["schedule.pause_status", "STOPPED"]),
    ({"tags": {f"k{i}": "v" for i in range(26)}}, "INVALID_PARAMETER_VALUE", ["tags", "25"]),
    ({"tags": {"a": 1}}, "MALFORMED_REQUEST", ["tags.a", "string"]),
    ({"schedule": {"quartz_cron_expression": "0 0 12 * * ?", "timezone_id": "UTC"},
      "continuous": {}}, "INVALID_PARAMETER_VALUE", ["schedule", "continuous"]),
    ({"git_source": {"git_url": "https://x", "git_provider": "gitHub", "git_branch": "a",
                     "git_tag": "b"}}, "INVALID_PARAMETER_VALUE", ["git_branch", "git_tag"]),
    ({"git_source": {"git_url": "https://x", "git_provider": "sourceforge"}},
     "INVALID_PARAMETER_VALUE", ["git_provider"]),
    ({"tasks": [nb("a", job_cluster_key="nope")]}, "INVALID_PARAMETER_VALUE",
     ["job_cluster_key", "nope"]),
    ({"tasks": [nb("a", depends_on=[{"task_key": "b", "outcome": "true"}]), nb("b")]},
     "INVALID_PARAMETER_VALUE", ["outcome", "condition"]),
    ({"parameters": [{"name": "bad name", "default": "x"}]}, "INVALID_PARAMETER_VALUE",
     ["parameters[0].name"]),
    ({"parameters": [{"name": "p"}]}, "INVALID_PARAMETER_VALUE", ["parameters[0].default"]),
    ({"webhook_notifications": {"on_start": [{"id": "1"}, {"id": "2"}, {"id": "3"},
                                             {"id": "4"}]}},
     "INVALID_PARAMETER_VALUE", ["webhook_notifications.on_start", "3"]),
    ({"email_notifications": {"on_start": ["名前@example.com"]}}, "INVALID_PARAMETER_VALUE",
     ["email_notifications.on_start", "ASCII"]),
    ({"trigger": {"table_update": {"table_names": ["a.b.c"]}}}, "INVALID_PARAMETER_VALUE",
     ["table_update", "not supported"]),
    ({"trigger": {"file_arrival": {"url": "/x", "min_time_between_triggers_seconds": 5}}},
     "INVALID_PARAMETER_VALUE", ["min_time_between_triggers_seconds"]),
    ({"queue": {}}, "INVALID_PARAMETER_VALUE", ["queue.enabled"]),
    ({"run_as": {}}, "INVALID_PARAMETER_VALUE", ["run_as", "user_name"]),
    ({"timeout_seconds": 1.5}, "MALFORMED_REQUEST", ["timeout_seconds"]),
]


@pytest.mark.parametrize("settings,code,words", CASES,
                         ids=[f"case{i}" for i in range(len(CASES))])
def test_create_refused(server, settings, code, words):
    for version in ("2.1", "2.2"):
        body = server.error("POST", f"/api/{version}/jobs/create", 400, code, json=settings)
        for w in words:
            assert w in body["message"], (w, body["message"])
        assert not any(p in body["message"] for p in RETRY_PHRASES)
    assert job_count(server) == 0
    assert server.get_raw("/healthz").status_code == 200


def test_2_1_refuses_the_single_task_shape(server):
    body = server.error("POST", "/api/2.1/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                        json={"notebook_task": {"notebook_path": "/a"}})
    assert "notebook_task" in body["message"] and "2.0" in body["message"]


def test_2_0_single_task_errors_name_the_top_level_field(server):
    body = server.error("POST", "/api/2.0/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                        json={"notebook_task": {"notebook_path": "relative/path"}})
    assert "notebook_task.notebook_path" in body["message"]
    assert "tasks[" not in body["message"]


def test_malformed_json(server):
    for raw in (b"{", b"[1,2]", b"{\"name\": }", b"\xff\xfe"):
        body = server.error("POST", "/api/2.1/jobs/create", 400, "MALFORMED_REQUEST", data=raw,
                            headers={"Content-Type": "application/json"})
        assert "Invalid JSON" in body["message"]
    assert job_count(server) == 0


def test_unknown_paths_and_versions(server):
    for method, path in (("GET", "/api/2.2/jobs/nope"), ("GET", "/api/2.3/jobs/list"),
                         ("GET", "/api/2.1/jobs/create"), ("POST", "/api/2.1/jobs/get"),
                         ("GET", "/api/3.0/jobs/list"), ("GET", "/api/2.1/workspace/list")):
        body = server.error(method, path, 404, "ENDPOINT_NOT_FOUND")
        assert path in body["message"]


def test_missing_and_bad_ids(server):
    for version in ("2.0", "2.1", "2.2"):
        body = server.error("GET", f"/api/{version}/jobs/get", 400, "INVALID_PARAMETER_VALUE")
        assert body["message"] == "Missing required field: job_id"
        body = server.error("GET", f"/api/{version}/jobs/get", 400, "INVALID_PARAMETER_VALUE",
                            params={"job_id": "abc"})
        assert "job_id" in body["message"]
        body = server.error("GET", f"/api/{version}/jobs/get", 400, "INVALID_PARAMETER_VALUE",
                            params={"job_id": 998654886170278})
        assert body["message"] == "Job 998654886170278 does not exist."
    for ep in ("update", "reset"):
        body = server.error("POST", f"/api/2.1/jobs/{ep}", 400, "INVALID_PARAMETER_VALUE",
                            json={"job_id": 42, "new_settings": {"name": "x"}})
        assert body["message"] == "Job 42 does not exist."
    body = server.error("POST", "/api/2.1/jobs/reset", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": 42})
    assert "new_settings" in body["message"]


def test_update_errors_change_nothing(server):
    job_id = server.ok("POST", "/api/2.1/jobs/create", json={"name": "x"})["job_id"]
    before = server.ok("GET", "/api/2.1/jobs/get", params={"job_id": job_id})
    for body, code in (({"new_settings": []}, "MALFORMED_REQUEST"),
                       ({"fields_to_remove": "name"}, "MALFORMED_REQUEST"),
                       ({"fields_to_remove": [1]}, "MALFORMED_REQUEST"),
                       ({"new_settings": {"max_concurrent_runs": 5000}}, "INVALID_PARAMETER_VALUE"),
                       ({"new_settings": {"notebook_task": {"notebook_path": "/a"}}},
                        "INVALID_PARAMETER_VALUE")):
        server.error("POST", "/api/2.1/jobs/update", 400, code, json={"job_id": job_id, **body})
    assert server.ok("GET", "/api/2.1/jobs/get", params={"job_id": job_id}) == before


def test_body_over_10_mb_is_refused_without_reading_it(server):
    big = b"{\"name\": \"" + b"x" * (11 * 1024 * 1024) + b"\"}"
    r = server.api("POST", "/api/2.1/jobs/create", data=big,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error_code"] == "RESOURCE_LIMIT_EXCEEDED"
    assert "limit" in r.json()["message"]
    assert job_count(server) == 0
    assert server.get_raw("/healthz").status_code == 200


def test_chunked_body_over_the_limit(server):
    def chunks():
        yield b"{\"name\": \""
        for _ in range(11):
            yield b"x" * (1024 * 1024)
        yield b"\"}"
    r = server.api("POST", "/api/2.1/jobs/create", data=chunks(),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == "RESOURCE_LIMIT_EXCEEDED"
    assert job_count(server) == 0


def test_saved_jobs_limit(make_server):
    server = make_server(extra_args=["--max-saved-jobs", "3"]).start()
    for _ in range(3):
        server.ok("POST", "/api/2.1/jobs/create", json={"name": "x"})
    body = server.error("POST", "/api/2.1/jobs/create", 400, "RESOURCE_LIMIT_EXCEEDED",
                        json={"name": "y"})
    assert "3" in body["message"]
    assert job_count(server) == 3


def test_garbage_never_crashes_the_server(server):
    junk = [b"", b"null", b"\"str\"", b"{\"tasks\": [null]}", b"{\"tasks\": [[]]}",
            b"{\"schedule\": []}", b"{\"tasks\": [{\"task_key\": \"a\", \"for_each_task\": "
            b"{\"inputs\": \"[]\", \"task\": {\"task_key\": \"b\", \"for_each_task\": {}}}}]}",
            b"{\"job_clusters\": [{\"job_cluster_key\": \"a\", \"new_cluster\": 5}]}",
            b"{\"name\": \"\\u0000\"}", b"{\"a\":" * 5000]
    for raw in junk:
        for ep in ("create", "update", "reset"):
            r = server.api("POST", f"/api/2.2/jobs/{ep}", data=raw,
                           headers={"Content-Type": "application/json"})
            assert r.status_code in (200, 400), (raw[:40], r.status_code, r.text)
            assert r.json()
    assert server.get_raw("/healthz").status_code == 200


def test_well_known_config_is_a_fast_404_without_a_token(server):
    r = requests.get(server.url + "/.well-known/databricks-config", timeout=5)
    assert r.status_code == 404


def test_endpoints_of_later_versions_say_so(server):
    for method, path in (("GET", "/api/2.0/permissions/jobs/1"),):
        body = server.error(method, path, 501, "NOT_IMPLEMENTED", json={})
        assert "does not implement it yet" in body["message"]


def test_nul_byte_in_a_query_value_is_refused_not_truncated(server):
    server.ok("POST", "/api/2.0/workspace/mkdirs", json={"path": "/Users/a"})
    r = server.api("GET", "/api/2.0/workspace/get-status?path=/Users/a%00b")
    assert r.status_code == 400 and "NUL" in r.json()["message"]
    r = server.api("GET", "/api/2.2/jobs/get?job_id=1%00")
    assert r.status_code == 400


def test_json_bombs_are_refused_before_parsing(server):
    bomb = b'{"name": "x", "zzz": [' + b"[]," * 1_000_000 + b"[]]}"
    for method, path in (("POST", "/api/2.2/jobs/create"), ("GET", "/api/2.1/jobs/list")):
        r = server.api(method, path, data=bomb, headers={"Content-Type": "application/json"})
        if method == "POST":
            assert r.status_code == 400 and r.json()["error_code"] == "RESOURCE_LIMIT_EXCEEDED"
        else:
            assert r.status_code in (200, 400)
    rss = int(next(line.split()[1] for line in open(f"/proc/{server.proc.pid}/status")
                   if line.startswith("VmHWM:")))
    assert rss < 200_000, f"peak RSS {rss} kB"
    assert job_count(server) == 0


def test_messages_survive_invalid_utf8_in_what_the_client_sent(server):
    r = server.api("GET", "/api/2.0/foo%FF")
    assert r.status_code == 404 and r.json()["message"]
    body = server.error("POST", "/api/2.2/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                        json={"schedule": {"quartz_cron_expression": "0 0 12 * * ?",
                                           "timezone_id": "UTC",
                                           "pause_status": "a" + "é" * 80}})
    assert "pause_status" in body["message"]
    body = server.error("GET", "/api/2.2/jobs/get", 400, "INVALID_PARAMETER_VALUE",
                        params={"job_id": "a" + "é" * 100})
    assert "job_id" in body["message"]


def test_query_values_must_be_utf8(server):
    r = server.api("POST", "/api/2.0/preview/scim/v2/Users?userName=bob%FF", json={})
    assert r.status_code == 400 and "UTF-8" in r.json()["message"]
    r = server.api("POST", "/api/2.0/token/create?comment=%FF", json={})
    assert r.status_code == 400
    r = server.api("POST", "/api/2.0/preview/scim/v2/Users",
                   json={"userName": "dana", "displayName": "é" * 200})
    assert r.status_code == 400 and "displayName" in r.json()["message"]


def test_request_log_cannot_be_forged(server):
    server.api("GET", "/api/2.0/x%0a2026-01-01T00:00:00.000Z%20info%20%20forged")
    import time
    time.sleep(0.1)
    assert not any(line.startswith("2026-01-01T00:00:00.000Z")
                   for line in server.log_text().splitlines())
