"""Helpers of test_schedule.py and test_triggers.py (this file holds no tests).

Every scheduled job runs MARK_PY, a Python file task that records what it was
started for: its job run id and the dynamic value references of its trigger
({{job.trigger.time.*}}, {{job.trigger.type}}, {{job.trigger.file_arrival.
location}}), in files of a folder outside the data dir:

    start-<job run id>.json   written first thing
    end-<job run id>.json     written after the sleep, just before exit

each {"run_id", "iso", "ts" (trigger time, epoch ms), "type", "location",
"start", "end" (the process's own clock, epoch s), "pid"}. The trigger time
of a run is not in runs/get: these files are how a test learns it.
"""
import json
import pathlib
import time

from test_runs_helpers import create_job, pyfile, py_task, wait_until

MARK_PY = "/Users/admin@example.com/sched/mark.py"
MARK_CODE = """\
import json, os, sys, time
folder, run_id, iso, ts, typ, loc, secs = sys.argv[1:8]
t0 = time.time()


def put(name, rec):
    tmp = os.path.join(folder, "." + name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(rec, f)
    os.replace(tmp, os.path.join(folder, name))


rec = {"run_id": int(run_id), "iso": iso, "ts": int(ts), "type": typ, "location": loc,
       "start": t0, "pid": os.getpid()}
put("start-%s.json" % run_id, rec)
time.sleep(float(secs))
rec["end"] = time.time()
put("end-%s.json" % run_id, rec)
"""

UTC_2S = {"quartz_cron_expression": "*/2 * * * * ?", "timezone_id": "UTC"}


def mark_file(server):
    pyfile(server, MARK_PY, MARK_CODE)


def mark_task(folder, secs=0, key="t"):
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return py_task(key, MARK_PY, [str(folder), "{{job.run_id}}",
                                  "{{job.trigger.time.iso_datetime}}",
                                  "{{job.trigger.time.timestamp_ms}}", "{{job.trigger.type}}",
                                  "{{job.trigger.file_arrival.location}}", str(secs)])


def mark_job(server, folder, secs=0, version="2.1", **settings):
    """Creates a job of one MARK_PY task recording into folder."""
    settings.setdefault("name", "sched-test")
    return create_job(server, {"tasks": [mark_task(folder, secs)], **settings}, version)


def marks(folder, kind="start"):
    """{job run id: record} of the runs whose task has written kind."""
    out = {}
    for p in pathlib.Path(folder).glob(f"{kind}-*.json"):
        rec = json.loads(p.read_text())
        out[rec["run_id"]] = rec
    return out


def job_runs(server, job_id, version="2.1"):
    """Every run of job_id (runs/list, all pages), oldest first."""
    runs, token = [], None
    while True:
        params = {"job_id": job_id, "limit": 25}
        if token:
            params["page_token"] = token
        body = server.ok("GET", f"/api/{version}/jobs/runs/list", params=params)
        runs += body.get("runs", [])
        token = body.get("next_page_token")
        if not token:
            break
    return sorted(runs, key=lambda r: r["run_id"])


def all_runs_of(server, job_id):
    """Runs of job_id as runs/list without a job filter shows them (a deleted
    job's id may be refused as a filter)."""
    runs, token = [], None
    while True:
        params = {"limit": 25}
        if token:
            params["page_token"] = token
        body = server.ok("GET", "/api/2.1/jobs/runs/list", params=params)
        runs += [r for r in body.get("runs", []) if r.get("job_id") == job_id]
        token = body.get("next_page_token")
        if not token:
            break
    return sorted(runs, key=lambda r: r["run_id"])


def wait_runs(server, job_id, n, timeout, since_id=0):
    """Waits until job_id has at least n runs with a run id above since_id;
    returns them all (oldest first)."""
    def enough():
        runs = [r for r in job_runs(server, job_id) if r["run_id"] > since_id]
        return runs if len(runs) >= n else None
    return wait_until(enough, timeout, interval=0.05,
                      what=f"{n} runs of job {job_id} above run {since_id}")


def wait_marks(folder, run_ids, timeout, kind="start"):
    """Waits for the kind records of every run in run_ids; returns {id: rec}."""
    ids = set(run_ids)

    def all_there():
        m = marks(folder, kind)
        return m if ids <= set(m) else None
    return wait_until(all_there, timeout, interval=0.05,
                      what=f"{kind} records of runs {sorted(ids)}")


def set_schedule(server, job_id, schedule, version="2.1"):
    server.ok("POST", f"/api/{version}/jobs/update",
              json={"job_id": job_id, "new_settings": {"schedule": schedule}})


def now_ms():
    return int(time.time() * 1000)


def pct(values, p):
    """The p-th percentile (nearest rank) of values."""
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))
    return v[k]


def assert_quiet(server, job_id, seconds, folder=None):
    """Nothing new for job_id during seconds: no new run (runs/list) and, if
    folder is given, no new task record. Returns the runs."""
    before = [r["run_id"] for r in job_runs(server, job_id)]
    before_marks = set(marks(folder)) if folder else set()
    time.sleep(seconds)
    after = job_runs(server, job_id)
    assert [r["run_id"] for r in after] == before, (
        f"job {job_id} got runs while it should be quiet: "
        f"{[(r['run_id'], r['trigger'], r['start_time']) for r in after if r['run_id'] not in before]}")
    if folder:
        new = set(marks(folder)) - before_marks
        assert new <= set(before), f"task records of unknown runs: {sorted(new - set(before))}"
    return after
