"""Cron schedules fired by the scheduler (src/engine/sched.c; reference §2.1, §7),
against a real jobsd and real task processes.

- "*/2 * * * * ?" fires every 2 s, on the even second, in UTC and in a DST
  zone: runs with trigger PERIODIC and the job's schedule, the task sees the
  exact instant through {{job.trigger.time.*}}, lateness within 50 ms (the
  figures are printed: run with -s to see them);
- pause, unpause, jobs/update and jobs/reset of the expression and
  jobs/delete take effect at once (no catch-up for instants paused over);
- max_concurrent_runs: firings over the limit are SKIPPED, or QUEUED with a
  queue, as for run-now;
- kill -9: an instant is never fired twice; a downtime over several instants
  gives exactly one catch-up run (for the first missed instant), then the
  schedule goes on from now;
- validation of `schedule`.

The task (sched_helpers.MARK_PY) writes what it was started for into files
outside the data dir; those are how a test learns each run's trigger time.
Waits poll with deadlines; fixed sleeps are only for "nothing happens for N s".
"""
import datetime
import time

from sched_helpers import (UTC_2S, all_runs_of, assert_quiet, job_runs, mark_file, mark_job,
                           mark_task, marks, now_ms, pct, set_schedule, wait_marks, wait_runs)
from test_runs_helpers import create_job, get_run, life, reap_tasks  # noqa: F401 (autouse)
from test_runs_helpers import wait_until

TOLERANCE_MS = 50


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def diffs(xs):
    return [b - a for a, b in zip(xs, xs[1:])]


def cron(expr, zone="UTC", **extra):
    return {"quartz_cron_expression": expr, "timezone_id": zone, **extra}


def get_job(server, job_id, version="2.1"):
    return server.ok("GET", f"/api/{version}/jobs/get", params={"job_id": job_id})


# --- 1. every two seconds, on the second ----------------------------------------------------

N_REGULAR = 6


def test_two_second_schedule_fires_on_the_even_second_utc_and_new_york(server, tmp_path):
    mark_file(server)
    zones = ("UTC", "America/New_York")
    before = now_ms()
    jobs = {z: mark_job(server, tmp_path / z.replace("/", "_"), schedule=cron("*/2 * * * * ?", z),
                        name=f"every-2s-{z}") for z in zones}
    created = now_ms()
    # An update of other fields (and a reset of the same schedule) mid-way
    # leaves the schedule's instants alone.
    wait_runs(server, jobs["UTC"], 2, timeout=8)
    server.ok("POST", "/api/2.1/jobs/update", json={"job_id": jobs["UTC"], "new_settings": {
        "name": "renamed", "max_concurrent_runs": 3}})
    wait_runs(server, jobs["America/New_York"], 3, timeout=8)
    server.ok("POST", "/api/2.2/jobs/reset", json={"job_id": jobs["America/New_York"],
                                                   "new_settings": {
        "name": "reset", "tasks": [mark_task(tmp_path / "America_New_York")],
        "schedule": cron("*/2 * * * * ?", "America/New_York")}})
    for zone, job in jobs.items():
        folder = tmp_path / zone.replace("/", "_")
        sched = get_job(server, job)["settings"]["schedule"]
        assert sched == cron("*/2 * * * * ?", zone, pause_status="UNPAUSED")
        runs = wait_runs(server, job, N_REGULAR, timeout=2 * N_REGULAR + 8)[:N_REGULAR]
        recs = wait_marks(folder, [r["run_id"] for r in runs], timeout=15)
        for r in runs:
            rec = recs[r["run_id"]]
            assert r["trigger"] == "PERIODIC", r
            assert r["schedule"] == sched, r
            assert r["run_type"] == "JOB_RUN", r
            assert rec["type"] == "periodic", rec
            assert rec["location"] == "", rec
            assert rec["ts"] % 2000 == 0, f"{zone}: fired off the even second: {rec}"
            assert rec["iso"] == iso(rec["ts"]), rec
        instants = [recs[r["run_id"]]["ts"] for r in runs]
        # Consecutive instants, the first the first even second after the job was saved.
        assert diffs(instants) == [2000] * (N_REGULAR - 1), (zone, instants)
        assert before < instants[0] <= created + 2000, (zone, before, instants[0], created)
        starts = [r["start_time"] for r in runs]
        late = [s - i for s, i in zip(starts, instants)]
        gaps = diffs(starts)
        print(f"\nschedule */2 {zone}: lateness p50 {pct(late, 50)} ms, max {max(late)} ms; "
              f"start_time gaps {min(gaps)}..{max(gaps)} ms over {N_REGULAR} runs")
        assert all(0 <= x <= TOLERANCE_MS for x in late), (zone, late)
        assert all(abs(g - 2000) <= TOLERANCE_MS for g in gaps), (zone, gaps)


