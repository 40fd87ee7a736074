#!/usr/bin/python3
"""jobsd durability benchmarks (issue 4 item 9), each against a reference
measured in the same run (bench/README.md):

  durable run-now/s     wrk POSTs jobs/run-now at CLIENTS connections, for a job
                        whose only task is a condition_task (it runs inside the
                        engine: the run is created, evaluated and TERMINATED in
                        one group commit, and answered once that commit is
                        durable); against sqlite_ceiling.c, one row per durable
                        transaction (WAL, synchronous=FULL), each row as large as
                        a run's stored rows (its job run row plus its task run
                        row, measured in the store of this same run), on the
                        same file system
  recovery after kill -9
                        a store holding RUNS finished runs and LIVE running
                        Python tasks (blocked on a gate file); jobsd is killed
                        with SIGKILL and started again; from the exec to
                        (a) /healthz 200 and (b) every live run read RUNNING
                        through runs/get with the same task run id, and the same
                        supervisor (the handle in the store, the process alive
                        with the same start time); once the gate opens, all of
                        them must end SUCCESS with their whole output. Reference
                        for (a): the same binary killed and started the same way
                        on a data dir with no jobs and no runs in it (and, for
                        information, its first start on a new, empty folder)

Repetitions alternate jobsd and its reference; medians are reported. Results go
to stdout and bench/results/recovery-*.json. Every task process is gone when
this exits, whatever happened.
"""
import argparse
import base64
import concurrent.futures
import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as common  # noqa: E402  (free_port, call, wrk, post_script, median_of)

ROOT = common.ROOT
# The binaries under test: a copy of build/ (or --build) taken when the run
# starts, next to a copy of the runtime, so that a rebuild by someone else
# during the run cannot mix two versions (set by snapshot()).
BIN = None

INSTANT_JOB = {
    "name": "instant", "max_concurrent_runs": 1000, "queue": {"enabled": True},
    "tasks": [{"task_key": "c",
               "condition_task": {"op": "EQUAL_TO", "left": "1", "right": "1"}}],
}
TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


def log(msg):
    print(msg, flush=True)


def loadavg():
    return os.getloadavg()[0]


def cpu_busy(seconds=2.0):
    """Fraction of the machine's CPU time spent busy over `seconds`, measured
    while this benchmark is idle: what others are doing."""
    def sample():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        idle = f[3] + f[4]
        return sum(f), idle
    t1, i1 = sample()
    time.sleep(seconds)
    t2, i2 = sample()
    return 1 - (i2 - i1) / max(t2 - t1, 1)


def api(url, token, path, body=None):
    return json.loads(common.call(url, token, path, body) or b"{}")


def store(data):
    c = sqlite3.connect(f"file:{data}/jobsd.db?mode=ro", uri=True, timeout=30)
    c.execute("PRAGMA query_only = ON")
    return c


# --- starting and timing jobsd ----------------------------------------------------------------

def snapshot(build, work):
    """Copies jobsd, its supervisor and the runtime into work/; returns a
    description of what was copied (git commit, local changes, sha256)."""
    global BIN
    BIN = work / "bin"
    BIN.mkdir()
    for name in ("jobsd", "jobsd-supervisor"):
        shutil.copy2(build / name, BIN / name)
    shutil.copytree(build.parent / "runtime", work / "runtime",
                    ignore=shutil.ignore_patterns("__pycache__"))

    def git(*a):
        return subprocess.run(["git", "-C", str(build.parent), *a], capture_output=True,
                              text=True).stdout.strip()
    sha = subprocess.run(["sha256sum", str(BIN / "jobsd")], capture_output=True,
                         text=True).stdout.split()[0]
    return {"build": str(build), "commit": git("rev-parse", "--short", "HEAD"),
            "changed": git("status", "--porcelain", "--untracked-files=no", "src").splitlines(),
            "jobsd_sha256": sha[:16],
            "jobsd_mtime": time.strftime("%Y-%m-%dT%H:%M:%S",
                                         time.localtime((build / "jobsd").stat().st_mtime))}


STARTED = []  # every jobsd started, stopped at the end whatever happened


