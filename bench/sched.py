#!/usr/bin/python3
"""jobsd scheduler benchmark (bench/README.md, "Scheduler"): 100,000 scheduled
jobs loaded; each figure next to a reference measured in the same run.

  loading        JOBS jobs with a schedule, created through POST jobs/create
                 from CLIENTS keep-alive connections (PROCS processes); the
                 schedules are a mix of daily, weekday, twice-daily, hourly,
                 minutely, weekly, monthly, L, L-n, LW, nW, d#n, dL, yearly and
                 DST-gap expressions over ten zones, none of which fires while
                 the benchmark runs (checked with cron_next before they are
                 sent). Reference: the same JOBS jobs without their schedule,
                 in a second jobsd ("plain")
  memory         VmRSS / VmHWM / RssAnon of jobsd: empty, loaded through the API,
                 and restarted on the loaded store; per schedule: against the
                 plain jobsd holding the same jobs unscheduled
  start-up       SIGTERM, then the time from the exec to /healthz 200 (the
                 scheduler loads every trigger before the HTTP server starts);
                 references: the plain store, and a store of the probes only
  next-fire cost bench/cron_bench.c: cron_next() over the same expressions and
                 zones from random instants in 2026-2030, ns per call p50/p99
                 and mean per class, against glibc localtime_r() (and one
                 tzif_offset_at()) for the same zone and instants
  lateness       PROBES Python-file jobs spread over the zones, each given
                 {{job.trigger.time.timestamp_ms}}: lateness = the instant the
                 supervisor forked the task process (start_us in the attempt's
                 supervisor file, CLOCK_REALTIME) minus the scheduled instant
                 (argv[1] in the attempt's context.json). Measured in the jobsd
                 holding the JOBS schedules and, as the reference, in a jobsd
                 holding only the probe jobs ("ref"); the two alternate
                 (probes unpaused in one at a time). Scenarios: see SCENARIOS
  --trace SECS   then splits the lateness of each firing at its syscalls and
                 scheduler events with ftrace (trace_breakdown)

Results go to stdout and bench/results/sched-<time>.json.
"""
import argparse
import concurrent.futures
import datetime
import http.client
import json
import multiprocessing
import os
import pathlib
import random
import re
import signal
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as common  # noqa: E402  (free_port, call)
import recovery as rec  # noqa: E402  (snapshot, cpu_busy, wait_healthz, read_kv, kill_tasks)

ROOT = common.ROOT

ZONES = ["UTC", "America/New_York", "America/Los_Angeles", "America/Sao_Paulo",
         "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo",
         "Australia/Lord_Howe", "Pacific/Chatham"]
QUARTZ_DOW = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]  # by Python weekday()

# class, weight, template. {h}/{h2}: hours that cannot come up while the
# benchmark runs in that zone; {mi}: any minute; {dows}: the weekdays other
# than today and tomorrow in that zone; {dow1}: one of them.
CLASSES = [
    ("daily", 30, "0 {mi} {h} * * ?"),
    ("weekdays", 14, "0 {mi} {h} ? * MON-FRI"),
    ("twice-daily", 4, "0 {mi} {h},{h2} * * ?"),
    ("hourly", 14, "0 {mi} * ? * {dows}"),
    ("minutely", 8, "0 */{k} * ? * {dows}"),
    ("weekly", 8, "0 {mi} {h} ? * {dow1}"),
    ("monthly", 5, "0 {mi} {h} {d} * ?"),
    ("L", 3, "0 {mi} {h} L * ?"),
    ("L-n", 1, "0 {mi} {h} L-3 * ?"),
    ("LW", 2, "0 {mi} {h} LW * ?"),
    ("nW", 2, "0 {mi} {h} 15W * ?"),
    ("d#n", 3, "0 {mi} {h} ? * 2#1"),
    ("dL", 2, "0 {mi} {h} ? * 6L"),
    ("dst-gap", 2, "0 30 2 ? * {dows}"),
    ("yearly", 2, "0 {mi} {h} 1 JAN ?"),
]
# Lateness scenarios; probe k's expression.
#   spread  each probe every 10 s, probe k at second k % 10: two firings per
#           second, never more (the main figure: no firing waits for others)
#   burst   every probe at every even second: PROBES firings at the same
#           instant, each starting a Python process, on this machine's cores
#   idle    one probe at second 0 of each minute (in the reference at second
#           30), nothing else due: the engine sleeps ~60 s before each firing
SCENARIOS = {
    "spread": {"period": 10, "exprs": lambda n: [f"{k % 10}/10 * * * * ?" for k in range(n)]},
    "burst": {"period": 2, "exprs": lambda n: ["*/2 * * * * ?"] * n},
    "idle": {"period": 60, "exprs": None},
}
PROBE_FILE = b"print('probe')\n"


def log(msg):
    print(msg, flush=True)


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


# --- the schedules ---------------------------------------------------------------------------

