"""Timeouts, retries and cancel (issue 3, item 6) against a real jobsd whose
grace period (SIGTERM -> SIGKILL) is 500 ms: task and job timeout_seconds,
max_retries with min_retry_interval_millis, retry_on_timeout, each attempt a
task run of its own, runs/cancel of running and finished runs. Processes are
checked through the pids their supervisors record."""
import time

import pytest

from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    FAIL_PY, OK_NB, TERMINAL, attempt_dir, block_task, cancel, create_job, dep, get_output,
    get_run, life, list_runs, nb_task, pid_alive, py_task, pyfile, reap_tasks, result, run_now,
    std_files, submit, task_pid, tasks_by_key, wait_run, wait_task_running, wait_until)

GRACE_MS = 500
SLACK_MS = 400  # polling, HTTP and a loaded 2-core machine

SLEEPER_PY = "/Users/admin@example.com/ctl/sleeper.py"
STUBBORN_PY = "/Users/admin@example.com/ctl/stubborn.py"
FLAKY_PY = "/Users/admin@example.com/ctl/flaky.py"
COUNTER_PY = "/Users/admin@example.com/ctl/counter.py"
SLOW_ONCE_PY = "/Users/admin@example.com/ctl/slow_once.py"

# Starts a child in its own process group (the task's), says both pids, sleeps.
SLEEPER = """
import subprocess, sys, time
child = subprocess.Popen(["sleep", "30"])
print("pids", child.pid, flush=True)
time.sleep(30)
"""
# The same, deaf to SIGTERM (the child inherits the ignored disposition).
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen(["sleep", "30"])
print("pids", child.pid, flush=True)
time.sleep(30)
"""
# Fails the first time (no marker yet), succeeds afterwards.
FLAKY = """
import os, sys
marker = sys.argv[1]
if not os.path.exists(marker):
    open(marker, "w").close()
    print("first attempt fails", flush=True)
    sys.exit(1)
print("later attempt succeeds")
"""
# Succeeds on attempt number int(argv[2]) (counting from 1).
COUNTER = """
import os, sys
path, need = sys.argv[1], int(sys.argv[2])
n = int(open(path).read()) + 1 if os.path.exists(path) else 1
open(path, "w").write(str(n))
print("attempt", n)
sys.exit(0 if n >= need else 1)
"""
# Sleeps (past any small timeout) the first time, ends at once afterwards.
SLOW_ONCE = """
import os, sys, time
marker = sys.argv[1]
if not os.path.exists(marker):
    open(marker, "w").close()
    time.sleep(30)