# Java time zone ids and the zone (or fixed offset) each must mean: IANA names,
# half- and quarter-hour offsets, DST zones (Lord Howe shifts by 30 min),
# POSIX-inverted Etc/GMT, custom GMT offsets and Java's three-letter aliases
# (BST is Asia/Dhaka and NST Pacific/Auckland in Java, not the British or
# Newfoundland zones).
ZONES = {
    "UTC": "UTC", "America/New_York": "America/New_York", "Asia/Kolkata": "Asia/Kolkata",
    "Asia/Kathmandu": "Asia/Kathmandu", "Australia/Lord_Howe": "Australia/Lord_Howe",
    "Pacific/Chatham": "Pacific/Chatham", "Etc/GMT+5": "Etc/GMT+5", "GMT+05:30": 330,
    "GMT-3": -180, "EST": -300, "IST": "Asia/Kolkata", "BST": "Asia/Dhaka",
    "NST": "Pacific/Auckland", "PST": "America/Los_Angeles", "AST": "America/Anchorage",
}


def local_fields(ms, zone):
    import zoneinfo
    tz = (datetime.timezone(datetime.timedelta(minutes=zone)) if isinstance(zone, int)
          else zoneinfo.ZoneInfo(zone))
    d = datetime.datetime.fromtimestamp(ms / 1000, tz)
    return d.second, d.minute, d.hour, d.day, d.month


def wait_ended(server, run_id, timeout=10):
    def ended():
        run = get_run(server, run_id)
        return run if life(run) == "TERMINATED" else None
    return wait_until(ended, timeout, what=f"run {run_id} to end")