def make_mix(n, now, guard_s, rnd):
    """n (class, zone, expr) whose first firing after now is more than guard_s
    seconds away (a first guess, checked with cron_next afterwards)."""
    safe = {}
    for z in ZONES:
        loc = datetime.datetime.fromtimestamp(now, zoneinfo.ZoneInfo(z))
        bad_h = {(loc.hour + k) % 24 for k in range(-1, guard_s // 3600 + 2)}
        hours = [h for h in range(24) if h not in bad_h]
        days = [QUARTZ_DOW[(loc.weekday() + k) % 7] for k in range(2, 7)]
        safe[z] = (hours, days)
    weights = [w for _, w, _ in CLASSES]
    out = []
    for i in range(n):
        cls, _, tmpl = rnd.choices(CLASSES, weights)[0]
        zone = ZONES[i % len(ZONES)]
        hours, days = safe[zone]
        h, h2 = rnd.sample(hours, 2)
        expr = tmpl.format(mi=rnd.randrange(60), h=min(h, h2) if "{h2}" in tmpl else h,
                           h2=max(h, h2), d=rnd.randint(1, 28), k=rnd.choice((1, 5, 10, 15)),
                           dows=",".join(sorted(days, key=QUARTZ_DOW.index)),
                           dow1=rnd.choice(days))
        out.append((cls, zone, expr))
    return out


def cron_next_all(cron_bench, lines, from_ms):
    text = "".join(f"{c}\t{z}\t{e}\n" for c, z, e in lines)
    out = subprocess.run([str(cron_bench), "next", str(from_ms)], input=text, text=True,
                         capture_output=True, check=True).stdout.split("\n")
    return out[:len(lines)]


def checked_mix(cron_bench, n, guard_s, seed):
    """The mix, with every schedule checked not to fire in the next guard_s."""
    rnd = random.Random(seed)
    now = time.time()
    mix = make_mix(n, now, guard_s, rnd)
    limit = int((now + guard_s) * 1000)
    for _ in range(5):
        nxt = cron_next_all(cron_bench, mix, int(now * 1000))
        bad = [i for i, v in enumerate(nxt) if v.startswith("error") or
               (v != "none" and int(v) <= limit)]
        errors = [nxt[i] for i in bad if nxt[i].startswith("error")]
        if errors:
            raise SystemExit(f"the mix holds invalid schedules: {errors[:3]}")
        if not bad:
            return mix
        log(f"  {len(bad)} schedules would fire within {guard_s} s: drawn again")
        fresh = make_mix(len(bad), now, guard_s, rnd)
        for i, m in zip(bad, fresh):
            mix[i] = m
    raise SystemExit("could not draw a mix that stays quiet")


def job_body(i, cls, zone, expr, scheduled=True):
    body = {
        "name": f"sched-{cls}-{i:06d}", "max_concurrent_runs": 1,
        "tags": {"team": f"t{i % 50}"},
        "tasks": [{"task_key": "main",
                   "spark_python_task": {
                       "python_file": f"/bench/etl/{cls}.py",
                       "parameters": ["--day", "{{job.trigger.time.iso_date}}"]}}],
        "schedule": {"quartz_cron_expression": expr, "timezone_id": zone},
    }
    if not scheduled:
        del body["schedule"]
    return json.dumps(body).encode()


def probe_schedule(zone, expr):
    """A probe's schedule: expr, or paused when expr is None."""
    return {"quartz_cron_expression": expr or "0 0 0 1 1 ? 2099", "timezone_id": zone,
            "pause_status": "PAUSED" if expr is None else "UNPAUSED"}


# --- jobsd -------------------------------------------------------------------------------------

class Jobsd:
    def __init__(self, name, data, logf, log_level):
        self.name, self.data, self.logf, self.log_level = name, data, logf, log_level
        self.port = common.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.token = None

    def start(self):
        """Starts jobsd; returns ms from the exec to /healthz 200."""
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [str(rec.BIN / "jobsd"), "serve", "--data-dir", str(self.data), "--listen",
             f"127.0.0.1:{self.port}", "--max-saved-jobs", "1000000",
             "--max-jobs-created-per-hour", "1000000", "--log-level", self.log_level],
            stdout=subprocess.DEVNULL, stderr=self.logf, start_new_session=True)
        ms = rec.wait_healthz(self.port, t0, self.proc)
        self.token = (self.data / "admin.token").read_text().strip()
        return ms

    def stop(self):
        """SIGTERM; returns ms until jobsd has exited."""
        if self.proc and self.proc.poll() is None:
            t0 = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            return (time.monotonic() - t0) * 1000
        return 0.0

    def wal_bytes(self):
        wal = self.data / "jobsd.db-wal"
        return wal.stat().st_size if wal.exists() else 0

    def api(self, path, body=None):
        return json.loads(common.call(self.url, self.token, path, body) or b"{}")

    def mem(self):
        st = {}
        for line in open(f"/proc/{self.proc.pid}/status"):
            k, v = line.split(":", 1)
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                st[k] = int(v.split()[0]) * 1024
        return st

    def engine_stat(self):
        """(ns on a CPU, ns runnable waiting for one) summed over jobsd's threads
        named "jobsd" other than the main thread: the engine thread
        (/proc/PID/task/TID/schedstat)."""
        run = wait = 0
        for t in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                comm = open(f"/proc/{self.proc.pid}/task/{t}/comm").read().strip()
                r, w, _ = map(int, open(f"/proc/{self.proc.pid}/task/{t}/schedstat").read().split())
            except (FileNotFoundError, ProcessLookupError):
                continue
            if comm == "jobsd" and int(t) != self.proc.pid:
                run, wait = run + r, wait + w
        return run, wait

    def cpu_s(self):
        f = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _load_share(args):
    """One loader process: THREADS keep-alive connections sending its share of
    jobs/create requests; returns (created, first error)."""
    host, port, token, share, threads, scheduled = args
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    lock = threading.Lock()
    pos = [0]
    done = [0]
    err = []

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=120)
        while True:
            with lock:
                if pos[0] >= len(share) or err:
                    break
                i = pos[0]
                pos[0] += 1
            idx, cls, zone, expr = share[i]
            conn.request("POST", "/api/2.2/jobs/create",
                         job_body(idx, cls, zone, expr, scheduled), headers)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                with lock:
                    err.append(f"{r.status} {body[:200]!r}")
                break
            with lock:
                done[0] += 1
        conn.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return done[0], err[0] if err else None


