"""Helpers shared by the test_runs*.py files (this file holds no tests).

Notebooks and Python files are imported through the Workspace API; runs are
started through the Jobs API and waited for by polling runs/get with a
deadline, never by sleeping a fixed time."""
import base64
import json
import os
import pathlib
import time

WS = "/api/2.0/workspace"
NB_HEADER = "# Databricks notebook source\n"
CELL = "\n# COMMAND ----------\n\n"
TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
NO_RUN = "Run {} does not exist."
MULTI_OUTPUT = ("Retrieving the output of runs with multiple tasks is not supported. "
                "Please retrieve the output of each individual task run instead.")


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def mkdirs(server, path):
    server.ok("POST", f"{WS}/mkdirs", json={"path": path})


def notebook(server, path, *cells):
    """Imports a Python source notebook made of cells (strings) at path."""
    mkdirs(server, str(pathlib.PurePosixPath(path).parent))
    src = NB_HEADER + CELL.join(c.strip("\n") + "\n" for c in cells)
    server.ok("POST", f"{WS}/import", json={"path": path, "content": b64(src),
                                             "format": "SOURCE", "language": "PYTHON",
                                             "overwrite": True})
    return path


def pyfile(server, path, code):
    """Imports a workspace FILE (a plain .py, no notebook header)."""
    mkdirs(server, str(pathlib.PurePosixPath(path).parent))
    server.ok("POST", f"{WS}/import", json={"path": path, "content": b64(code),
                                             "format": "RAW", "overwrite": True})
    return path


def nb_task(key, path, params=None, **extra):
    t = {"task_key": key, "notebook_task": {"notebook_path": path}, **extra}
    if params is not None:
        t["notebook_task"]["base_parameters"] = params
    return t


def py_task(key, path, params=None, **extra):
    t = {"task_key": key, "spark_python_task": {"python_file": path}, **extra}
    if params is not None:
        t["spark_python_task"]["parameters"] = params
    return t


def cond_task(key, left, op, right, **extra):
    return {"task_key": key, "condition_task": {"left": left, "op": op, "right": right}, **extra}


def dep(*keys, outcome=None):
    d = [{"task_key": k} for k in keys]
    if outcome is not None:
        for x in d:
            x["outcome"] = outcome
    return d


def create_job(server, settings, version="2.1"):
    settings = dict(settings)
    settings.setdefault("name", "runs-test")
    return server.ok("POST", f"/api/{version}/jobs/create", json=settings)["job_id"]


def run_now(server, job_id, version="2.1", **body):
    return server.ok("POST", f"/api/{version}/jobs/run-now", json={"job_id": job_id, **body})


def submit(server, body, version="2.1"):
    return server.ok("POST", f"/api/{version}/jobs/runs/submit", json=body)["run_id"]


def get_run(server, run_id, version="2.1", **params):
    return server.ok("GET", f"/api/{version}/jobs/runs/get", params={"run_id": run_id, **params})


def get_output(server, run_id, version="2.1"):
    return server.ok("GET", f"/api/{version}/jobs/runs/get-output", params={"run_id": run_id})


def list_runs(server, version="2.1", **params):
    return server.ok("GET", f"/api/{version}/jobs/runs/list", params=params)


def cancel(server, run_id, version="2.1"):
    return server.ok("POST", f"/api/{version}/jobs/runs/cancel", json={"run_id": run_id})


def life(run):
    return run["state"]["life_cycle_state"]


def result(run):
    return run["state"].get("result_state")


