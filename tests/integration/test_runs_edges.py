"""Edge cases of runs found in review: run_job_task cycles and instant
children, references in a child's job_parameters, runs/submit without a
task, the idempotency token of a deleted run, and tokens in general."""
from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    cond_task, create_job, get_output, get_run, reap_tasks, result, run_now, submit, task,
    wait_run)


def test_a_job_that_runs_itself_fails_its_task_and_the_server_lives(server):
    job = create_job(server, {"tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    server.ok("POST", "/api/2.1/jobs/update", json={"job_id": job, "new_settings": {
        "tasks": [{"task_key": "loop", "run_job_task": {"job_id": job}}]}})
    run = wait_run(server, run_now(server, job)["run_id"])
    assert result(run) == "FAILED"
    assert "inside a run of itself" in task(run, "loop")["state"]["state_message"]
    server.ok("GET", "/api/2.1/jobs/list")  # still serving


def test_a_child_that_ends_at_once_ends_its_parent_task(server):
    child = create_job(server, {"name": "child", "tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    parent = create_job(server, {"tasks": [{"task_key": "call",
                                            "run_job_task": {"job_id": child}}]})
    run = wait_run(server, run_now(server, parent)["run_id"])
    assert result(run) == "SUCCESS"
    call = task(run, "call")
    assert call["state"]["life_cycle_state"] == "TERMINATED" and result(call) == "SUCCESS"
    server.restart()
    assert result(get_run(server, run["run_id"])) == "SUCCESS"


def test_references_in_a_child_job_parameters_are_the_parents(server):
    child = create_job(server, {"name": "child", "parameters": [{"name": "x", "default": "d"}],
                                "tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    parent = create_job(server, {"tasks": [{"task_key": "call", "run_job_task": {
        "job_id": child, "job_parameters": {"x": "{{job.run_id}}"}}}]})
    rid = run_now(server, parent)["run_id"]
    run = wait_run(server, rid)
    out = get_output(server, task(run, "call")["run_id"])
    child_run = get_run(server, out["run_job_output"]["run_id"])
    assert child_run["job_parameters"][0]["value"] == str(rid)


def test_submit_without_a_task_is_refused_in_every_version(server):
    for version in ("2.0", "2.1", "2.2"):
        for body in ({}, {"tasks": []}, {"run_name": "nothing"}):
            server.error("POST", f"/api/{version}/jobs/runs/submit", 400,
                         "INVALID_PARAMETER_VALUE", json=body)
    assert "runs" not in server.ok("GET", "/api/2.1/jobs/runs/list")


def test_one_run_per_token_even_after_the_run_is_deleted(server):
    job = create_job(server, {"tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    first = run_now(server, job, idempotency_token="tok-1")["run_id"]
    assert run_now(server, job, idempotency_token="tok-1")["run_id"] == first
    body = {"tasks": [cond_task("c", "1", "EQUAL_TO", "1")], "idempotency_token": "tok-2"}
    sid = submit(server, body)
    assert submit(server, body) == sid
    server.error("POST", "/api/2.1/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                 json={"job_id": job, "idempotency_token": "x" * 65})
    wait_run(server, first)
    server.ok("POST", "/api/2.1/jobs/runs/delete", json={"run_id": first})
    body = server.error("POST", "/api/2.1/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": job, "idempotency_token": "tok-1"})
    assert "deleted" in body["message"]
    server.restart()
    assert run_now(server, job, idempotency_token="tok-3")["run_id"] > sid
    server.error("POST", "/api/2.1/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                 json={"job_id": job, "idempotency_token": "tok-1"})


def test_a_run_job_task_is_retried_with_a_new_child_run(server, tmp_path):
    from test_runs_helpers import py_task, pyfile
    marker = tmp_path / "failed-once"
    flaky = pyfile(server, "/Users/admin@example.com/edges/flaky.py",
                   "import os, sys\nm = sys.argv[1]\nif not os.path.exists(m):\n"
                   "    open(m, 'w').close()\n    sys.exit(3)\n")
    child = create_job(server, {"name": "flaky", "tasks": [py_task("f", flaky, [str(marker)])]})
    parent = create_job(server, {"tasks": [{"task_key": "call", "max_retries": 1,
                                            "run_job_task": {"job_id": child}}]})
    run = wait_run(server, run_now(server, parent)["run_id"])
    assert result(run) == "SUCCESS", run
    call = task(run, "call")
    assert call["attempt_number"] == 1
    child_runs = server.ok("GET", f"/api/2.1/jobs/runs/list?job_id={child}")["runs"]
    assert [result(r) for r in child_runs] == ["SUCCESS", "FAILED"]
    assert get_output(server, call["run_id"])["run_job_output"]["run_id"] == \
        child_runs[0]["run_id"]
