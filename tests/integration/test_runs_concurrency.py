"""Per-job concurrency (issue 4 item 1): max_concurrent_runs, SKIPPED runs
without a queue, QUEUED runs with one (arrival order, the reason in
status.queue_details and state_message), run-now's queue override, a raised
limit starting queued runs, cancel of queued runs, and a queue that
survives a restart."""
from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    block_task, create_job, get_run, life, reap_tasks, result, run_now, std_files, task,
    wait_run, wait_task_running, wait_until)


def blocking_job(server, gate, version="2.1", **extra):
    std_files(server)
    return create_job(server, {"tasks": [block_task("b", gate)], **extra}, version)


def state(run):
    return run["state"]["life_cycle_state"]


def test_over_the_limit_without_a_queue_is_skipped(server, tmp_path):
    gate = tmp_path / "gate"
    job = blocking_job(server, gate, max_concurrent_runs=1)  # 2.1: no queue
    first = run_now(server, job)["run_id"]
    wait_task_running(server, first, "b")
    second = get_run(server, run_now(server, job)["run_id"])
    assert state(second) == "SKIPPED"
    assert "maximum of 1 concurrent runs" in second["state"]["state_message"]
    assert second["status"]["state"] == "TERMINATED"
    details = second["status"]["termination_details"]
    assert details["code"] == "MAX_CONCURRENT_RUNS_EXCEEDED"
    assert details["type"] == "CLIENT_ERROR"
    assert all(state(t) == "SKIPPED" for t in second["tasks"])
    assert state(get_run(server, first)) == "RUNNING"  # untouched
    gate.touch()
    assert result(wait_run(server, first)) == "SUCCESS"


def test_max_concurrent_runs_zero_skips_every_run(server, tmp_path):
    job = blocking_job(server, tmp_path / "gate", "2.2", max_concurrent_runs=0)  # queue on
    run = get_run(server, run_now(server, job)["run_id"])
    assert state(run) == "SKIPPED"
    assert run["status"]["termination_details"]["code"] == "MAX_CONCURRENT_RUNS_EXCEEDED"


def test_a_queue_starts_runs_in_arrival_order(server, tmp_path):
    gate = tmp_path / "gate"
    job = blocking_job(server, gate, "2.2")  # 2.2: queue enabled, max 1
    ids = [run_now(server, job, "2.2")["run_id"] for _ in range(3)]
    wait_task_running(server, ids[0], "b")
    for rid in ids[1:]:
        run = get_run(server, rid, "2.2")
        assert state(run) == "QUEUED"
        assert run["status"]["state"] == "QUEUED"
        assert run["status"]["queue_details"]["code"] == "MAX_CONCURRENT_RUNS_REACHED"
        assert "max_concurrent_runs" in run["state"]["state_message"]
    gate.touch()
    runs = [wait_run(server, rid, "2.2") for rid in ids]
    assert [result(r) for r in runs] == ["SUCCESS"] * 3
    starts = [task(r, "b")["start_time"] for r in runs]
    assert starts == sorted(starts)
    for earlier, later in zip(runs, runs[1:]):
        assert task(later, "b")["start_time"] >= earlier["end_time"]
    assert runs[2]["queue_duration"] > 0


def test_run_now_queue_overrides_the_job(server, tmp_path):
    gate = tmp_path / "gate"
    job = blocking_job(server, gate)  # 2.1: queue off
    first = run_now(server, job)["run_id"]
    wait_task_running(server, first, "b")
    queued = run_now(server, job, queue={"enabled": True})["run_id"]
    assert state(get_run(server, queued)) == "QUEUED"
    job22 = blocking_job(server, gate, "2.2")
    a = run_now(server, job22, "2.2")["run_id"]
    wait_task_running(server, a, "b")
    skipped = run_now(server, job22, "2.2", queue={"enabled": False})["run_id"]
    assert state(get_run(server, skipped)) == "SKIPPED"
    server.error("POST", "/api/2.1/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                 json={"job_id": job, "queue": {"enabled": "yes"}})
    gate.touch()
    assert result(wait_run(server, queued)) == "SUCCESS"


def test_raising_the_limit_starts_queued_runs_and_lowering_kills_nothing(server, tmp_path):
    gate = tmp_path / "gate"
    job = blocking_job(server, gate, "2.2")
    ids = [run_now(server, job, "2.2")["run_id"] for _ in range(3)]
    wait_task_running(server, ids[0], "b")
    server.ok("POST", "/api/2.2/jobs/update",
              json={"job_id": job, "new_settings": {"max_concurrent_runs": 3}})
    for rid in ids[1:]:
        wait_task_running(server, rid, "b")
    server.ok("POST", "/api/2.2/jobs/update",
              json={"job_id": job, "new_settings": {"max_concurrent_runs": 1}})
    assert all(state(get_run(server, rid)) == "RUNNING" for rid in ids)
    gate.touch()
    assert [result(wait_run(server, rid)) for rid in ids] == ["SUCCESS"] * 3


def test_queued_runs_are_cancelled_without_starting(server, tmp_path):
    gate = tmp_path / "gate"
    job = blocking_job(server, gate, "2.2")
    ids = [run_now(server, job, "2.2")["run_id"] for _ in range(3)]
    wait_task_running(server, ids[0], "b")
    server.ok("POST", "/api/2.2/jobs/runs/cancel", json={"run_id": ids[1]})
    run = wait_run(server, ids[1])
    assert result(run) == "CANCELED"
    assert all(t["start_time"] == 0 for t in run["tasks"])
    # all_queued_runs without a job: every queued run of the workspace, not running ones
    server.ok("POST", "/api/2.2/jobs/runs/cancel-all", json={"all_queued_runs": True})
    assert result(wait_run(server, ids[2])) == "CANCELED"
    assert state(get_run(server, ids[0])) == "RUNNING"
    gate.touch()
    assert result(wait_run(server, ids[0])) == "SUCCESS"


def test_the_queue_survives_a_restart(server, tmp_path):
    gate = tmp_path / "gate"
    job = blocking_job(server, gate, "2.2")
    first = run_now(server, job, "2.2")["run_id"]
    wait_task_running(server, first, "b")
    second = run_now(server, job, "2.2")["run_id"]
    server.kill()
    server.start()
    assert state(get_run(server, second)) == "QUEUED"
    gate.touch()
    assert result(wait_run(server, first)) == "SUCCESS"
    assert result(wait_run(server, second)) == "SUCCESS"