def wait_until(pred, timeout=20, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_run(server, run_id, version="2.1", timeout=20):
    """Polls runs/get until the run is terminal; returns the last runs/get."""
    last = {}

    def done():
        last["run"] = get_run(server, run_id, version)
        return life(last["run"]) in TERMINAL

    try:
        wait_until(done, timeout, what=f"run {run_id} to end")
    except AssertionError:
        raise AssertionError(f"run {run_id} not terminal after {timeout}s: "
                             f"{json.dumps(last.get('run'), indent=1)[:3000]}")
    return last["run"]


def wait_task_running(server, run_id, key, timeout=20):
    """Waits until task key of job run run_id is RUNNING with a live process
    (its supervisor file written); returns the task (from runs/get)."""
    def running():
        run = get_run(server, run_id)
        t = task(run, key)
        if t is None:
            return None
        if life(t) in TERMINAL:
            raise AssertionError(f"task {key} ended before it was seen running: {t}")
        if life(t) == "RUNNING" and task_pid(server, t["run_id"]):
            return t
        return None
    return wait_until(running, timeout, what=f"task {key} of run {run_id} to run")


def task(run, key):
    for t in run.get("tasks", []):
        if t["task_key"] == key:
            return t
    return None


def tasks_by_key(run):
    return {t["task_key"]: t for t in run.get("tasks", [])}


def attempt_dir(server, task_run_id):
    return server.data_dir / "runs" / str(task_run_id)


def kv_file(path):
    try:
        text = pathlib.Path(path).read_text()
    except FileNotFoundError:
        return None
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v.strip()
    return out


def task_pid(server, task_run_id):
    sup = kv_file(attempt_dir(server, task_run_id) / "supervisor")
    return int(sup["task_pid"]) if sup and sup.get("task_pid") else None


def supervisor_pid(server, task_run_id):
    sup = kv_file(attempt_dir(server, task_run_id) / "supervisor")
    return int(sup["pid"]) if sup and sup.get("pid") else None


def pid_alive(pid):
    """True when pid names a live process (a zombie counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def exit_cells(expr):
    """A notebook cell that exits with the JSON of expr (a Python expression)."""
    return f"import json\ndbutils.notebook.exit(json.dumps({expr}))"


# --- standard notebooks and files ---------------------------------------------------------

OK_NB = "/Users/admin@example.com/runs/ok"
FAIL_NB = "/Users/admin@example.com/runs/fail"
BLOCK_NB = "/Users/admin@example.com/runs/block"
ECHO_NB = "/Users/admin@example.com/runs/echo"
SLEEP_NB = "/Users/admin@example.com/runs/sleep"
OK_PY = "/Users/admin@example.com/runs/py_ok.py"
FAIL_PY = "/Users/admin@example.com/runs/py_fail.py"
BLOCK_PY = "/Users/admin@example.com/runs/py_block.py"

# Waits for a gate file (widget "gate") to exist, at most 30 s, then exits
# with "opened" (or "timeout"): a task that runs exactly as long as a test
# wants, with no fixed sleep.
BLOCK_CODE = """
import os, time
gate = dbutils.widgets.get("gate")
deadline = time.time() + 30
while not os.path.exists(gate) and time.time() < deadline:
    time.sleep(0.02)
dbutils.notebook.exit("opened" if os.path.exists(gate) else "timeout")
"""

BLOCK_PY_CODE = """
import os, sys, time
gate = sys.argv[1]
print("task pid", os.getpid(), flush=True)
deadline = time.time() + 30
while not os.path.exists(gate) and time.time() < deadline:
    time.sleep(0.02)
sys.exit(0 if os.path.exists(gate) else 9)
"""


def std_files(server):
    """Imports the standard notebooks and Python files; returns nothing."""
    notebook(server, OK_NB, 'dbutils.notebook.exit("ok")')
    notebook(server, FAIL_NB, 'x = 1', 'raise ValueError("boom from the notebook")')
    notebook(server, BLOCK_NB, BLOCK_CODE)
    notebook(server, ECHO_NB, 'import json\n'
             'dbutils.notebook.exit(json.dumps(dbutils.widgets.getAll(), sort_keys=True))')
    notebook(server, SLEEP_NB, 'import time\ntime.sleep(float(dbutils.widgets.get("s")))\n'
             'dbutils.notebook.exit("slept")')
    pyfile(server, OK_PY, 'print("ok")\n')
    pyfile(server, FAIL_PY, 'import sys\nprint("failing on purpose", file=sys.stderr)\n'
           'sys.exit(3)\n')
    pyfile(server, BLOCK_PY, BLOCK_PY_CODE)


def block_task(key, gate, **extra):
    return nb_task(key, BLOCK_NB, {"gate": str(gate)}, **extra)


def ok_job(**extra):
    """Settings of a job of one instant task (a condition task: no process)."""
    return {"name": "instant", "max_concurrent_runs": 100,
            "tasks": [cond_task("c", "1", "EQUAL_TO", "1")], **extra}


def run_instant(server, job_id, version="2.1"):
    rid = run_now(server, job_id, version)["run_id"]
    return wait_run(server, rid, version)


# --- cleanup: no task process outlives its test --------------------------------------------

def _stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def reap(root):
    """Kills what a test's tasks left running: each attempt's task process
    group (the task leads its own session) and supervisor, by their pids as
    recorded in the attempt folders under root."""
    import signal
    for sup in pathlib.Path(root).glob("**/runs/*/supervisor"):
        info = kv_file(sup) or {}
        tpid = int(info.get("task_pid") or 0)
        st = _stat(tpid) if tpid else None
        # fields after the name: state ppid pgrp session ...
        if st and st[0] not in ("Z", "X") and int(st[2]) == tpid and int(st[3]) == tpid:
            try:
                os.killpg(tpid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        spid = int(info.get("pid") or 0)
        st = _stat(spid) if spid else None
        if st and st[0] not in ("Z", "X") and st[19] == info.get("start_ticks"):
            try:
                os.kill(spid, signal.SIGKILL)
            except ProcessLookupError:
                pass


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def reap_tasks(tmp_path):
    """Import into a test module: after each test, kill the task processes
    its runs left behind (a failed test must not leave 30-s sleepers)."""
    yield
    reap(tmp_path)


ORDER = {"QUEUED": 0, "BLOCKED": 0, "PENDING": 1, "WAITING_FOR_RETRY": 2, "RUNNING": 2,
         "TERMINATING": 3, "TERMINATED": 4, "SKIPPED": 4, "INTERNAL_ERROR": 4}


def watch_run(server, run_id, version="2.1", timeout=20):
    """Like wait_run, polling as fast as it can, and checks what it sees:
    the life cycle only moves forward, result_state only once terminal and
    then never changes. Returns (last runs/get, [life cycle states seen])."""
    seen, last_result = [], None
    deadline = time.monotonic() + timeout
    while True:
        run = get_run(server, run_id, version)
        st = run["state"]
        lc = st["life_cycle_state"]
        if not seen or seen[-1] != lc:
            assert not seen or ORDER[lc] >= ORDER[seen[-1]], (seen, lc)
            seen.append(lc)
        if lc in TERMINAL:
            if last_result is not None:
                assert st.get("result_state") == last_result
            return run, seen
        assert "result_state" not in st, run
        assert run["end_time"] == 0, run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} not terminal after {timeout}s: {run}")
        time.sleep(0.005)