print("quick")
"""


@pytest.fixture
def srv(make_server):
    s = make_server(extra_args=["--task-grace-ms", str(GRACE_MS)]).start()
    std_files(s)
    pyfile(s, SLEEPER_PY, SLEEPER)
    pyfile(s, STUBBORN_PY, STUBBORN)
    pyfile(s, FLAKY_PY, FLAKY)
    pyfile(s, COUNTER_PY, COUNTER)
    pyfile(s, SLOW_ONCE_PY, SLOW_ONCE)
    return s


def child_pid(server, task_run_id):
    def read():
        try:
            text = (attempt_dir(server, task_run_id) / "stdout").read_text()
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            if line.startswith("pids "):
                return int(line.split()[1])
        return None
    return wait_until(read, 10, what="the task to print its child's pid")


def elapsed_ms(t):
    return t["end_time"] - t["start_time"]


# --- timeouts -------------------------------------------------------------------------------

def test_task_timeout_ends_the_whole_process_group(srv):
    server = srv
    rid = submit(server, {"tasks": [
        py_task("polite", SLEEPER_PY, timeout_seconds=1),
        py_task("deaf", STUBBORN_PY, timeout_seconds=1),
        nb_task("after", OK_NB, depends_on=dep("polite"))]})
    polite = wait_task_running(server, rid, "polite")
    deaf = wait_task_running(server, rid, "deaf")
    pids = {k: (task_pid(server, t["run_id"]), child_pid(server, t["run_id"]))
            for k, t in (("polite", polite), ("deaf", deaf))}
    run = wait_run(server, rid)
    ts = tasks_by_key(run)
    for key in ("polite", "deaf"):
        t = ts[key]
        assert result(t) == "TIMEDOUT", t
        assert t["state"]["life_cycle_state"] == "TERMINATED"
        assert t["state"]["user_cancelled_or_timedout"] is True
        assert t["status"]["termination_details"]["code"] == "CANCELED"
        assert t["attempt_number"] == 0
        for pid in pids[key]:
            assert not pid_alive(pid), (key, pid)
    # SIGTERM ends the polite one at once; the deaf one waits out the grace.
    assert 1000 <= elapsed_ms(ts["polite"]) < 1000 + SLACK_MS
    assert 1000 + GRACE_MS - 100 <= elapsed_ms(ts["deaf"]) < 1000 + GRACE_MS + SLACK_MS
    assert result(ts["after"]) == "UPSTREAM_FAILED"
    assert result(run) != "SUCCESS"


def test_job_timeout(srv, tmp_path):
    server = srv
    job = create_job(server, {"timeout_seconds": 1, "tasks": [
        block_task("slow", tmp_path / "never"),
        nb_task("after", OK_NB, depends_on=dep("slow"))]})
    rid = run_now(server, job)["run_id"]
    t = wait_task_running(server, rid, "slow")
    pid = task_pid(server, t["run_id"])
    run = wait_run(server, rid)
    assert result(run) == "TIMEDOUT", run
    assert run["state"]["user_cancelled_or_timedout"] is True
    assert run["status"]["state"] == "TERMINATED"
    assert run["status"]["termination_details"]["code"] == "CANCELED"
    assert 1000 <= run["end_time"] - run["start_time"] < 1000 + GRACE_MS + SLACK_MS
    ts = tasks_by_key(run)
    assert result(ts["slow"]) in ("TIMEDOUT", "CANCELED"), ts["slow"]
    assert result(ts["after"]) in ("UPSTREAM_CANCELED", "UPSTREAM_FAILED", "CANCELED",
                                   "TIMEDOUT"), ts["after"]
    assert not (attempt_dir(server, ts["after"]["run_id"]) / "supervisor").exists()
    assert not pid_alive(pid)


def test_a_new_job_timeout_applies_to_active_runs(srv, tmp_path):
    """Reference §3: a change to timeout_seconds applies to active runs."""
    server = srv
    job = create_job(server, {"tasks": [block_task("slow", tmp_path / "never")]})
    rid = run_now(server, job)["run_id"]
    wait_task_running(server, rid, "slow")
    server.ok("POST", "/api/2.1/jobs/update", json={"job_id": job,
                                                    "new_settings": {"timeout_seconds": 1}})
    run = wait_run(server, rid, timeout=6)
    assert result(run) == "TIMEDOUT", run
    assert run["end_time"] - run["start_time"] < 1000 + GRACE_MS + 2000


# --- retries ----------------------------------------------------------------------------------

def test_max_retries_each_attempt_a_task_run(srv, tmp_path):
    server = srv
    job = create_job(server, {"tasks": [
        py_task("flaky", FLAKY_PY, [str(tmp_path / "flaky.marker")], max_retries=2,
                min_retry_interval_millis=600),
        py_task("hopeless", FAIL_PY, max_retries=1),
        py_task("unlimited", COUNTER_PY, [str(tmp_path / "count"), "3"], max_retries=-1),
    ]})
    rid = run_now(server, job)["run_id"]
    run = wait_run(server, rid)
    ts = tasks_by_key(run)

    flaky = ts["flaky"]
    assert result(flaky) == "SUCCESS"
    assert flaky["attempt_number"] == 1
    first_id = flaky["original_attempt_run_id"]
    assert first_id != flaky["run_id"]
    first = get_run(server, first_id)
    assert first["attempt_number"] == 0
    assert first["task_key"] == "flaky"
    assert result(first) == "FAILED"
    # min_retry_interval_millis: counted from the failed attempt's start
    assert flaky["start_time"] - first["start_time"] >= 600
    assert flaky["start_time"] - first["end_time"] < 600 + 3000
    # each attempt has its own output
    assert "first attempt fails" in get_output(server, first_id)["logs"]
    assert "later attempt succeeds" in get_output(server, flaky["run_id"])["logs"]
    assert attempt_dir(server, first_id).is_dir()

    hopeless = ts["hopeless"]
    assert result(hopeless) == "FAILED"
    assert hopeless["attempt_number"] == 1  # max_retries 1: two attempts in all
    assert get_run(server, hopeless["original_attempt_run_id"])["attempt_number"] == 0

    unlimited = ts["unlimited"]
    assert result(unlimited) == "SUCCESS"
    assert unlimited["attempt_number"] == 2
    assert (tmp_path / "count").read_text() == "3"

    assert result(run) == "FAILED"  # the hopeless leaf
    # every attempt's task run is known to the run
    hist = get_run(server, rid, include_history="true")["repair_history"][0]["task_run_ids"]
    assert {first_id, flaky["run_id"], hopeless["run_id"]} <= set(hist)


def test_retry_on_timeout(srv, tmp_path):
    server = srv
    rid = submit(server, {"tasks": [
        py_task("retried", SLOW_ONCE_PY, [str(tmp_path / "a")], timeout_seconds=1,
                max_retries=1, retry_on_timeout=True),
        py_task("not_retried", SLOW_ONCE_PY, [str(tmp_path / "b")], timeout_seconds=1,
                max_retries=1),
    ]})
    run = wait_run(server, rid)
    ts = tasks_by_key(run)
    assert result(ts["retried"]) == "SUCCESS", ts["retried"]
    assert ts["retried"]["attempt_number"] == 1
    first = get_run(server, ts["retried"]["original_attempt_run_id"])
    assert result(first) == "TIMEDOUT"
    assert result(ts["not_retried"]) == "TIMEDOUT"
    assert ts["not_retried"]["attempt_number"] == 0


def test_2_0_single_task_job_retries_are_runs_of_their_own(srv):
    """Through 2.0 a single-task job's retry is a run of its own: attempt_number,
    original_attempt_run_id and trigger RETRY (seeds/003)."""
    server = srv
    job = server.ok("POST", "/api/2.0/jobs/create", json={
        "name": "legacy retries", "existing_cluster_id": "c",
        "spark_python_task": {"python_file": FAIL_PY}, "max_retries": 1})["job_id"]
    rid = run_now(server, job, "2.0")["run_id"]

    def both_done():
        runs = list_runs(server, "2.0", job_id=job).get("runs", [])
        return runs if len(runs) == 2 and all(life(r) in TERMINAL for r in runs) else None

    retry, original = wait_until(both_done, what="two terminal runs through 2.0")
    assert original["run_id"] == rid
    assert original["attempt_number"] == 0
    assert original["trigger"] == "ONE_TIME"
    assert retry["attempt_number"] == 1
    assert retry["original_attempt_run_id"] == rid
    assert retry["trigger"] == "RETRY"
    assert result(original) == "FAILED" and result(retry) == "FAILED"
    assert retry["start_time"] >= original["end_time"]
    # each 2.0 run id reads back as that attempt, output included
    assert get_run(server, retry["run_id"], "2.0")["attempt_number"] == 1
    for r in (original, retry):
        out = get_output(server, r["run_id"], "2.0")
        assert out["metadata"]["run_id"] == r["run_id"]
        assert out["metadata"]["attempt_number"] == r["attempt_number"]


# --- cancel ------------------------------------------------------------------------------------

def test_cancel_running_tasks_within_a_second_plus_grace(srv, tmp_path):
    server = srv
    job = create_job(server, {"tasks": [block_task("polite", tmp_path / "never"),
                                        py_task("deaf", STUBBORN_PY)]})
    rid = run_now(server, job)["run_id"]
    polite = wait_task_running(server, rid, "polite")
    deaf = wait_task_running(server, rid, "deaf")
    pids = [task_pid(server, polite["run_id"]), task_pid(server, deaf["run_id"]),
            child_pid(server, deaf["run_id"])]
    t0 = time.monotonic()
    cancel_ms = int(time.time() * 1000)
    assert cancel(server, rid) == {}
    answered = time.monotonic() - t0
    assert answered < 0.5  # asynchronous: it does not wait for the processes
    run = wait_run(server, rid)
    took = time.monotonic() - t0
    assert took < 1.0 + GRACE_MS / 1000 + SLACK_MS / 1000, took
    assert result(run) == "CANCELED"
    assert run["state"]["user_cancelled_or_timedout"] is True
    assert run["status"]["termination_details"]["code"] == "USER_CANCELED"
    ts = tasks_by_key(run)
    for key in ("polite", "deaf"):
        assert result(ts[key]) == "CANCELED", ts[key]
        assert ts[key]["state"]["user_cancelled_or_timedout"] is True
        assert ts[key]["status"]["termination_details"]["code"] == "USER_CANCELED"
    assert ts["polite"]["end_time"] - cancel_ms < 1000
    assert ts["deaf"]["end_time"] - cancel_ms >= GRACE_MS - 100  # it had to be killed
    for pid in pids:
        assert not pid_alive(pid), pid


def test_cancel_of_a_finished_run_is_a_no_op(srv):
    server = srv
    job = create_job(server, {"tasks": [nb_task("a", OK_NB), py_task("f", FAIL_PY)]})
    rid = run_now(server, job)["run_id"]
    before = wait_run(server, rid)
    for version in ("2.0", "2.1", "2.2"):
        assert cancel(server, rid, version) == {}
        for t in before["tasks"]:
            assert cancel(server, t["run_id"], version) == {}
    after = get_run(server, rid)
    assert after == before
    assert result(after) == "FAILED"
    assert after["state"]["user_cancelled_or_timedout"] is False