def spawn_jobsd(data, port, logf):
    proc = subprocess.Popen([str(BIN / "jobsd"), "serve", "--data-dir", str(data), "--listen",
                             f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=logf, start_new_session=True)
    STARTED.append(proc)
    return proc


def stop_all():
    for p in STARTED:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                kill9(p)


def healthz_once(port):
    """The status of one GET /healthz, or None if nothing listens yet. The
    socket is bound before the runs are loaded: a connection made meanwhile
    waits in the backlog and is answered once the HTTP server runs."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
    except (ConnectionRefusedError, ConnectionResetError):
        return None
    with s:
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def wait_healthz(port, t0, proc, limit=60):
    while time.monotonic() - t0 < limit:
        if healthz_once(port) == 200:
            return (time.monotonic() - t0) * 1000
        if proc.poll() is not None:
            raise SystemExit(f"jobsd exited with {proc.returncode} while starting")
        time.sleep(0.0005)
    raise SystemExit("jobsd did not become healthy in time")


def timed_start(data, port, logf):
    """Starts jobsd; returns (process, ms from the exec to /healthz 200)."""
    t0 = time.monotonic()
    proc = spawn_jobsd(data, port, logf)
    return proc, wait_healthz(port, t0, proc), t0


def kill9(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()


# --- 1. durable run-now per second ------------------------------------------------------------

def run_bytes(data, job_id):
    """What one run stores: the payload bytes of the runs table (records:
    header, columns, the JSON documents) per job run, and a real job run
    document plus its task run document to fill a row of that size."""
    with store(data) as c:
        n = c.execute("SELECT count(*) FROM runs WHERE parent_id = 0 AND job_id = ?",
                      (job_id,)).fetchone()[0]
        rows = c.execute("SELECT count(*) FROM runs").fetchone()[0]
        payload = c.execute("SELECT sum(payload) FROM dbstat WHERE name = 'runs'").fetchone()[0]
        job_doc, jid = c.execute("SELECT doc, run_id FROM runs WHERE parent_id = 0 "
                                 "ORDER BY run_id DESC LIMIT 1").fetchone()
        task_doc = c.execute("SELECT doc FROM runs WHERE parent_id = ?", (jid,)).fetchone()[0]
        avg = dict(c.execute("SELECT parent_id > 0, avg(length(doc)) FROM runs "
                             "GROUP BY parent_id > 0").fetchall())
    per_run = round(payload / n)
    text = job_doc + task_doc
    text = (text * (per_run // len(text) + 1))[:per_run]
    return text, {"bytes_per_run": per_run, "rows_per_run": rows / n,
                  "job_run_doc_bytes": round(avg[0]), "task_run_doc_bytes": round(avg[1])}


def check_instant_runs(data, job_id):
    """Every run the benchmark created ended TERMINATED SUCCESS, none queued
    or skipped, none still active."""
    deadline = time.time() + 60
    with store(data) as c:
        while c.execute("SELECT count(*) FROM runs WHERE active = 1").fetchone()[0]:
            if time.time() > deadline:
                raise SystemExit("instant runs still active a minute after the load stopped")
            time.sleep(0.1)
        states = c.execute(
            "SELECT json_extract(doc, '$.state.life_cycle_state'), "
            "json_extract(doc, '$.state.result_state'), count(*), "
            "sum(json_extract(doc, '$.queue_duration') > 0) "
            "FROM runs WHERE parent_id = 0 AND job_id = ? GROUP BY 1, 2", (job_id,)).fetchall()
    return {f"{life}/{res}": n for life, res, n, _ in states}, sum(q or 0 for *_, q in states)


def ceiling(work, payload, seconds):
    """bench/sqlite_ceiling.c on a fresh database in work/ (same file system)."""
    d = work / "ceiling"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    out = subprocess.run([str(work / "sqlite_ceiling"), str(d), str(payload), str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    return {"rps": float(out.split("=")[1]), "p50_ms": 0.0, "p99_ms": 0.0}


def run_now_rate(args, work):
    subprocess.run(["cc", "-O2", "-o", str(work / "sqlite_ceiling"),
                    str(ROOT / "bench" / "sqlite_ceiling.c"), "-lsqlite3"], check=True)
    data, port = work / "jobsd-data", common.free_port()
    timed_start(data, port, open(work / "jobsd.log", "ab"))
    url = f"http://127.0.0.1:{port}"
    token = (data / "admin.token").read_text().strip()
    try:
        job_id = api(url, token, "/api/2.2/jobs/create", INSTANT_JOB)["job_id"]
        first = api(url, token, "/api/2.2/jobs/run-now", {"job_id": job_id})
        assert set(first) == {"run_id", "number_in_job"}, first
        run = api(url, token, f"/api/2.2/jobs/runs/get?run_id={first['run_id']}")
        assert run["state"]["life_cycle_state"] == "TERMINATED", run["state"]
        assert run["state"]["result_state"] == "SUCCESS", run["state"]
        assert run["tasks"][0]["condition_task"]["outcome"] == "true", run["tasks"]
        _, script = common.post_script(work, {"job_id": job_id}, "run-now")
        payload = work / "run-rows.txt"
        sizes = None
        s_runs, r_runs = [], []
        for i in range(args.reps):
            s_runs.append(common.wrk(url + "/api/2.2/jobs/run-now", args.clients, args.seconds,
                                     token, script))
            if sizes is None:
                text, sizes = run_bytes(data, job_id)
                payload.write_text(text)
                log(f"a run stores {sizes['bytes_per_run']} bytes in "
                    f"{sizes['rows_per_run']:.0f} rows (job run doc "
                    f"{sizes['job_run_doc_bytes']} B, task run doc "
                    f"{sizes['task_run_doc_bytes']} B): the ceiling's row size")
            r_runs.append(ceiling(work, payload, args.seconds))
            log(f"  rep {i + 1}: jobsd {s_runs[-1]['rps']:.0f} run-nows/s "
                f"(p50 {s_runs[-1]['p50_ms']:.2f} ms, p99 {s_runs[-1]['p99_ms']:.2f} ms) | "
                f"SQLite {r_runs[-1]['rps']:.0f} rows/s | load {loadavg():.2f}")
        states, queued = check_instant_runs(data, job_id)
        with store(data) as c:
            runs_total = c.execute("SELECT count(*) FROM runs WHERE parent_id = 0").fetchone()[0]
    finally:
        stop_all()
    s, r = common.median_of(s_runs), common.median_of(r_runs)
    res = {"jobsd": s, "reference": r, "ratio": s["rps"] / r["rps"], "row": sizes,
           "reps": {"jobsd": s_runs, "reference": r_runs}, "run_states": states,
           "runs_ever_queued": queued, "runs_created": runs_total}
    log(f"durable run-now c={args.clients}: jobsd {s['rps']:.0f} runs/s p50 {s['p50_ms']:.2f} ms "
        f"p99 {s['p99_ms']:.2f} ms | SQLite one row per transaction ({sizes['bytes_per_run']} B) "
        f"{r['rps']:.0f} rows/s | ratio {res['ratio']:.2f}x | runs {states}, "
        f"ever queued {queued}")
    if set(states) != {"TERMINATED/SUCCESS"}:
        raise SystemExit(f"instant runs did not all succeed: {states}")
    return res


# --- 2. recovery after kill -9 -----------------------------------------------------------------

GATE_TASK = """import os, sys, time
print("waiting for the gate", flush=True)
while not os.path.exists({gate!r}):
    time.sleep(0.1)
print("gate open: done", flush=True)
"""


def make_runs(url, token, job_id, n, clients=8):
    """n run-nows of the instant job from `clients` keep-alive connections."""
    host, port = url.split("//")[1].split(":")
    body = json.dumps({"job_id": job_id})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def worker(count):
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        for _ in range(count):
            conn.request("POST", "/api/2.2/jobs/run-now", body, headers)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"run-now answered {r.status}")
        conn.close()

    shares = [n // clients + (i < n % clients) for i in range(clients)]
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, shares))


def read_kv(path):
    try:
        return dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)
    except (FileNotFoundError, ValueError):
        return None


def proc_start_ticks(pid):
    """Field 22 of /proc/<pid>/stat, or None if the process is gone or a zombie."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def live_snapshot(data, runs):
    """For each live job run: its task run id, the handle in the store, and the
    supervisor file's pid, start ticks and task pid."""
    ids = {}
    with store(data) as c:
        for jid in runs:
            tid, handle, life = c.execute(
                "SELECT run_id, json_extract(doc, '$._.handle'), "
                "json_extract(doc, '$.state.life_cycle_state') FROM runs "
                "WHERE parent_id = ? ORDER BY run_id DESC LIMIT 1", (jid,)).fetchone()
            ids[jid] = (tid, handle, life)
    snap = {}
    for jid, (tid, handle, life) in ids.items():
        sup = read_kv(data / "runs" / str(tid) / "supervisor")
        snap[jid] = {"task_run_id": tid, "handle": handle, "life": life,
                     "sup_pid": int(sup["pid"]) if sup else None,
                     "sup_ticks": int(sup["start_ticks"]) if sup else None,
                     "task_pid": int(sup["task_pid"]) if sup else None}
    return snap


def handles(data, task_run_ids):
    with store(data) as c:
        return dict(c.execute(
            "SELECT run_id, json_extract(doc, '$._.handle') FROM runs WHERE run_id IN (%s)" %
            ",".join(map(str, task_run_ids))).fetchall())


def reconciled(port, token, data, before, t0, limit=60):
    """Waits until every live run reads RUNNING through runs/get with the same
    task run id, the store holds the same supervisor handle, and that
    supervisor and its task are alive (same start time). Returns the ms from
    t0, or raises naming the runs that did not get there."""
    headers = {"Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    pending = set(before)
    bad = {}
    while pending and time.monotonic() - t0 < limit:
        for jid in sorted(pending):
            conn.request("GET", f"/api/2.2/jobs/runs/get?run_id={jid}", headers=headers)
            r = conn.getresponse()
            run = json.loads(r.read())
            b = before[jid]
            tasks = run.get("tasks", [])
            ok = (r.status == 200 and run["state"]["life_cycle_state"] == "RUNNING" and
                  len(tasks) == 1 and tasks[0]["run_id"] == b["task_run_id"] and
                  tasks[0]["state"]["life_cycle_state"] == "RUNNING")
            if r.status == 200 and run["state"]["life_cycle_state"] in TERMINAL:
                bad[jid] = run["state"]
            if ok:
                pending.discard(jid)
        if pending and not bad:
            time.sleep(0.001)
        if bad:
            break
    got = handles(data, [b["task_run_id"] for b in before.values()])
    for jid, b in before.items():
        if got.get(b["task_run_id"]) != b["handle"]:
            bad[jid] = f"handle {got.get(b['task_run_id'])} != {b['handle']}"
        elif proc_start_ticks(b["sup_pid"]) != b["sup_ticks"]:
            bad[jid] = f"supervisor {b['sup_pid']} gone or not the same process"
        elif proc_start_ticks(b["task_pid"]) is None:
            bad[jid] = f"task process {b['task_pid']} gone"
    ms = (time.monotonic() - t0) * 1000
    conn.close()
    if pending or bad:
        raise SystemExit(f"runs not reconciled after {ms:.0f} ms: {len(pending)} not RUNNING; "
                         f"{dict(list(bad.items())[:5])} ({len(bad)} bad)")
    return ms


def kill_tasks(data):
    """Kills what is left of the benchmark's tasks: each attempt without a
    status file whose supervisor is still the process its file names, and its
    task's process group (checked to be one of this data dir's tasks)."""
    killed = 0
    for d in (data / "runs").glob("*"):
        sup = read_kv(d / "supervisor")
        if not sup or (d / "status").exists():
            continue
        tpid, spid = int(sup["task_pid"]), int(sup["pid"])
        try:
            cmd = pathlib.Path(f"/proc/{tpid}/cmdline").read_bytes()
            if str(d).encode() in cmd:
                os.killpg(tpid, signal.SIGKILL)
                killed += 1
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
        if proc_start_ticks(spid) == int(sup["start_ticks"]):
            try:
                os.kill(spid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return killed


def recovery(args, work):
    data, ref = work / "recovery-data", work / "empty-data"
    port, ref_port = common.free_port(), common.free_port()
    logf = open(work / "recovery-jobsd.log", "ab")
    gate = work / "gate"
    res = {}
    try:
        main_proc, _, _ = timed_start(data, port, logf)
        url = f"http://127.0.0.1:{port}"
        token = (data / "admin.token").read_text().strip()
        job_id = api(url, token, "/api/2.2/jobs/create", INSTANT_JOB)["job_id"]
        t = time.monotonic()
        make_runs(url, token, job_id, args.runs)
        made = time.monotonic() - t
        with store(data) as c:
            while c.execute("SELECT count(*) FROM runs WHERE active = 1").fetchone()[0]:
                time.sleep(0.05)
            done = c.execute("SELECT count(*) FROM runs WHERE parent_id = 0 AND active = 0 AND "
                             "json_extract(doc, '$.state.result_state') = 'SUCCESS'").fetchone()[0]
        assert done == args.runs, (done, args.runs)
        log(f"{args.runs} finished runs created in {made:.1f} s ({args.runs / made:.0f}/s)")

        api(url, token, "/api/2.0/workspace/mkdirs", {"path": "/bench"})
        api(url, token, "/api/2.0/workspace/import",
            {"path": "/bench/gate.py", "format": "AUTO", "overwrite": True,
             "content": base64.b64encode(GATE_TASK.format(gate=str(gate)).encode()).decode()})
        live_job = api(url, token, "/api/2.2/jobs/create", {
            "name": "live", "max_concurrent_runs": max(args.live, 100),
            "tasks": [{"task_key": "t", "spark_python_task": {"python_file": "/bench/gate.py"}}],
        })["job_id"]
        live = [api(url, token, "/api/2.2/jobs/run-now", {"job_id": live_job})["run_id"]
                for _ in range(args.live)]
        deadline = time.time() + 120
        while True:
            before = live_snapshot(data, live)
            if all(b["life"] == "RUNNING" and b["sup_pid"] and b["handle"]
                   for b in before.values()):
                break
            if time.time() > deadline:
                raise SystemExit("the live tasks did not all start")
            time.sleep(0.2)
        for b in before.values():
            assert b["handle"].split(":")[1] == str(b["sup_pid"]), b
        # Let the Python start-ups finish before anything is timed.
        time.sleep(3)
        with store(data) as c:
            rows = c.execute("SELECT count(*) FROM runs").fetchone()[0]
        wal = (data / "jobsd.db-wal").stat().st_size if (data / "jobsd.db-wal").exists() else 0
        log(f"{args.live} live tasks RUNNING; store: {rows} rows, "
            f"{(data / 'jobsd.db').stat().st_size >> 20} MB + WAL {wal >> 20} MB")

        # The reference's data dir: created by a first start, no jobs, no runs.
        ref_proc, _, _ = timed_start(ref, ref_port, logf)
        kill9(ref_proc)

        health, recon, ref_health, first_health = [], [], [], []
        for i in range(args.restarts):
            load = loadavg()
            kill9(main_proc)
            main_proc, a, t0 = timed_start(data, port, logf)
            b = reconciled(port, token, data, before, t0)
            health.append(a)
            recon.append(b)
            ref_proc, ra, _ = timed_start(ref, ref_port, logf)
            kill9(ref_proc)
            ref_proc, fa, _ = timed_start(work / f"new-data-{i}", ref_port, logf)
            kill9(ref_proc)
            ref_health.append(ra)
            first_health.append(fa)
            log(f"  rep {i + 1}: kill -9 -> healthy {a:.1f} ms, all {args.live} re-attached "
                f"{b:.1f} ms | no runs: healthy {ra:.1f} ms; first start on a new dir "
                f"{fa:.1f} ms | load {load:.2f}")

        # Open the gate: each task ends, through the supervisor jobsd re-attached to.
        t = time.monotonic()
        gate.write_text("open")
        end = time.monotonic() + 120
        finished = {}
        while len(finished) < len(live) and time.monotonic() < end:
            for jid in live:
                if jid not in finished:
                    run = api(url, token, f"/api/2.2/jobs/runs/get?run_id={jid}")
                    if run["state"]["life_cycle_state"] in TERMINAL:
                        finished[jid] = run
            time.sleep(0.01)
        gate_ms = (time.monotonic() - t) * 1000
        ok = 0
        for jid, run in finished.items():
            task = run["tasks"][0]
            out = api(url, token, f"/api/2.2/jobs/runs/get-output?run_id={task['run_id']}")
            ok += (run["state"].get("result_state") == "SUCCESS" and len(run["tasks"]) == 1 and
                   task["run_id"] == before[jid]["task_run_id"] and
                   "waiting for the gate" in out.get("logs", "") and
                   "gate open: done" in out.get("logs", ""))
        with store(data) as c:
            intact = c.execute("SELECT count(*) FROM runs WHERE parent_id = 0 AND job_id = ? AND "
                               "json_extract(doc, '$.state.result_state') = 'SUCCESS'",
                               (job_id,)).fetchone()[0]
        med = statistics.median
        res = {"runs": args.runs, "live": args.live, "rows": rows,
               "healthy_ms": med(health), "reconciled_ms": med(recon),
               "ref_healthy_ms": med(ref_health), "first_start_ms": med(first_health),
               "reps": {"healthy_ms": health, "reconciled_ms": recon, "ref_healthy_ms": ref_health,
                        "first_start_ms": first_health},
               "gate_to_all_success_ms": gate_ms, "live_success": ok,
               "finished_runs_intact": intact}
        log(f"recovery, {args.runs} runs + {args.live} live tasks: healthy "
            f"{res['healthy_ms']:.1f} ms (no runs {res['ref_healthy_ms']:.1f} ms, ratio "
            f"{res['healthy_ms'] / res['ref_healthy_ms']:.2f}; first start on a new dir "
            f"{res['first_start_ms']:.1f} ms), all reconciled "
            f"{res['reconciled_ms']:.1f} ms; gate -> {ok}/{args.live} SUCCESS with their output "
            f"in {gate_ms:.0f} ms; finished runs intact {intact}/{args.runs}")
        if ok != args.live or intact != args.runs:
            raise SystemExit("recovery lost or restarted runs")
        return res
    finally:
        stop_all()
        left = kill_tasks(data) if (data / "runs").exists() else 0
        if left:
            log(f"killed {left} task process groups left running")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8, help="each run-now/s measurement")
    ap.add_argument("--reps", type=int, default=3, help="alternating run-now/s repetitions")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--runs", type=int, default=10000, help="finished runs in the store")
    ap.add_argument("--live", type=int, default=100, help="live tasks across the kill")
    ap.add_argument("--restarts", type=int, default=3, help="kill -9 / restart repetitions")
    ap.add_argument("--only", choices=("rate", "recovery"))
    ap.add_argument("--build", default=str(common.BUILD), help="where jobsd was built")
    ap.add_argument("--quiet-wait", type=int, default=300,
                    help="seconds to wait at most for others' CPU use to drop under 15%%")
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="jobsd-bench-recovery-",
                                         dir=os.environ.get("TMPDIR")))
    binary = snapshot(pathlib.Path(args.build).resolve(), work)
    log(f"jobsd {binary['jobsd_sha256']} built {binary['jobsd_mtime']} from {binary['commit']}"
        + (f" + local changes to {len(binary['changed'])} files in src/" if binary["changed"]
           else ""))
    # Others may be running tests on the same two cores: wait for a quiet
    # moment: three samples of 3 s in a row under 15% (at most --quiet-wait s).
    deadline, calm = time.time() + args.quiet_wait, 0
    while calm < 3:
        busy = cpu_busy(3)
        calm = calm + 1 if busy < 0.15 else 0
        if time.time() > deadline:
            break
        if not calm:
            log(f"machine {busy * 100:.0f}% busy (load {loadavg():.2f}): waiting")
            time.sleep(10)
    meta = {"binary": binary, "when": time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime()),
            "cpus": os.cpu_count(),
            "uname": os.uname().release, "load_before": os.getloadavg(), "busy_before": busy,
            "args": vars(args)}
    log(f"load {os.getloadavg()[0]:.2f}, machine {busy * 100:.0f}% busy before starting")
    results = {"meta": meta}
    try:
        if args.only != "recovery":
            results["run_now"] = run_now_rate(args, work)
        if args.only != "rate":
            results["recovery"] = recovery(args, work)
    finally:
        meta["load_after"] = os.getloadavg()
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        path = out / f"recovery-{meta['when']}.json"
        path.write_text(json.dumps(results, indent=2))
        shutil.rmtree(work, ignore_errors=True)
        log(f"results: {path.relative_to(ROOT)}; load after {meta['load_after'][0]:.2f}")


if __name__ == "__main__":
    main()
