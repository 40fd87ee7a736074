"""Triggers other than cron (src/engine/sched.c; reference §2.1): trigger.periodic,
trigger.file_arrival on a workspace folder, continuous, and the kinds jobsd
refuses (table_update, model, cloud storage urls). Real jobsd, real task
processes (sched_helpers.MARK_PY records each run's trigger references).
"""
import time

from sched_helpers import (assert_quiet, job_runs, mark_file, mark_job, marks, now_ms, pct,
                           wait_marks, wait_runs)
from test_runs_helpers import WS, b64, create_job, life, mkdirs, reap_tasks  # noqa: F401
from test_runs_helpers import TERMINAL, wait_until

LANDING = "/Users/admin@example.com/landing"


def get_job(server, job_id, version="2.1"):
    return server.ok("GET", f"/api/{version}/jobs/get", params={"job_id": job_id})


def upload(server, path, data="a,b\n1,2\n"):
    server.ok("POST", f"{WS}/import", json={"path": path, "content": b64(data), "format": "RAW",
                                             "overwrite": True})


def instant_job(**extra):
    return {"name": "t", "tasks": [{"task_key": "c", "condition_task": {
        "left": "1", "op": "EQUAL_TO", "right": "1"}}], **extra}


def update(server, job_id, version="2.1", **new_settings):
    server.ok("POST", f"/api/{version}/jobs/update",
              json={"job_id": job_id, "new_settings": new_settings})


# --- periodic -------------------------------------------------------------------------------

def test_periodic_and_paused_triggers_do_not_fire_at_once(server):
    """trigger.periodic is accepted and shown (an hour is too long to wait:
    nothing fires at once); a schedule, a file trigger and a continuous job
    saved PAUSED fire nothing either."""
    jobs = {}
    mkdirs(server, LANDING)
    jobs["paused schedule"] = create_job(server, instant_job(schedule={
        "quartz_cron_expression": "* * * * * ?", "timezone_id": "UTC", "pause_status": "PAUSED"}))
    jobs["paused files"] = create_job(server, instant_job(trigger={
        "pause_status": "PAUSED", "file_arrival": {"url": LANDING}}))
    jobs["paused continuous"] = create_job(server, instant_job(
        continuous={"pause_status": "PAUSED"}))
    upload(server, f"{LANDING}/new.csv")
    for version in ("2.1", "2.2"):
        for unit in ("MINUTES", "HOURS", "DAYS", "WEEKS"):
            jobs[version, unit] = create_job(server, instant_job(
                trigger={"periodic": {"interval": 1, "unit": unit}}), version)
            got = get_job(server, jobs[version, unit], version)["settings"]["trigger"]
            assert got == {"pause_status": "UNPAUSED",
                           "periodic": {"interval": 1, "unit": unit}}, got
        for bad in ({"interval": 0, "unit": "HOURS"}, {"interval": 1, "unit": "SECONDS"},
                    {"interval": 1}, {"unit": "DAYS"}):
            body = server.error("POST", f"/api/{version}/jobs/create", 400,
                                "INVALID_PARAMETER_VALUE",
                                json=instant_job(trigger={"periodic": bad}))
            assert "periodic" in body["message"], (bad, body)
        body = server.error("POST", f"/api/{version}/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                            json=instant_job(trigger={
                                "periodic": {"interval": 1, "unit": "HOURS"},
                                "file_arrival": {"url": LANDING}}))
        assert "periodic" in body["message"] and "file_arrival" in body["message"], body
    time.sleep(2.0)  # the point: nothing fires at once
    for key, job in jobs.items():
        assert job_runs(server, job) == [], key


# --- file arrival ----------------------------------------------------------------------------