def load_jobs(j, mix, procs, clients, scheduled=True):
    """Creates the jobs of mix; returns (seconds, jobsd's CPU seconds)."""
    c0 = j.cpu_s()
    items = [(i, *m) for i, m in enumerate(mix)]
    shares = [items[k::procs] for k in range(procs)]
    per = max(1, clients // procs)
    t0 = time.monotonic()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(procs) as pool:
        res = pool.map(_load_share, [("127.0.0.1", j.port, j.token, s, per, scheduled)
                                     for s in shares])
    secs = time.monotonic() - t0
    cpu = j.cpu_s() - c0
    made = sum(r[0] for r in res)
    errs = [r[1] for r in res if r[1]]
    if errs or made != len(mix):
        raise SystemExit(f"loading failed: {made}/{len(mix)} created; {errs[:3]}")
    return secs, cpu


def import_file(j, path, content):
    import base64
    j.api("/api/2.0/workspace/mkdirs", {"path": path.rsplit("/", 1)[0]})
    j.api("/api/2.0/workspace/import", {"path": path, "format": "AUTO", "overwrite": True,
                                        "content": base64.b64encode(content).decode()})


def create_probes(j, n):
    import_file(j, "/bench/probe.py", PROBE_FILE)
    probes = {}
    for k in range(n):
        zone = ZONES[k % len(ZONES)]
        jid = j.api("/api/2.2/jobs/create", {
            "name": f"probe-{k}", "max_concurrent_runs": 1,
            "tasks": [{"task_key": "p", "spark_python_task": {
                "python_file": "/bench/probe.py",
                "parameters": ["{{job.trigger.time.timestamp_ms}}"]}}],
            "schedule": probe_schedule(zone, None)})["job_id"]
        probes[jid] = zone
    return probes


def set_probes(j, probes, exprs):
    """exprs[k]: the k-th probe's expression (None or missing: paused)."""
    for k, (jid, zone) in enumerate(probes.items()):
        expr = exprs[k] if k < len(exprs) else None
        j.api("/api/2.2/jobs/update", {"job_id": jid,
                                       "new_settings": {"schedule": probe_schedule(zone, expr)}})


# --- lateness ------------------------------------------------------------------------------

def firings(j, probes, wait_s=60):
    """(job_id, due_ms, start_us) of every probe attempt, once all have ended."""
    end = time.time() + wait_s
    while True:
        rows, pending = [], 0
        for d in (j.data / "runs").iterdir():
            ctx_path = d / "context.json"
            if not ctx_path.exists():
                continue
            ctx = json.loads(ctx_path.read_text())
            if ctx.get("job_id") not in probes:
                continue
            sup = rec.read_kv(d / "supervisor")
            if not sup or not (d / "status").exists():
                pending += 1
                continue
            rows.append((ctx["job_id"], int(ctx["argv"][0]), int(sup["start_us"]),
                         int(ctx["task_run_id"])))
        if not pending or time.time() > end:
            return rows, pending
        time.sleep(0.5)


def run_results(j, probes):
    """Job runs of the probe jobs in the store, by result state."""
    c = sqlite3.connect(f"file:{j.data}/jobsd.db?mode=ro", uri=True, timeout=30)
    try:
        q = ("SELECT json_extract(doc, '$.state.result_state'), count(*) FROM runs "
             "WHERE parent_id = 0 AND job_id IN (%s) GROUP BY 1" % ",".join(map(str, probes)))
        return dict(c.execute(q).fetchall())
    finally:
        c.close()


def pctl(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))] if v else float("nan")


