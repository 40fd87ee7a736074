"""runs/repair (issue 4 item 4): rerun_tasks, rerun_all_failed_tasks,
rerun_dependent_tasks, latest_repair_id, new parameters, the job's current
settings, the run leaving its terminal state before the answer, and
repair_history."""
from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    ECHO_NB, OK_NB, create_job, dep, get_output, get_run, life, nb_task, py_task, pyfile,
    reap_tasks, result, run_now, std_files, submit, task, wait_run)

FLAKY = "/Users/admin@example.com/repair/flaky.py"
FLAKY_CODE = "import os, sys\nsys.exit(0 if os.path.exists(sys.argv[1]) else 4)\n"


def failing_run(server, tmp_path, **job_extra):
    """A run of a ok -> flaky -> after job where flaky failed (its marker is
    missing); returns (job_id, run)."""
    std_files(server)
    pyfile(server, FLAKY, FLAKY_CODE)
    marker = tmp_path / "marker"
    job = create_job(server, {"tasks": [
        nb_task("ok", OK_NB),
        py_task("flaky", FLAKY, [str(marker)], depends_on=dep("ok")),
        nb_task("after", OK_NB, depends_on=dep("flaky"))], **job_extra}, "2.2")
    run = wait_run(server, run_now(server, job, "2.2")["run_id"])
    assert result(run) == "FAILED"
    assert result(task(run, "after")) == "UPSTREAM_FAILED"
    marker.touch()
    return job, run


def repair(server, **body):
    return server.ok("POST", "/api/2.2/jobs/runs/repair", json=body)


def test_repair_all_failed_tasks(server, tmp_path):
    job, run = failing_run(server, tmp_path)
    rid = run["run_id"]
    repair_id = repair(server, run_id=rid, rerun_all_failed_tasks=True)["repair_id"]
    # non-terminal before the answer: SDK waiters read the run at once
    assert life(get_run(server, rid, "2.2")) in ("PENDING", "RUNNING")
    fixed = wait_run(server, rid, "2.2")
    assert result(fixed) == "SUCCESS"
    assert task(fixed, "ok")["run_id"] == task(run, "ok")["run_id"]  # not rerun
    assert task(fixed, "flaky")["run_id"] != task(run, "flaky")["run_id"]
    assert result(task(fixed, "after")) == "SUCCESS"
    assert fixed["end_time"] >= fixed["start_time"]
    hist = get_run(server, rid, "2.2", include_history="true")["repair_history"]
    assert [h["type"] for h in hist] == ["ORIGINAL", "REPAIR"]
    assert hist[0]["state"]["result_state"] == "FAILED"
    assert hist[1]["id"] == repair_id
    assert hist[1]["state"]["result_state"] == "SUCCESS"
    assert task(fixed, "flaky")["run_id"] in hist[1]["task_run_ids"]
    assert task(run, "flaky")["run_id"] in hist[0]["task_run_ids"]


def test_latest_repair_id_is_required_and_checked(server, tmp_path):
    job, run = failing_run(server, tmp_path)
    rid = run["run_id"]
    first = repair(server, run_id=rid, rerun_tasks=["ok"])["repair_id"]
    wait_run(server, rid)
    body = server.error("POST", "/api/2.2/jobs/runs/repair", 400, "INVALID_PARAMETER_VALUE",
                        json={"run_id": rid, "rerun_tasks": ["ok"]})
    assert "latest_repair_id" in body["message"]
    server.error("POST", "/api/2.2/jobs/runs/repair", 400, "INVALID_PARAMETER_VALUE",
                 json={"run_id": rid, "rerun_tasks": ["ok"], "latest_repair_id": first + 99})
    second = repair(server, run_id=rid, rerun_tasks=["ok"], latest_repair_id=first)["repair_id"]
    assert second != first
    hist = get_run(server, wait_run(server, rid)["run_id"], include_history="true")
    assert [h.get("id") for h in hist["repair_history"]] == [None, first, second]


def test_rerun_dependent_tasks_reruns_successful_downstream_tasks(server, tmp_path):
    job, run = failing_run(server, tmp_path)
    rid = run["run_id"]
    repair(server, run_id=rid, rerun_all_failed_tasks=True)
    fixed = wait_run(server, rid)
    after_id = task(fixed, "after")["run_id"]
    last = get_run(server, rid, include_history="true")["repair_history"][-1]["id"]
    repair(server, run_id=rid, rerun_tasks=["ok"], rerun_dependent_tasks=True,
           latest_repair_id=last)
    again = wait_run(server, rid)
    assert result(again) == "SUCCESS"
    assert task(again, "ok")["run_id"] != task(fixed, "ok")["run_id"]
    assert task(again, "after")["run_id"] != after_id


def test_repair_uses_the_current_settings_and_new_parameters(server, tmp_path):
    std_files(server)
    job = create_job(server, {"parameters": [{"name": "p", "default": "one"}],
                              "tasks": [nb_task("echo", ECHO_NB,
                                                {"count": "{{job.repair_count}}"})]}, "2.2")
    rid = run_now(server, job, "2.2")["run_id"]
    run = wait_run(server, rid)
    server.ok("POST", "/api/2.2/jobs/update", json={"job_id": job, "new_settings": {
        "tasks": [nb_task("echo", ECHO_NB, {"count": "{{job.repair_count}}", "new": "yes"})]}})
    repair(server, run_id=rid, rerun_tasks=["echo"], job_parameters={"p": "two"})
    fixed = wait_run(server, rid)
    import json
    out = json.loads(get_output(server, task(fixed, "echo")["run_id"])["notebook_output"]["result"])
    assert out == {"count": "1", "new": "yes", "p": "two"}
    assert {p["name"]: p["value"] for p in fixed["job_parameters"]} == {"p": "two"}
    assert task(run, "echo")["run_id"] != task(fixed, "echo")["run_id"]


def test_repair_refusals(server, tmp_path):
    job, run = failing_run(server, tmp_path)
    rid = run["run_id"]
    for body in ({"run_id": rid},
                 {"run_id": rid, "rerun_tasks": ["ok"], "rerun_all_failed_tasks": True},
                 {"run_id": rid, "rerun_tasks": ["nope"]},
                 {"run_id": 987654, "rerun_all_failed_tasks": True},
                 {"run_id": task(run, "ok")["run_id"], "rerun_all_failed_tasks": True}):
        server.error("POST", "/api/2.2/jobs/runs/repair", 400, "INVALID_PARAMETER_VALUE",
                     json=body)
    server.error("POST", "/api/2.0/jobs/runs/repair", 404, json={"run_id": rid})
    # an active run cannot be repaired
    repair(server, run_id=rid, rerun_all_failed_tasks=True)
    server.error("POST", "/api/2.2/jobs/runs/repair", 400, "INVALID_STATE",
                 json={"run_id": rid, "rerun_all_failed_tasks": True})
    wait_run(server, rid)


def test_a_submit_run_can_be_repaired(server, tmp_path):
    std_files(server)
    pyfile(server, FLAKY, FLAKY_CODE)
    marker = tmp_path / "m"
    rid = submit(server, {"tasks": [py_task("flaky", FLAKY, [str(marker)])]}, "2.2")
    assert result(wait_run(server, rid)) == "FAILED"
    marker.touch()
    repair(server, run_id=rid, rerun_all_failed_tasks=True)
    assert result(wait_run(server, rid)) == "SUCCESS"