def test_file_arrival_in_a_workspace_folder(server, tmp_path):
    """Two jobs watch the same workspace folder, one by its path, one by the
    /Workspace alias with a trailing slash. Files there before the trigger
    was set, deleting a file and making a subfolder start nothing; each new
    file starts one run of each job (trigger FILE_ARRIVAL, the url in
    {{job.trigger.file_arrival.location}}); a PAUSED trigger starts nothing;
    a file dropped in while jobsd is down starts one run at restart."""
    mark_file(server)
    mkdirs(server, LANDING)
    upload(server, f"{LANDING}/before.csv")
    upload(server, f"{LANDING}/before2.csv")
    urls = {"plain": LANDING, "alias": f"/Workspace{LANDING}/"}
    folders = {k: tmp_path / k for k in urls}
    jobs = {k: mark_job(server, folders[k], name=f"files-{k}",
                        trigger={"file_arrival": {"url": u}}) for k, u in urls.items()}
    for k, j in jobs.items():
        assert get_job(server, j)["settings"]["trigger"] == {
            "pause_status": "UNPAUSED", "file_arrival": {"url": urls[k]}}

    # Old files, a deletion, a new subfolder: no run.
    server.ok("POST", f"{WS}/delete", json={"path": f"{LANDING}/before2.csv"})
    mkdirs(server, f"{LANDING}/sub")
    time.sleep(1.5)
    for j in jobs.values():
        assert job_runs(server, j) == []

    latencies = []

    def arrive(name, expect):
        """Uploads name; waits for one more run of each job in expect;
        returns {key: that run}."""
        before = {k: len(job_runs(server, jobs[k])) for k in expect}
        t = now_ms()
        upload(server, f"{LANDING}/{name}")
        got = {}
        for k in expect:
            runs = wait_runs(server, jobs[k], before[k] + 1, timeout=6)
            assert len(runs) == before[k] + 1, (k, runs)
            got[k] = runs[-1]
            latencies.append(runs[-1]["start_time"] - t)
        return got

    for name in ("a.csv", "b.csv"):
        for k, run in arrive(name, urls).items():
            assert run["trigger"] == "FILE_ARRIVAL", run
            rec = wait_marks(folders[k], [run["run_id"]], timeout=10)[run["run_id"]]
            assert rec["type"] == "file_arrival", rec
            assert rec["location"] == urls[k], rec
            assert abs(rec["ts"] - run["start_time"]) <= 50, (rec, run)

    # PAUSED: the plain job stops, the alias job goes on.
    update(server, jobs["plain"], trigger={"pause_status": "PAUSED",
                                           "file_arrival": {"url": LANDING}})
    n_plain = len(job_runs(server, jobs["plain"]))
    arrive("c.csv", ["alias"])
    assert_quiet(server, jobs["plain"], 1.5)
    assert len(job_runs(server, jobs["plain"])) == n_plain
    # Unpaused: the next file starts it again.
    update(server, jobs["plain"], trigger={"pause_status": "UNPAUSED",
                                           "file_arrival": {"url": LANDING}})
    arrive("d.csv", urls)

    # While jobsd is down a file is dropped into the folder on disk: one run
    # of each job at restart; a second restart starts nothing more.
    counts = {k: len(job_runs(server, j)) for k, j in jobs.items()}
    server.stop()
    on_disk = server.data_dir / "workspace" / LANDING.lstrip("/")
    (on_disk / "e.csv").write_text("dropped while down\n")
    server.start()
    for k, j in jobs.items():
        runs = wait_runs(server, j, counts[k] + 1, timeout=6)
        assert runs[-1]["trigger"] == "FILE_ARRIVAL"
    server.restart()
    time.sleep(1.5)
    for k, j in jobs.items():
        assert len(job_runs(server, j)) == counts[k] + 1, k
    print(f"\nfile arrival: upload to run created p50 {pct(latencies, 50)} ms, "
          f"max {max(latencies)} ms over {len(latencies)} runs")


def test_file_arrival_in_a_folder_made_or_remade_after_the_trigger(server, tmp_path):
    """The watched folder does not exist yet when the job is saved (job A),
    or is deleted and made again after (job B, the "clear the landing
    folder" habit). A file then arrives in each: a run within a few
    seconds, as for a folder that was always there."""
    mark_file(server)
    later, remade = "/Users/admin@example.com/later", "/Users/admin@example.com/remade"
    mkdirs(server, remade)
    a = mark_job(server, tmp_path / "a", trigger={"file_arrival": {"url": later}})
    b = mark_job(server, tmp_path / "b", trigger={"file_arrival": {"url": remade}})
    server.ok("POST", f"{WS}/delete", json={"path": remade, "recursive": True})
    time.sleep(0.2)
    mkdirs(server, later)
    mkdirs(server, remade)
    time.sleep(0.2)
    upload(server, f"{later}/x.csv")
    upload(server, f"{remade}/x.csv")
    try:
        wait_until(lambda: job_runs(server, a) and job_runs(server, b), 6, interval=0.05,
                   what="a run of each job")
    except AssertionError:
        raise AssertionError(
            f"no run within 6 s: folder made after the trigger: {len(job_runs(server, a))} "
            f"runs, folder deleted and made again: {len(job_runs(server, b))} runs")
    for j in (a, b):
        assert [r["trigger"] for r in job_runs(server, j)] == ["FILE_ARRIVAL"]