def test_a_once_a_year_expression_fires_at_its_zones_wall_time(server):
    """One job per zone, each "s m h d M ?" naming the same instant T (a few
    seconds ahead) in the local time of its zone: each fires once, at T. A
    zone read with a wrong offset would not fire at all. The task is a
    condition on {{job.trigger.time.timestamp_ms}}: no process needed."""
    T = (now_ms() // 1000 + 4) * 1000
    jobs = {}
    for zid, zone in ZONES.items():
        s, m, h, d, mon = local_fields(T, zone)
        jobs[zid] = create_job(server, {
            "name": f"daily-{zid}", "schedule": cron(f"{s} {m} {h} {d} {mon} ?", zid),
            "tasks": [{"task_key": "at_t", "condition_task": {
                "left": "{{job.trigger.time.timestamp_ms}}", "op": "EQUAL_TO",
                "right": str(T)}}]})
    assert now_ms() < T - 1000, "creating the jobs took too long"
    time.sleep(max(0, T + 1500 - now_ms()) / 1000)
    missing, wrong = [], []
    for zid, job in jobs.items():
        runs = job_runs(server, job)
        if len(runs) != 1:
            missing.append((zid, [r["start_time"] for r in runs]))
            continue
        run = wait_ended(server, runs[0]["run_id"])
        late = run["start_time"] - T
        if run["tasks"][0]["condition_task"]["outcome"] != "true" or not 0 <= late <= 200:
            wrong.append((zid, run["tasks"][0]["condition_task"], late))
    assert not missing and not wrong, f"zones that did not fire once at T: {missing}; " \
                                      f"fired for another instant or late: {wrong}"
    # Once a year: nothing more now.
    assert all(len(job_runs(server, j)) == 1 for j in jobs.values())


# --- 2. pause, unpause, update, reset, delete -------------------------------------------------

ODD = cron("1/2 * * * * ?")   # odd seconds: never an instant of */2 or */4
FOUR = cron("*/4 * * * * ?")


def test_pause_update_reset_and_delete_take_effect_at_once(server, tmp_path):
    """Four */2 jobs in one server: P is paused then unpaused, U's expression
    is changed by jobs/update then jobs/reset, R's schedule is removed
    (fields_to_remove), D is deleted."""
    mark_file(server)
    fp, fu, fd, fr = tmp_path / "p", tmp_path / "u", tmp_path / "d", tmp_path / "r"
    P = mark_job(server, fp, schedule=UTC_2S, name="pause")
    U = mark_job(server, fu, schedule=UTC_2S, name="update")
    D = mark_job(server, fd, schedule=UTC_2S, name="delete")
    R = mark_job(server, fr, schedule=UTC_2S, name="remove")
    for j in (P, U, D, R):
        wait_runs(server, j, 1, timeout=6)
    # Just after a firing: the next instant is ~2 s away, no firing races the changes.
    set_schedule(server, P, cron("*/2 * * * * ?", pause_status="PAUSED"))
    u_before = [r["run_id"] for r in job_runs(server, U)]
    t_update = now_ms()
    set_schedule(server, U, ODD)
    t_updated = now_ms()
    server.ok("POST", "/api/2.1/jobs/delete", json={"job_id": D})
    server.ok("POST", "/api/2.1/jobs/update", json={"job_id": R, "fields_to_remove": ["schedule"]})
    assert "schedule" not in get_job(server, R)["settings"]
    r_runs = [r["run_id"] for r in job_runs(server, R)]
    d_runs = [r["run_id"] for r in all_runs_of(server, D)]
    assert get_job(server, P)["settings"]["schedule"]["pause_status"] == "PAUSED"

    # P paused: nothing for 5 s (D and U are checked after).
    assert_quiet(server, P, 5.0, fp)

    # U follows the odd seconds from the update on; the even instant due
    # after the update never fired.
    u_after = [r for r in job_runs(server, U) if r["run_id"] not in u_before]
    assert len(u_after) >= 2, u_after
    recs = wait_marks(fu, [r["run_id"] for r in u_after], timeout=10)
    inst = [recs[r["run_id"]]["ts"] for r in u_after]
    assert all(i // 1000 % 2 == 1 for i in inst), f"an old */2 instant fired after: {inst}"
    assert t_update < inst[0] <= t_updated + 2000, (t_update, inst)
    assert diffs(inst) == [2000] * (len(inst) - 1), inst
    assert all(r["schedule"] == {**ODD, "pause_status": "UNPAUSED"} for r in u_after)

    # Unpause P and reset U to */4, right after one of U's firings.
    n = len(job_runs(server, U))
    wait_runs(server, U, n + 1, timeout=4)
    p_before = [r["run_id"] for r in job_runs(server, P)]
    u_before = [r["run_id"] for r in job_runs(server, U)]
    t_unpause = now_ms()
    set_schedule(server, P, UTC_2S)
    t_unpaused = now_ms()
    t_reset = now_ms()
    server.ok("POST", "/api/2.1/jobs/reset", json={"job_id": U, "new_settings": {
        "name": "update", "tasks": [mark_task(fu)], "schedule": FOUR}})
    t_was_reset = now_ms()

    # P: the first even second after the unpause, on time: no catch-up run
    # for the instants it was paused over.
    p_new = wait_runs(server, P, len(p_before) + 1, timeout=5)[len(p_before):]
    rec = wait_marks(fp, [p_new[0]["run_id"]], timeout=10)[p_new[0]["run_id"]]
    assert rec["ts"] % 2000 == 0 and t_unpause < rec["ts"] <= t_unpaused + 2000, (t_unpause, rec)
    assert 0 <= p_new[0]["start_time"] - rec["ts"] <= TOLERANCE_MS, (p_new[0], rec)

    # U: two */4 runs, the first the first multiple of 4 s after the reset;
    # the odd instant due after the reset never fired.
    u_new = wait_runs(server, U, len(u_before) + 2, timeout=10)[len(u_before):]
    recs = wait_marks(fu, [r["run_id"] for r in u_new], timeout=10)
    inst = [recs[r["run_id"]]["ts"] for r in u_new]
    assert all(i % 4000 == 0 for i in inst), f"an old instant fired after the reset: {inst}"
    assert t_reset < inst[0] <= t_was_reset + 4000, (t_reset, inst)
    assert diffs(inst[:2]) == [4000], inst
    assert u_new[0]["schedule"] == {**FOUR, "pause_status": "UNPAUSED"}

    # R: no schedule, no runs since.
    assert [r["run_id"] for r in job_runs(server, R)] == r_runs
    assert set(marks(fr)) <= set(r_runs)
    # D: deleted ~13 s ago; not one run since, in any listing.
    assert [r["run_id"] for r in all_runs_of(server, D)] == d_runs
    assert set(marks(fd)) <= set(d_runs)
    r = server.api("GET", "/api/2.1/jobs/runs/list", params={"job_id": D})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert sorted(x["run_id"] for x in r.json().get("runs", [])) in ([], sorted(d_runs))


# --- 3. max_concurrent_runs ---------------------------------------------------------------------

def test_firings_over_max_concurrent_runs_are_skipped_or_queued(server, tmp_path):
    """*/2, a task of 5 s, max_concurrent_runs 1: without a queue the firings
    while the first run runs are SKIPPED; with one they are QUEUED and run
    later, each with the instant it was fired for."""
    mark_file(server)
    fs, fq = tmp_path / "s", tmp_path / "q"
    S = mark_job(server, fs, secs=5, schedule=UTC_2S, name="skip", max_concurrent_runs=1)
    Q = mark_job(server, fq, secs=5, schedule=UTC_2S, name="queue", max_concurrent_runs=1,
                 queue={"enabled": True})
    # The second firing of Q: QUEUED, with the reason.
    q2 = wait_runs(server, Q, 2, timeout=8)[1]
    q2 = get_run(server, q2["run_id"])
    assert life(q2) == "QUEUED", q2["state"]
    assert q2["status"]["state"] == "QUEUED"
    assert q2["status"]["queue_details"]["code"] == "MAX_CONCURRENT_RUNS_REACHED"
    assert q2["trigger"] == "PERIODIC"

    # S: the firings at +2 s and +4 s come while the first run sleeps: SKIPPED.
    s_runs = wait_runs(server, S, 3, timeout=8)[:3]
    assert life(get_run(server, s_runs[0]["run_id"])) in ("PENDING", "RUNNING", "TERMINATED")
    for r in s_runs[1:]:
        r = get_run(server, r["run_id"])
        assert r["trigger"] == "PERIODIC", r
        assert life(r) == "SKIPPED", r["state"]
        assert r["status"]["termination_details"]["code"] == "MAX_CONCURRENT_RUNS_EXCEEDED"
        assert all(life(t) == "SKIPPED" for t in r["tasks"])
    assert diffs([r["start_time"] // 1000 * 1000 for r in s_runs]) == [2000, 2000]

    # Q: the queued run runs once the first ends, for the instant it was
    # fired at (not the time it started).
    q_runs = job_runs(server, Q)
    q1, q2 = q_runs[0], q_runs[1]
    recs = wait_marks(fq, [q1["run_id"], q2["run_id"]], timeout=12)
    assert recs[q2["run_id"]]["ts"] == recs[q1["run_id"]]["ts"] + 2000, recs
    assert recs[q2["run_id"]]["start"] >= recs[q1["run_id"]]["start"] + 4.9, recs
    assert 0 <= q2["start_time"] - recs[q2["run_id"]]["ts"] <= TOLERANCE_MS, (q2, recs)
    assert life(get_run(server, q1["run_id"])) == "TERMINATED"
    # Later firings queue behind it (never skipped), none ran beside it.
    for r in job_runs(server, Q)[2:]:
        assert life(r) != "SKIPPED", r
    active = [r for r in job_runs(server, Q) if life(r) in ("PENDING", "RUNNING", "TERMINATING")]
    assert len(active) <= 1, active
    assert not marks(fs).keys() & {r["run_id"] for r in s_runs[1:]}  # skipped: no process


# --- 4. crash safety ------------------------------------------------------------------------

def test_kill_9_never_fires_an_instant_twice_and_catches_up_once(server, tmp_path):
    """kill -9 of jobsd right after a firing and at the instant itself (+0, 1,
    3 ms), restarted at once: every instant fires exactly once. Then kill -9
    and 7 s down: one catch-up run, for the first missed instant, at the
    restart, and the schedule goes on from the first instant after it."""
    mark_file(server)
    folder = tmp_path / "m"
    job = mark_job(server, folder, schedule=UTC_2S, name="crash", max_concurrent_runs=20)
    wait_runs(server, job, 1, timeout=6)
    downtimes = []

    def kill_and_restart(down=0.0):
        t = time.monotonic()
        server.kill()
        time.sleep(down)
        server.start()
        downtimes.append(time.monotonic() - t)

    def next_even_s():
        return (int(time.time()) // 2 + 1) * 2

    # Short downtimes: right after a firing was seen, and at the instant
    # itself (+0, 1, 3 ms: the firing's transaction may be under way).
    n = len(job_runs(server, job))
    wait_runs(server, job, n + 1, timeout=4)
    kill_and_restart()
    for delta in (0.0, 0.001, 0.003):
        at = next_even_s() + delta
        time.sleep(max(0.0, at - time.time()))
        kill_and_restart()
    # One regular firing after the last restart, then kill -9 right after
    # the next one and stay down 7 s (three or four instants).
    n = len(job_runs(server, job))
    last = wait_runs(server, job, n + 2, timeout=6)[-1]
    t_kill = now_ms()
    server.kill()
    time.sleep(7)
    t_restart = now_ms()
    server.start()
    after = wait_runs(server, job, 3, timeout=8, since_id=last["run_id"])
    runs = job_runs(server, job)
    recs = wait_marks(folder, [r["run_id"] for r in runs], timeout=15)
    inst = {r["run_id"]: recs[r["run_id"]]["ts"] for r in runs}

    # Never twice.
    seen = sorted(inst.values())
    dups = sorted({i for i in seen if seen.count(i) > 1})
    assert not dups, f"instants fired twice: {[iso(i) for i in dups]}"
    # Up to the long downtime every instant fired exactly once: each short
    # downtime was under 2 s, so an instant missed there is the one catch-up.
    assert all(d < 1.9 for d in downtimes), f"restarts too slow for this check: {downtimes}"
    upto = [inst[r["run_id"]] for r in runs if r["run_id"] <= last["run_id"]]
    assert sorted(upto) == list(range(upto[0], upto[-1] + 1, 2000)), [iso(i) for i in upto]
    L = inst[last["run_id"]]
    assert L == max(upto) and t_kill - L < 1000, (iso(L), t_kill)

    # The long downtime: one catch-up run, for the first missed instant,
    # started at restart; then on from the first instant after it.
    catch, nxt = after[0], after[1:]
    assert inst[catch["run_id"]] == L + 2000, (iso(L), iso(inst[catch["run_id"]]))
    assert catch["start_time"] >= t_restart and catch["trigger"] == "PERIODIC", catch
    E = inst[nxt[0]["run_id"]]
    assert E % 2000 == 0 and catch["start_time"] < E <= catch["start_time"] + 2000, \
        (catch["start_time"], E)
    assert [inst[r["run_id"]] for r in nxt] == [E + 2000 * k for k in range(len(nxt))]
    missed = [i for i in inst.values() if L + 2000 < i < E]
    assert not missed, f"more than one catch-up run: {[iso(i) for i in missed]}"
    late = [r["start_time"] - inst[r["run_id"]] for r in nxt]
    assert all(0 <= x <= TOLERANCE_MS for x in late), late
    print(f"\ncrash: {len(downtimes)} short restarts {[round(d, 2) for d in downtimes]} s; "
          f"catch-up of {iso(L + 2000)} started {catch['start_time'] - t_restart} ms after "
          f"the restart began; {len(runs)} runs, no instant twice")


# --- 6. validation ------------------------------------------------------------------------------

def job_with(schedule=None, **extra):
    s = {"name": "v", "tasks": [{"task_key": "c", "condition_task": {
        "left": "1", "op": "EQUAL_TO", "right": "1"}}], **extra}
    if schedule is not None:
        s["schedule"] = schedule
    return s


BAD_EXPRESSIONS = [
    "0 0 25 * * ?",            # hour 25
    "* * * * *",               # Unix cron: five fields
    "0 30 2,7 * * *",          # both day fields set
    "0 0 12 ? * ?",            # both day fields '?'
    "0 0 12 * * ? 1969",       # year out of range
    "every minute",
]


def test_schedule_validation(server):
    job = create_job(server, job_with(cron("0 0 12 * * ?")))
    for version in ("2.1", "2.2"):
        for expr in BAD_EXPRESSIONS:
            body = server.error("POST", f"/api/{version}/jobs/create", 400,
                                "INVALID_PARAMETER_VALUE", json=job_with(cron(expr)))
            assert "Invalid quartz_cron_expression" in body["message"], (expr, body)
            body = server.error("POST", f"/api/{version}/jobs/update", 400,
                                "INVALID_PARAMETER_VALUE",
                                json={"job_id": job, "new_settings": {"schedule": cron(expr)}})
            assert "Invalid quartz_cron_expression" in body["message"], (expr, body)
        for zone in ("Mars/Olympus", "America/Springfield", ""):
            body = server.error("POST", f"/api/{version}/jobs/create", 400,
                                "INVALID_PARAMETER_VALUE", json=job_with(cron("0 0 12 * * ?", zone)))
            assert "timezone_id" in body["message"], (zone, body)
        body = server.error("POST", f"/api/{version}/jobs/reset", 400, "INVALID_PARAMETER_VALUE",
                            json={"job_id": job, "new_settings": job_with(cron("0 0 12 * * ?",
                                                                                 "Nowhere/Land"))})
        assert "timezone_id" in body["message"], body
        for missing in ("quartz_cron_expression", "timezone_id"):
            sc = cron("0 0 12 * * ?")
            del sc[missing]
            body = server.error("POST", f"/api/{version}/jobs/create", 400,
                                "INVALID_PARAMETER_VALUE", json=job_with(sc))
            assert missing in body["message"], body
        body = server.error("POST", f"/api/{version}/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                            json=job_with(cron("0 0 12 * * ?"),
                                          continuous={"pause_status": "UNPAUSED"}))
        assert "schedule" in body["message"] and "continuous" in body["message"], body
        body = server.error("POST", f"/api/{version}/jobs/update", 400, "INVALID_PARAMETER_VALUE",
                            json={"job_id": job, "new_settings": {
                                "continuous": {"pause_status": "UNPAUSED"}}})
        assert "continuous" in body["message"], body
        body = server.error("POST", f"/api/{version}/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                            json=job_with(cron("0 0 12 * * ?", pause_status="SOMETIMES")))
        assert "pause_status" in body["message"], body
    # Nothing above changed the job; Java zone ids beyond IANA names are accepted.
    assert get_job(server, job)["settings"]["schedule"] == cron("0 0 12 * * ?",
                                                                  pause_status="UNPAUSED")
    for zone in ("Europe/Paris", "GMT+05:30", "Etc/GMT+5", "EST"):
        create_job(server, job_with(cron("0 15 10 ? * MON-FRI", zone)))
    assert not job_runs(server, job)