def lateness_stats(rows, windows, period_s):
    """Lateness in ms of the firings whose instant lies in one of windows
    [(on_ms, off_ms)]; also per instant the first and last of its batch, and
    the gaps (a probe missing one of its instants, period_s apart, inside a
    window)."""
    inside = [r for r in rows if any(a < r[1] <= b for a, b in windows)]
    late = [(r[2] / 1000 - r[1]) for r in inside]
    by_instant = {}
    for jid, due, start_us, _ in inside:
        by_instant.setdefault(due, []).append(start_us / 1000 - due)
    first = [min(v) for v in by_instant.values()]
    last = [max(v) for v in by_instant.values()]
    # Each probe fires at every instant of a window: count the missing.
    gaps = dups = 0
    for a, b in windows:
        by_job = {}
        for jid, due, _, _ in inside:
            if a < due <= b:
                by_job.setdefault(jid, []).append(due)
        for dues in by_job.values():
            gaps += (max(dues) - min(dues)) // (period_s * 1000) + 1 - len(set(dues))
            dups += len(dues) - len(set(dues))
    if not late:
        return {"firings": 0}
    return {"firings": len(late), "instants": len(by_instant),
            "p50_ms": pctl(late, 0.5), "p99_ms": pctl(late, 0.99), "max_ms": max(late),
            "mean_ms": statistics.mean(late),
            "first_of_instant_p50_ms": pctl(first, 0.5),
            "first_of_instant_p99_ms": pctl(first, 0.99),
            "last_of_instant_p50_ms": pctl(last, 0.5), "last_of_instant_p99_ms": pctl(last, 0.99),
            "over_10ms": sum(1 for x in late if x > 10), "gaps": gaps, "duplicates": dups,
            "window_p99_ms": [round(pctl([r[2] / 1000 - r[1] for r in inside if a < r[1] <= b],
                                         0.99), 2) for a, b in windows]}


def by_rank(rows, windows):
    """p50 lateness by the rank of the firing's start within its instant."""
    inside = [r for r in rows if any(a < r[1] <= b for a, b in windows)]
    by_instant = {}
    for jid, due, start_us, _ in inside:
        by_instant.setdefault(due, []).append(start_us / 1000 - due)
    ranks = {}
    for v in by_instant.values():
        for k, x in enumerate(sorted(v)):
            ranks.setdefault(k, []).append(x)
    return {k: round(pctl(v, 0.5), 2) for k, v in sorted(ranks.items())}


# --- where the time goes (--trace) ---------------------------------------------------------

TRACEFS = pathlib.Path("/sys/kernel/tracing")
SYSCALL_EVENTS = ("sys_exit_epoll_wait", "sys_enter_fdatasync", "sys_exit_fdatasync",
                  "sys_enter_mkdir", "sys_enter_clone3", "sys_exit_clone3")
SCHED_EVENTS = ("sched_process_fork", "sched_wakeup")


def _tw(path, value):
    (TRACEFS / path).write_text(value)