def test_two_jobs_on_one_folder_and_one_deleted(server, tmp_path):
    """Two jobs watch the same folder (the kernel gives them one watch).
    Deleting one must not stop the other's watch: its run comes within
    seconds, not at the next minute's rescan."""
    mark_file(server)
    shared = "/Users/admin@example.com/shared"
    mkdirs(server, shared)
    a = mark_job(server, tmp_path / "a", trigger={"file_arrival": {"url": shared}})
    b = mark_job(server, tmp_path / "b", trigger={"file_arrival": {"url": shared}})
    server.ok("POST", "/api/2.1/jobs/delete", json={"job_id": a})
    upload(server, f"{shared}/y.csv")
    wait_until(lambda: job_runs(server, b), 5, interval=0.05, what="a run of the job left")
    assert [r["trigger"] for r in job_runs(server, b)] == ["FILE_ARRIVAL"]


CLOUD_URLS = ["s3://bucket/x", "s3://bucket/landing/", "gs://bucket/x",
              "abfss://container@account.dfs.core.windows.net/x", "dbfs:/mnt/landing",
              "relative/folder", "file:///tmp/landing"]


def test_file_arrival_urls_jobsd_cannot_watch_are_refused(server):
    job = create_job(server, instant_job())
    for url in CLOUD_URLS:
        for version in ("2.1", "2.2"):
            body = server.error("POST", f"/api/{version}/jobs/create", 400,
                                "INVALID_PARAMETER_VALUE",
                                json=instant_job(trigger={"file_arrival": {"url": url}}))
            assert "trigger.file_arrival.url" in body["message"], (url, body)
            body = server.error("POST", f"/api/{version}/jobs/update", 400,
                                "INVALID_PARAMETER_VALUE",
                                json={"job_id": job, "new_settings": {
                                    "trigger": {"file_arrival": {"url": url}}}})
            assert "trigger.file_arrival.url" in body["message"], (url, body)
    body = server.error("POST", "/api/2.1/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                        json=instant_job(trigger={"file_arrival": {}}))
    assert "url" in body["message"], body
    for field in ("min_time_between_triggers_seconds", "wait_after_last_change_seconds"):
        body = server.error("POST", "/api/2.1/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                            json=instant_job(trigger={"file_arrival": {"url": LANDING,
                                                                       field: 30}}))
        assert field in body["message"], body
    # Nothing was saved by the refused writes.
    assert "trigger" not in get_job(server, job)["settings"]
    listed = server.ok("GET", "/api/2.1/jobs/list").get("jobs", [])
    assert [j["job_id"] for j in listed] == [job]


# --- continuous --------------------------------------------------------------------------------

def check_chain(server, folder, runs):
    """runs (oldest first, all but maybe the last ended): back to back, never
    two at once, by the runs' times and by the task processes' own clocks.
    Returns the gaps (ms) from a run's end to the next one's start."""
    gaps = []
    for a, b in zip(runs, runs[1:]):
        assert life(a) in TERMINAL, f"run {b['run_id']} started while {a['run_id']} is active"
        assert b["start_time"] >= a["end_time"], f"two runs at once: {a['run_id']}, {b['run_id']}"
        gaps.append(b["start_time"] - a["end_time"])
    done = [r for r in runs if life(r) in TERMINAL]
    ends = wait_marks(folder, [r["run_id"] for r in done], timeout=10, kind="end")
    starts = marks(folder)
    for a, b in zip(done, runs[1:]):
        if b["run_id"] in starts:
            assert ends[a["run_id"]]["end"] <= starts[b["run_id"]]["start"], \
                f"task processes of runs {a['run_id']} and {b['run_id']} overlap"
    for r in runs:
        assert r["trigger"] == "CONTINUOUS", r
        assert life(r) != "SKIPPED", r
        if r["run_id"] in starts:
            assert starts[r["run_id"]]["type"] == "continuous", starts[r["run_id"]]
    return gaps


