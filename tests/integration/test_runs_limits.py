"""Workspace limits (issue 4 item 2): concurrent task runs (a run that
cannot start queues when its job queues, else 429 with Retry-After and no
run), the hourly creation limit (jobs/create and runs/submit count; 429),
and never a 429 after something was created."""
from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    block_task, cond_task, create_job, get_run, reap_tasks, result, run_now, std_files,
    wait_run, wait_task_running)


def test_the_task_run_limit_queues_or_refuses(make_server, tmp_path):
    server = make_server(extra_args=["--max-concurrent-task-runs", "1"]).start()
    std_files(server)
    gate = tmp_path / "gate"
    busy = create_job(server, {"tasks": [block_task("b", gate)]})
    first = run_now(server, busy)["run_id"]
    wait_task_running(server, first, "b")
    before = server.ok("GET", "/api/2.1/jobs/runs/list")["runs"]
    # a job without a queue: 429, Retry-After, nothing created
    other = create_job(server, {"tasks": [block_task("b", gate)]})
    r = server.api("POST", "/api/2.1/jobs/run-now", json={"job_id": other})
    assert r.status_code == 429, r.text
    assert r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert int(r.headers["Retry-After"]) >= 1
    r = server.api("POST", "/api/2.1/jobs/runs/submit",
                   json={"tasks": [block_task("b", gate)]})
    assert r.status_code == 429
    assert server.ok("GET", "/api/2.1/jobs/runs/list")["runs"] == before
    # a queueing job waits QUEUED, saying why, and starts when the slot frees
    queued = run_now(server, other, queue={"enabled": True})["run_id"]
    run = get_run(server, queued)
    assert run["state"]["life_cycle_state"] == "QUEUED"
    assert run["status"]["queue_details"]["code"] == "ACTIVE_RUNS_LIMIT_REACHED"
    assert "max_concurrent_task_runs" in run["state"]["state_message"]
    gate.touch()
    assert result(wait_run(server, first)) == "SUCCESS"
    assert result(wait_run(server, queued)) == "SUCCESS"


def test_the_hourly_creation_limit(make_server):
    server = make_server(extra_args=["--max-jobs-created-per-hour", "3"]).start()
    job = create_job(server, {"tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    body = {"tasks": [cond_task("c", "1", "EQUAL_TO", "1")], "idempotency_token": "t1"}
    sid = server.ok("POST", "/api/2.1/jobs/runs/submit", json=body)["run_id"]
    server.ok("POST", "/api/2.1/jobs/runs/submit",
              json={"tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    for path, payload in (("/api/2.1/jobs/create", {"name": "x"}),
                          ("/api/2.1/jobs/runs/submit",
                           {"tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})):
        r = server.api("POST", path, json=payload)
        assert r.status_code == 429, r.text
        assert r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        assert 3000 < int(r.headers["Retry-After"]) <= 3600
    # a retried submit whose run exists is answered, not refused
    assert server.ok("POST", "/api/2.1/jobs/runs/submit", json=body)["run_id"] == sid
    # run-now does not count
    assert result(wait_run(server, run_now(server, job)["run_id"])) == "SUCCESS"
    assert len(server.ok("GET", "/api/2.1/jobs/list")["jobs"]) == 1