def trace_breakdown(j, probes, scen, secs, out):
    """Runs scenario scen for secs seconds in jobsd j under ftrace (tracepoints,
    no ptrace stops; trace_clock tai, which is CLOCK_REALTIME while the TAI
    offset is 0, so event times compare with due instants and start_us) and
    splits each firing's lateness:
      timer       due instant -> the engine thread is woken (sched_wakeup)
      to_run      -> its epoll_wait returns
      op          -> the commit's fdatasync starts (the fire op: journal rows,
                     runs created)
      fsync       the WAL fdatasync
      queue       -> mkdir of the attempt folder (earlier spawns of the batch)
      prepare     -> clone3 (code snapshot, context.json, the attempt lock)
      spawn       clone3 (posix_spawn of the supervisor: returns once it exec'd)
      supervisor  -> start_us (the supervisor opens its files and forks the task)
    The firing's attempt is found by the supervisor's pid (clone3's return)."""
    if abs(time.clock_gettime(time.CLOCK_TAI) - time.time()) > 0.0005:
        log("  --trace: CLOCK_TAI is not CLOCK_REALTIME here; skipped")
        return None
    tids = [int(t) for t in os.listdir(f"/proc/{j.proc.pid}/task")]
    pids = " || ".join(f"common_pid == {t}" for t in tids)
    _tw("tracing_on", "0")
    _tw("trace", "")
    _tw("trace_clock", "tai")
    _tw("buffer_size_kb", "16384")
    for ev in SYSCALL_EVENTS:
        _tw(f"events/syscalls/{ev}/filter", pids)
        _tw(f"events/syscalls/{ev}/enable", "1")
    _tw("events/sched/sched_process_fork/filter", 'parent_comm == "jobsd-superviso"')
    _tw("events/sched/sched_wakeup/filter", " || ".join(f"pid == {t}" for t in tids))
    for ev in SCHED_EVENTS:
        _tw(f"events/sched/{ev}/enable", "1")
    try:
        _tw("tracing_on", "1")
        set_probes(j, probes, SCENARIOS[scen]["exprs"](len(probes)) if scen != "idle"
                   else ["0 * * * * ?"])
        on = int(time.time() * 1000)
        time.sleep(secs)
        set_probes(j, probes, [])
        off = int(time.time() * 1000)
        time.sleep(2)
        _tw("tracing_on", "0")
        text = (TRACEFS / "trace").read_text()
    finally:
        _tw("tracing_on", "0")
        for ev in SYSCALL_EVENTS:
            _tw(f"events/syscalls/{ev}/enable", "0")
            _tw(f"events/syscalls/{ev}/filter", "0")
        for ev in SCHED_EVENTS:
            _tw(f"events/sched/{ev}/enable", "0")
            _tw(f"events/sched/{ev}/filter", "0")
        _tw("trace", "")
        _tw("trace_clock", "local")
    out.write_text(text)
    rows, _ = firings(j, probes)
    att = {}
    for jid, due, start_us, trid in rows:
        if on < due <= off:
            sup = rec.read_kv(j.data / "runs" / str(trid) / "supervisor")
            att[int(sup["pid"])] = (due / 1000, start_us / 1e6)
    pat = re.compile(r"^\s*.+?-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+):\s+(\w+)(\(| ->|:)\s*(.*)$")
    ev = []
    for line in text.splitlines():
        m = pat.match(line)
        if not m:
            continue
        name = m.group(3)
        if name.startswith("sys_"):
            name = ("sys_enter_" if m.group(4) == "(" else "sys_exit_") + name[4:]
        ev.append((int(m.group(1)), float(m.group(2)), name, m.group(5)))
    # The engine thread: the one that syncs the WAL (fd 5, the first fd it syncs).
    eng = next((e[0] for e in ev if e[2] == "sys_enter_fdatasync"), None)
    E = [e for e in ev if e[0] == eng or e[2] == "sched_wakeup"]
    keys = ("timer", "to_run", "op", "fsync", "queue", "prepare", "spawn", "supervisor", "total")
    comp = {k: [] for k in keys}
    ranks = []
    last = {}
    for i, e in enumerate(E):
        if e[0] == eng and e[2] != "sched_wakeup":
            last[e[2]] = (i, e)
        if e[2] == "sched_wakeup" and f"pid={eng}" in e[3]:
            last["wakeup"] = (i, e)
        if e[0] == eng and e[2] == "sys_exit_epoll_wait":
            last["wake_of_epoll"] = last.get("wakeup")
            last["spawned"] = 0
        if e[0] == eng and e[2] == "sys_exit_fdatasync":
            last["commit_end"] = last.get("sys_exit_fdatasync")
            last["commit_start"] = last.get("sys_enter_fdatasync")
            last["epoll"] = last.get("sys_exit_epoll_wait")
            last["wake"] = last.get("wake_of_epoll")
            last["spawned"] = 0
        if e[0] != eng or e[2] != "sys_exit_clone3":
            continue
        try:
            child = int(e[3].strip(), 16)
        except ValueError:
            continue
        if child not in att or "commit_end" not in last or not last.get("wake"):
            continue
        due, start = att[child]
        wk, ep = last["wake"][1][1], last["epoll"][1][1]
        f0, f1 = last["commit_start"][1][1], last["commit_end"][1][1]
        mk, c0 = last["sys_enter_mkdir"][1][1], last["sys_enter_clone3"][1][1]
        for k, v in (("timer", wk - due), ("to_run", ep - wk), ("op", f0 - ep), ("fsync", f1 - f0),
                     ("queue", mk - f1), ("prepare", c0 - mk), ("spawn", e[1] - c0),
                     ("supervisor", start - e[1]), ("total", start - due)):
            comp[k].append(v * 1000)
        ranks.append(last["spawned"])
        last["spawned"] += 1
    n = len(comp["total"])
    if not n:
        log("  --trace: no firing could be followed")
        return None
    res = {"firings": n, "of": len(att),
           "components": {k: {"p50": pctl(v, 0.5), "p90": pctl(v, 0.9), "p99": pctl(v, 0.99),
                              "max": max(v)} for k, v in comp.items()},
           "by_rank_p50": {r: {k: statistics.median(comp[k][i] for i in range(n) if ranks[i] == r)
                               for k in keys} for r in sorted(set(ranks))},
           "slowest": [{k: round(comp[k][i], 2) for k in keys} | {"rank": ranks[i]}
                       for i in sorted(range(n), key=lambda i: -comp["total"][i])[:5]]}
    log(f"  where the time goes, {scen} in {j.name} ({n} of {len(att)} firings followed), ms:")
    log("    " + "  ".join(f"{k:>10s}" for k in ("", "p50", "p90", "p99", "max")))
    for k, c in res["components"].items():
        log(f"    {k:>10s}  " + "  ".join(f"{c[q]:10.3f}" for q in ("p50", "p90", "p99", "max")))
    if len(res["by_rank_p50"]) > 1:
        for r, c in res["by_rank_p50"].items():
            log(f"    rank {r:2d} p50: " + ", ".join(f"{k} {c[k]:.2f}" for k in keys))
    for s_ in res["slowest"]:
        log("    slowest: " + ", ".join(f"{k} {v}" for k, v in s_.items()))
    return res