def ended(server, job, n):
    def enough():
        runs = job_runs(server, job)
        return runs if sum(life(r) in TERMINAL for r in runs) >= n else None
    return wait_until(enough, 15, interval=0.05, what=f"{n} continuous runs to end")


def test_continuous_runs_back_to_back_one_at_a_time(server, tmp_path):
    """A task of 1 s: a run at once, the next as the previous ends, never two
    at once, also across a kill -9 of jobsd while a run is active; PAUSED
    stops it, UNPAUSED starts a run at once."""
    mark_file(server)
    folder = tmp_path / "m"
    t0 = now_ms()
    job = mark_job(server, folder, secs=1, name="cont", continuous={"pause_status": "UNPAUSED"})
    assert get_job(server, job)["settings"]["continuous"] == {"pause_status": "UNPAUSED"}
    runs = ended(server, job, 3)
    assert runs[0]["start_time"] - t0 < 1000, "the first run did not start at once"
    gaps = check_chain(server, folder, runs)
    assert all(g < 1000 for g in gaps), f"not back to back: gaps {gaps} ms"
    print(f"\ncontinuous: run end to next start {gaps} ms")

    # kill -9 while a run is active: it goes on, and the chain after it.
    wait_until(lambda: any(life(r) == "RUNNING" for r in job_runs(server, job)), 5,
               what="a running continuous run")
    server.kill()
    server.start()
    n = len(job_runs(server, job))
    runs = ended(server, job, n + 1)
    check_chain(server, folder, runs)

    # PAUSED: the active run ends, no new one starts.
    update(server, job, continuous={"pause_status": "PAUSED"})
    wait_until(lambda: all(life(r) in TERMINAL for r in job_runs(server, job)), 10,
               interval=0.05, what="the active continuous run to end")
    assert_quiet(server, job, 2.0, folder)
    check_chain(server, folder, job_runs(server, job))
    # UNPAUSED: a run at once.
    n = len(job_runs(server, job))
    t = now_ms()
    update(server, job, continuous={"pause_status": "UNPAUSED"})
    run = wait_runs(server, job, n + 1, timeout=3)[-1]
    assert run["trigger"] == "CONTINUOUS" and run["start_time"] - t < 1000, run


# --- refused kinds -----------------------------------------------------------------------------

REFUSED = {
    "table_update": {"table_names": ["main.sales.orders"], "condition": "ANY_UPDATED"},
    "table": {"table_names": ["main.sales.orders"]},
    "model": {"condition": "MODEL_CREATED", "securable_name": "main.ml.churn"},
}


def test_table_update_and_model_triggers_are_refused(server):
    job = create_job(server, instant_job())
    for kind, conf in REFUSED.items():
        for version in ("2.1", "2.2"):
            body = server.error("POST", f"/api/{version}/jobs/create", 400,
                                "INVALID_PARAMETER_VALUE", json=instant_job(trigger={kind: conf}))
            assert f"trigger.{kind}" in body["message"], (kind, body)
            assert "not supported" in body["message"], body
            body = server.error("POST", f"/api/{version}/jobs/update", 400,
                                "INVALID_PARAMETER_VALUE",
                                json={"job_id": job, "new_settings": {"trigger": {kind: conf}}})
            assert f"trigger.{kind}" in body["message"], (kind, body)
    assert "trigger" not in get_job(server, job)["settings"]


def test_a_table_update_in_the_triggers_array_is_refused_too(server):
    """`triggers` (the multi-trigger preview, a list) with a table_update item
    could never fire either; it is refused like trigger.table_update."""
    r = server.api("POST", "/api/2.1/jobs/create", json=instant_job(
        triggers=[{"table_update": {"table_names": ["main.sales.orders"]}}]))
    assert r.status_code == 400, f"accepted: {r.status_code} {r.text}"
    assert "table_update" in r.json()["message"] or "triggers" in r.json()["message"], r.text
