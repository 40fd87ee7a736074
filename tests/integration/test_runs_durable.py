"""Durable run control (issue 4 items 3 and 5): one run per idempotency
token under concurrent identical requests; job timeouts and retry delays
are deadlines stored with the run and honoured across restarts."""
import concurrent.futures
import time

from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    FAIL_PY, SLEEP_NB, cond_task, create_job, get_run, nb_task, py_task, reap_tasks, result,
    run_now, std_files, task, wait_run, wait_task_running)


def test_concurrent_identical_requests_make_one_run(server):
    job = create_job(server, {"max_concurrent_runs": 100,
                              "tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    submit_body = {"tasks": [cond_task("c", "1", "EQUAL_TO", "1")], "idempotency_token": "s"}

    def now(_):
        return server.ok("POST", "/api/2.2/jobs/run-now",
                         json={"job_id": job, "idempotency_token": "n"})["run_id"]

    def sub(_):
        return server.ok("POST", "/api/2.2/jobs/runs/submit", json=submit_body)["run_id"]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        nows = set(pool.map(now, range(32)))
        subs = set(pool.map(sub, range(32)))
    assert len(nows) == 1 and len(subs) == 1
    runs = server.ok("GET", "/api/2.2/jobs/runs/list?limit=25")["runs"]
    assert len(runs) == 2


def test_a_job_timeout_is_honoured_across_a_restart(server):
    std_files(server)
    job = create_job(server, {"timeout_seconds": 3,
                              "tasks": [nb_task("s", SLEEP_NB, {"s": "30"})]})
    rid = run_now(server, job)["run_id"]
    wait_task_running(server, rid, "s")
    t0 = time.monotonic()
    server.kill()
    time.sleep(0.5)
    server.start()
    run = wait_run(server, rid, timeout=20)
    assert result(run) == "TIMEDOUT", run["state"]
    assert time.monotonic() - t0 < 3 + 10  # the deadline, plus the grace period
    start, end = run["start_time"], run["end_time"]
    assert end - start >= 3000


def test_a_retry_delay_is_honoured_across_a_restart(server):
    std_files(server)
    job = create_job(server, {"tasks": [py_task("f", FAIL_PY, max_retries=1,
                                                min_retry_interval_millis=3000)]})
    rid = run_now(server, job)["run_id"]

    def waiting():
        t = task(get_run(server, rid), "f")
        return t if t["state"]["life_cycle_state"] == "WAITING_FOR_RETRY" else None

    from test_runs_helpers import wait_until
    first = wait_until(waiting, what="the retry to wait")
    server.kill()
    server.start()
    run = wait_run(server, rid)
    retry = task(run, "f")
    assert retry["attempt_number"] == 1 and retry["run_id"] == first["run_id"]
    # the second attempt started no earlier than 3 s after the first one started
    original = get_run(server, retry["original_attempt_run_id"])
    assert retry["start_time"] - original["start_time"] >= 3000