# --- main ------------------------------------------------------------------------------------

def build_cron_bench(out):
    flags = ["-std=c17", "-D_GNU_SOURCE", "-g", "-O2", "-Wall", "-Wextra", "-Werror", "-Isrc"]
    libs = subprocess.run(["pkg-config", "--libs", "libmicrohttpd", "jansson", "sqlite3",
                           "libcrypto"], capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", *flags, "-o", str(out), "bench/cron_bench.c",
                    str(common.BUILD / "libjobsd.a"), *libs, "-lpthread"], cwd=ROOT, check=True)


def quiet_wait(limit):
    deadline, calm, busy = time.time() + limit, 0, 1.0
    while calm < 3:
        busy = rec.cpu_busy(3)
        calm = calm + 1 if busy < 0.15 else 0
        if time.time() > deadline:
            break
        if not calm:
            log(f"machine {busy * 100:.0f}% busy (load {loadavg()[0]}): waiting")
            time.sleep(10)
    return busy


def mb(x):
    return x / 1048576


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--window", type=int, default=100, help="seconds per spread window")
    ap.add_argument("--reps", type=int, default=5, help="alternating spread windows each")
    ap.add_argument("--burst-window", type=int, default=20)
    ap.add_argument("--burst-reps", type=int, default=2)
    ap.add_argument("--idle-window", type=int, default=245,
                    help="seconds of the idle-minute scenario (0: skip it)")
    ap.add_argument("--clients", type=int, default=64, help="connections loading the jobs")
    ap.add_argument("--procs", type=int, default=4, help="loader processes")
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--calls", type=int, default=20000, help="cron_next calls per class")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--build", default=str(common.BUILD))
    ap.add_argument("--quiet-wait", type=int, default=300)
    ap.add_argument("--keep", action="store_true", help="keep the data dirs (printed)")
    ap.add_argument("--trace", type=int, default=0, metavar="SECS",
                    help="then break lateness down with ftrace (root): a SECS-second spread "
                         "window, a 10-s burst and a 125-s idle window in the 100k jobsd")
    args = ap.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="jobsd-bench-sched-",
                                         dir=os.environ.get("TMPDIR")))
    binary = rec.snapshot(pathlib.Path(args.build).resolve(), work)
    cron_bench = rec.BIN / "cron_bench"
    build_cron_bench(cron_bench)
    log(f"jobsd {binary['jobsd_sha256']} built {binary['jobsd_mtime']} from {binary['commit']}"
        + (f" + local changes to {len(binary['changed'])} files in src/" if binary["changed"]
           else ""))
    busy = quiet_wait(args.quiet_wait)
    meta = {"binary": binary, "when": time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime()),
            "cpus": os.cpu_count(), "uname": os.uname().release, "args": vars(args),
            "load_before": loadavg(), "busy_before": busy}
    log(f"load {' '.join(loadavg())}, machine {busy * 100:.0f}% busy before starting")
    res = {"meta": meta}
    logf = open(work / "jobsd.log", "ab")
    big = Jobsd("100k", work / "data-big", logf, args.log_level)
    plain = Jobsd("plain", work / "data-plain", logf, args.log_level)
    ref = Jobsd("ref", work / "data-ref", logf, args.log_level)
    every = (big, plain, ref)
    try:
        guard = 3 * 3600
        mix = checked_mix(cron_bench, args.jobs, guard, args.seed)
        (work / "mix.tsv").write_text("".join(f"{c}\t{z}\t{e}\n" for c, z, e in mix))
        counts = {}
        for c, _, _ in mix:
            counts[c] = counts.get(c, 0) + 1
        log(f"{len(mix)} schedules over {len(ZONES)} zones, none firing within {guard // 3600} h: "
            + ", ".join(f"{c} {n}" for c, n in counts.items()))

        # 1. Empty, then loaded through the API: the same jobs with their
        #    schedules (100k) and without (plain: the reference).
        for j in every:
            j.start()
        time.sleep(0.5)
        res["mem_empty"] = {j.name: j.mem() for j in every}
        log(f"empty jobsd: VmRSS {mb(res['mem_empty']['100k']['VmRSS']):.1f} MB "
            f"(RssAnon {mb(res['mem_empty']['100k']['RssAnon']):.1f} MB)")
        res["load"] = {}
        for j, scheduled in ((plain, False), (big, True)):
            la = loadavg()
            secs, cpu = load_jobs(j, mix, args.procs, args.clients, scheduled)
            time.sleep(1)
            m = j.mem()
            db = (j.data / "jobsd.db").stat().st_size + j.wal_bytes()
            res["load"][j.name] = {"jobs": len(mix), "seconds": secs, "per_s": len(mix) / secs,
                                   "jobsd_cpu_s": cpu, "load_before": la, "mem": m,
                                   "db_bytes": db}
            log(f"{j.name}: {len(mix)} jobs {'with' if scheduled else 'without'} a schedule "
                f"created in {secs:.1f} s ({len(mix) / secs:,.0f} durable creates/s, "
                f"{args.clients} connections; jobsd CPU {cpu:.1f} s; load before {la[0]}); "
                f"VmRSS {mb(m['VmRSS']):.1f} MB, VmHWM {mb(m['VmHWM']):.1f} MB; store "
                f"{mb(db):.0f} MB")
        plain.stop()

        # 2. Lateness: the same probes in 100k and ref; see SCENARIOS.
        pb = create_probes(big, args.probes)
        pr = create_probes(ref, args.probes)
        os.sync()  # the load's writeback is not the firings'
        busy = quiet_wait(min(args.quiet_wait, 120))
        log(f"lateness: machine {busy * 100:.0f}% busy before, load {' '.join(loadavg())}")
        lat = {}
        for sc in ("spread", "burst", "idle"):
            reps, window = {"spread": (args.reps, args.window),
                            "burst": (args.burst_reps, args.burst_window),
                            "idle": (1, args.idle_window)}[sc]
            if not reps or not window:
                continue
            period = SCENARIOS[sc]["period"]
            windows = {"100k": [], "ref": []}
            cpu = {"100k": 0.0, "ref": 0.0}
            eng = {"100k": [0, 0], "ref": [0, 0]}
            if sc == "idle":
                # Both at once: one probe each, half a minute apart.
                la = loadavg()
                c0 = {j.name: j.cpu_s() for j in (big, ref)}
                e0 = {j.name: j.engine_stat() for j in (big, ref)}
                set_probes(big, pb, ["0 * * * * ?"])
                set_probes(ref, pr, ["30 * * * * ?"])
                on = int(time.time() * 1000)
                time.sleep(window)
                set_probes(big, pb, [])
                set_probes(ref, pr, [])
                off = int(time.time() * 1000)
                for j in (big, ref):
                    windows[j.name].append((on, off))
                    cpu[j.name] += j.cpu_s() - c0[j.name]
                    e1 = j.engine_stat()
                    eng[j.name] = [eng[j.name][k] + e1[k] - e0[j.name][k] for k in (0, 1)]
                log(f"  {sc}: {window} s window, both; load before {la[0]}")
            else:
                exprs = SCENARIOS[sc]["exprs"](args.probes)
                for rep in range(reps):
                    for j, probes in ((big, pb), (ref, pr)):
                        la = loadavg()
                        c0 = j.cpu_s()
                        e0 = j.engine_stat()
                        set_probes(j, probes, exprs)
                        on = int(time.time() * 1000)
                        time.sleep(window)
                        set_probes(j, probes, [])
                        off = int(time.time() * 1000)
                        cpu[j.name] += j.cpu_s() - c0
                        e1 = j.engine_stat()
                        eng[j.name] = [eng[j.name][k] + e1[k] - e0[k] for k in (0, 1)]
                        windows[j.name].append((on, off))
                        log(f"  {sc} rep {rep + 1} {j.name}: {window} s window; load before "
                            f"{la[0]}")
                        time.sleep(2)  # the last Pythons end before the other window
            lat[sc] = {}
            for j, probes in ((big, pb), (ref, pr)):
                rows, pending = firings(j, probes)
                st = lateness_stats(rows, windows[j.name], period)
                if not st["firings"]:
                    log(f"lateness {sc}, {j.name}: no firings")
                    continue
                st["not_ended"] = pending
                st["by_rank_p50_ms"] = by_rank(rows, windows[j.name])
                st["jobsd_cpu_s"] = cpu[j.name]
                st["engine_on_cpu_ms_per_instant"] = eng[j.name][0] / 1e6 / st["instants"]
                st["engine_waiting_ms_per_instant"] = eng[j.name][1] / 1e6 / st["instants"]
                st["windows"] = windows[j.name]
                lat[sc][j.name] = st
                log(f"lateness {sc}, {j.name}: {st['firings']} firings at {st['instants']} "
                    f"instants: p50 {st['p50_ms']:.2f} ms, p99 {st['p99_ms']:.2f} ms, max "
                    f"{st['max_ms']:.2f} ms; first of its instant p50 "
                    f"{st['first_of_instant_p50_ms']:.2f} / p99 "
                    f"{st['first_of_instant_p99_ms']:.2f} ms; {st['over_10ms']} over 10 ms; "
                    f"gaps {st['gaps']}, duplicates {st['duplicates']}; jobsd CPU {st['jobsd_cpu_s']:.2f} s; engine thread per "
                    f"instant {st['engine_on_cpu_ms_per_instant']:.2f} ms on a CPU, "
                    f"{st['engine_waiting_ms_per_instant']:.2f} ms waiting for one")
                if len(windows[j.name]) > 1:
                    log(f"  p99 by window: {st['window_p99_ms']}")
                if sc == "burst":
                    log(f"  p50 by rank within the instant: {st['by_rank_p50_ms']}")
        for j, probes in ((big, pb), (ref, pr)):
            lat.setdefault("runs", {})[j.name] = run_results(j, probes)
        log(f"probe job runs by result: {lat['runs']}")
        res["lateness"] = lat
        res["mem_after_lateness"] = big.mem()

        if args.trace:
            res["trace"] = {}
            for sc, secs in (("spread", args.trace), ("burst", 10),
                             ("idle", min(args.idle_window, 125))):
                res["trace"][sc] = trace_breakdown(big, pb, sc, secs,
                                                   work / f"ftrace-{sc}.txt")

        # 3. Restarts: start-up time and memory once loaded.
        starts = {j.name: [] for j in every}
        mems = {j.name: [] for j in every}
        stops = {j.name: [] for j in every}
        for i in range(args.restarts):
            for j in every:
                la = loadavg()
                wal = j.wal_bytes()
                stops[j.name].append(j.stop())
                ms = j.start()
                time.sleep(0.5)
                m = j.mem()
                starts[j.name].append(ms)
                mems[j.name].append(m)
                log(f"  restart {i + 1} {j.name}: stopped in {stops[j.name][-1]:.0f} ms (WAL "
                    f"{mb(wal):.1f} MB), /healthz 200 after {ms:.1f} ms; VmRSS "
                    f"{mb(m['VmRSS']):.1f} MB, VmHWM {mb(m['VmHWM']):.1f} MB, RssAnon "
                    f"{mb(m['RssAnon']):.1f} MB; load before {la[0]}")
        med = statistics.median
        res["restart"] = {
            n: {"healthz_ms": med(starts[n]), "reps_ms": starts[n], "stop_ms": stops[n],
                "VmRSS": med(m["VmRSS"] for m in mems[n]),
                "VmHWM": med(m["VmHWM"] for m in mems[n]),
                "RssAnon": med(m["RssAnon"] for m in mems[n])} for n in starts}
        r = res["restart"]
        per = {k: (r["100k"][k] - r["plain"][k]) / len(mix) for k in ("VmRSS", "RssAnon", "VmHWM")}
        per_api = (res["load"]["100k"]["mem"]["VmRSS"] -
                   res["load"]["plain"]["mem"]["VmRSS"]) / len(mix)
        res["bytes_per_schedule"] = {"restart": per, "loaded_via_api_rss": per_api}
        log(f"restarted: /healthz 200 after {r['100k']['healthz_ms']:.1f} ms with {len(mix)} "
            f"scheduled jobs, {r['plain']['healthz_ms']:.1f} ms with the same jobs unscheduled, "
            f"{r['ref']['healthz_ms']:.1f} ms with the probes only; VmRSS "
            f"{mb(r['100k']['VmRSS']):.1f} / {mb(r['plain']['VmRSS']):.1f} / "
            f"{mb(r['ref']['VmRSS']):.1f} MB: {per['VmRSS']:.0f} bytes per schedule (RssAnon "
            f"{per['RssAnon']:.0f}, VmHWM {per['VmHWM']:.0f}); after loading through the API "
            f"{per_api:.0f} bytes per schedule")

        # 4. Next-fire cost.
        out = subprocess.run([str(cron_bench), "time", str(args.calls), str(args.seed)],
                             input=(work / "mix.tsv").read_text(), text=True,
                             capture_output=True, check=True).stdout
        cb = json.loads(out)
        res["cron_next"] = cb
        log(f"cron_next, ns per call (timer overhead {cb['timer_overhead_ns']} ns subtracted):")
        for name, c in cb["classes"].items():
            log(f"  {name:12s} p50 {c['cron_next']['p50']:6.0f} p99 {c['cron_next']['p99']:6.0f} "
                f"mean {c['cron_next']['mean']:7.1f} | localtime_r p50 "
                f"{c['localtime_r']['p50']:4.0f} "
                f"mean {c['localtime_r']['mean']:6.1f} | tzif_offset_at mean "
                f"{c['tzif_offset_at']['mean']:5.1f} | ratio (means) "
                f"{c['cron_next']['mean'] / c['localtime_r']['mean']:5.1f}x localtime_r")
    finally:
        for j in every:
            j.stop()
        for j in (big, ref):
            if (j.data / "runs").exists():
                rec.kill_tasks(j.data)
        meta["load_after"] = loadavg()
        outd = ROOT / "bench" / "results"
        outd.mkdir(exist_ok=True)
        path = outd / f"sched-{meta['when']}.json"
        path.write_text(json.dumps(res, indent=2))
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        log(f"results: {path.relative_to(ROOT)}; load after {' '.join(meta['load_after'])}")


if __name__ == "__main__":
    main()
