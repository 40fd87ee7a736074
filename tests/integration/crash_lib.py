"""The crash test of issue 4 item 7, shared by tests/integration/test_crash.py
(30 cycles, in `make test`) and bench/crash.py (1,000 cycles, by hand).

Client threads submit runs with idempotency tokens, through jobs/run-now and
jobs/runs/submit, while the main thread kills jobsd with SIGKILL at random
moments (a seeded RNG) and starts it again on the same data dir. A request
that gets no answer (connection error, 5xx, 429) is sent again with the same
token until it gets one; every answer is kept in a ledger (token -> run_ids).

The tasks are Python files that record their pid when they start and again
when they end, in files of a folder outside the data dir:

    start-<pid>-<label>   written first thing (label: "<token>.<task_key>")
    done-<pid>-<label>    written after the sleep, just before exit

so a task process killed by a restart leaves a start without a done, and a
task started twice (re-run after a restart) leaves two starts with one label.

After the loop every run must end; the figures (`Figures`) are then counted
from the ledger, runs/get, runs/list, the markers, the attempt folders and
`PRAGMA integrity_check` on the stopped server's database. The figures that
must be zero are listed in MUST_BE_ZERO.

This module holds no tests (no test_ prefix: pytest does not collect it).
"""
import base64
import os
import pathlib
import random
import re
import sqlite3
import threading
import time

import requests

TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
SLEEP_PY = "/Users/admin@example.com/crash/sleep.py"

# The task: argv = marks folder, seconds to sleep, label. Markers are written
# tmp -> rename, so a reader never sees half a file.
SLEEP_CODE = """\
import os, sys, time
folder, secs, label = sys.argv[1], float(sys.argv[2]), sys.argv[3]
pid = os.getpid()


def put(name):
    tmp = os.path.join(folder, ".%s.tmp" % name)
    with open(tmp, "w") as f:
        f.write(label)
    os.replace(tmp, os.path.join(folder, name))


put("start-%d-%s" % (pid, label))
time.sleep(secs)
put("done-%d-%s" % (pid, label))
print("slept", secs, "as", pid, flush=True)
"""

MUST_BE_ZERO = (
    "acknowledged runs lost",
    "tokens with two runs",
    "runs listed that no token was answered",
    "tokens answered without a listed run",
    "requests refused (4xx other than 429)",
    "requests never answered",
    "runs not terminal after their tasks ended",
    "runs not SUCCESS",
    "tasks killed by the restarts",
    "tasks re-run (a label started twice)",
    "tasks never started",
    "pids alive at a kill that did not complete",
    "attempts whose supervisor names another pid",
    "jobsd exits not caused by the test",
    "restarts refused: data dir locked after jobsd was reaped",
)


def snapshot_binaries(jobsd_bin, dest):
    """Copies jobsd, the jobsd-supervisor and the Python runtime that jobsd
    would use (found beside it as jobsd finds them: next to the binary or one
    or two levels up) into dest/bin and dest/runtime; returns the copied
    jobsd. A rebuild of build/ during a long loop then cannot pull a binary
    from under a restart."""
    import shutil
    src = pathlib.Path(jobsd_bin).resolve()
    dest = pathlib.Path(dest)

    def beside(name):
        for up in (src.parent, src.parent.parent, src.parent.parent.parent):
            if (up / name).exists():
                return up / name
        raise FileNotFoundError(f"{name} is not beside {src}")

    (dest / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest / "bin" / "jobsd")
    shutil.copy2(beside("jobsd-supervisor"), dest / "bin" / "jobsd-supervisor")
    shutil.copytree(beside("runtime"), dest / "runtime", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    return str(dest / "bin" / "jobsd")


def slow_supervisor(dest, real_supervisor, delay_ms):
    """Writes dest/slow-supervisor: jobsd-supervisor run under strace with its
    first fsync (of the tmp file that becomes its `supervisor` file) delayed
    by delay_ms: a slow disk, or a supervisor that gets no CPU for a while.
    Returns (extra_args, env) for conftest.Server. Needs strace."""
    path = pathlib.Path(dest) / "slow-supervisor"
    path.write_text(
        "#!/bin/sh\n"
        "# LeakSanitizer cannot work under ptrace (an ASan supervisor would say so).\n"
        "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\"\n"
        "exec strace -qq -o /dev/null -e trace=fsync "
        f"-e inject=fsync:delay_enter={int(delay_ms) * 1000}:when=1 "
        f"'{real_supervisor}' \"$@\"\n")
    path.chmod(0o755)
    return ["--supervisor", str(path)], {}


class Request:
    """One logical request: one token, sent until it is answered."""

    def __init__(self, token, kind, path, body, labels):
        self.token = token
        self.kind = kind        # run-now-sleep, run-now-instant, submit-sleep, ...
        self.path = path
        self.body = body
        self.labels = labels    # the task labels the run's processes will record
        self.answers = []       # run_ids answered (one per 200)
        self.sends = 0
        self.refused = None     # (status, text) of an unexpected 4xx


class CrashTest:
    """Drives one crash test against a conftest.Server (not started yet)."""

    def __init__(self, server, marks_dir, seed, cycles, clients=4, log=print,
                 up_range=(0.05, 0.8), sleep_range=(0.2, 1.5), gap_range=(0.01, 0.15),
                 settle_timeout=30, progress_every=0):
        self.server = server
        self.marks = pathlib.Path(marks_dir)
        self.marks.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.cycles = cycles
        self.n_clients = clients
        self.log = log
        self.up_range = up_range
        self.sleep_range = sleep_range
        self.gap_range = gap_range
        self.settle_timeout = settle_timeout
        self.progress_every = progress_every
        self.lock = threading.Lock()
        self.requests = []          # every Request, in creation order
        self.counter = 0
        self.stop_new = threading.Event()
        self.abort = threading.Event()  # the loop failed: clients give up at once
        self.counts = {"connection errors": 0, "5xx answers": 0, "429 answers": 0,
                       "duplicate concurrent sends": 0}
        self.alive_at_kill = set()  # (pid, label): task processes alive when jobsd was killed
        self.kills = 0
        self.own_exits = []         # (cycle, exit code) of a jobsd that died by itself
        self.refused_starts = []    # (cycle, message, lock holders): restarts refused
        self.held_after_kill = []   # (cycle, lock holders): jobsd.lock held once jobsd was reaped
        self.kill_times = []
        self.details = []           # text for a failing figure
        self.figures = {}
        self.timings = {}

    # --- helpers ------------------------------------------------------------------------------
    def bump(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method, path, **kw):
        """One API call against the current server (asserting nothing)."""
        return self.server.session.request(method, self.server.url + path,
                                           headers=self.headers(), timeout=60, **kw)

    def ok(self, method, path, **kw):
        r = self.call(method, path, **kw)
        assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    # --- set-up -------------------------------------------------------------------------------
    def setup(self):
        self.server.start()
        self.token = self.server.token
        folder = str(pathlib.PurePosixPath(SLEEP_PY).parent)
        self.ok("POST", "/api/2.0/workspace/mkdirs", json={"path": folder})
        self.ok("POST", "/api/2.0/workspace/import",
                json={"path": SLEEP_PY, "format": "RAW", "overwrite": True,
                      "content": base64.b64encode(SLEEP_CODE.encode()).decode()})
        self.sleep_job = self.ok("POST", "/api/2.1/jobs/create", json={
            "name": "crash-sleep", "max_concurrent_runs": 1000,
            "tasks": [{"task_key": "s", "spark_python_task": {
                "python_file": SLEEP_PY, "parameters": [str(self.marks), "0", "default"]}}],
        })["job_id"]
        self.instant_job = self.ok("POST", "/api/2.1/jobs/create", json={
            "name": "crash-instant", "max_concurrent_runs": 1000,
            "tasks": [{"task_key": "c", "condition_task": {
                "left": "1", "op": "EQUAL_TO", "right": "1"}}],
        })["job_id"]

    # --- requests -----------------------------------------------------------------------------
    def py_task(self, key, label, secs, **extra):
        return {"task_key": key, "spark_python_task": {
            "python_file": SLEEP_PY, "parameters": [str(self.marks), f"{secs:.3f}", label]},
            **extra}

    def new_request(self, rng):
        with self.lock:
            self.counter += 1
            n = self.counter
        token = f"crash-{self.seed}-{n}"
        secs = rng.uniform(*self.sleep_range)
        x = rng.random()
        if x < 0.35:
            kind, path = "run-now-sleep", "/api/2.1/jobs/run-now"
            labels = [f"{token}.s"]
            body = {"job_id": self.sleep_job,
                    "python_params": [str(self.marks), f"{secs:.3f}", labels[0]]}
        elif x < 0.55:
            kind, path = "run-now-instant", "/api/2.1/jobs/run-now"
            labels = []
            body = {"job_id": self.instant_job}
        elif x < 0.80:
            kind, path = "submit-sleep", "/api/2.1/jobs/runs/submit"
            labels = [f"{token}.a"]
            body = {"run_name": kind, "tasks": [self.py_task("a", labels[0], secs)]}
        elif x < 0.92:
            # Two tasks in a row: the second one often starts after a restart.
            kind, path = "submit-chain", "/api/2.1/jobs/runs/submit"
            labels = [f"{token}.a", f"{token}.b"]
            secs2 = rng.uniform(*self.sleep_range)
            body = {"run_name": kind, "tasks": [
                self.py_task("a", labels[0], secs / 2),
                self.py_task("b", labels[1], secs2 / 2, depends_on=[{"task_key": "a"}])]}
        else:
            kind, path = "submit-instant", "/api/2.1/jobs/runs/submit"
            labels = []
            body = {"run_name": kind, "tasks": [{"task_key": "c", "condition_task": {
                "left": "a", "op": "EQUAL_TO", "right": "a"}}]}
        body["idempotency_token"] = token
        req = Request(token, kind, path, body, labels)
        with self.lock:
            self.requests.append(req)
        return req

    def send_until_answered(self, session, req, give_up=120):
        """Sends req (with its token) until jobsd answers it; records the answer."""
        deadline = time.monotonic() + give_up
        while time.monotonic() < deadline and not self.abort.is_set():
            url = self.server.url
            if not url:
                time.sleep(0.005)
                continue
            with self.lock:
                req.sends += 1
            try:
                r = session.post(url + req.path, json=req.body, headers=self.headers(),
                                 timeout=30)
            except requests.RequestException:
                self.bump("connection errors")
                time.sleep(0.005)
                continue
            if r.status_code >= 500 or r.status_code == 429:
                self.bump("5xx answers" if r.status_code >= 500 else "429 answers")
                time.sleep(0.01)
                continue
            if r.status_code != 200:
                with self.lock:
                    req.refused = (r.status_code, r.text[:300])
                return None
            try:
                rid = r.json()["run_id"]
            except (ValueError, KeyError):
                with self.lock:
                    req.refused = (r.status_code, r.text[:300])
                return None
            with self.lock:
                req.answers.append(rid)
            return rid
        return None

    def client(self, cid):
        rng = random.Random(self.seed * 1009 + cid)
        session = requests.Session()
        while not self.stop_new.is_set():
            req = self.new_request(rng)
            dup = None
            if rng.random() < 0.1:
                # The same request twice at once (a client retrying before the
                # first answer came): still one run.
                self.bump("duplicate concurrent sends")
                dup = threading.Thread(target=self.send_until_answered,
                                       args=(requests.Session(), req), daemon=True)
                dup.start()
            self.send_until_answered(session, req)
            if dup:
                dup.join()
            time.sleep(rng.uniform(*self.gap_range))

    # --- markers ------------------------------------------------------------------------------
    def read_marks(self):
        """Returns the task processes started and done, each a set of
        (pid, label) (the label as well as the pid: pids wrap at 32768)."""
        started, done = set(), set()
        for name in os.listdir(self.marks):
            kind, pid, label = (name.split("-", 2) + ["", ""])[:3]
            if kind in ("start", "done") and pid.isdigit():
                (started if kind == "start" else done).add((int(pid), label))
        return started, done

    @staticmethod
    def pid_alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            return False
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")

    # --- the loop -----------------------------------------------------------------------------
    def run(self):
        t0 = time.monotonic()
        self.log(f"crash test: seed {self.seed}, {self.cycles} cycles, "
                 f"{self.n_clients} clients")
        self.setup()
        rng = random.Random(self.seed)
        threads = [threading.Thread(target=self.client, args=(i,), daemon=True)
                   for i in range(self.n_clients)]
        for t in threads:
            t.start()
        try:
            for cycle in range(self.cycles):
                # A kill soon after the start (recovery still settling) one time
                # in five; otherwise anywhere in up_range.
                up = rng.uniform(0.0, 0.05) if rng.random() < 0.2 else rng.uniform(*self.up_range)
                time.sleep(up)
                started, done = self.read_marks()
                alive = {m for m in started - done if self.pid_alive(m[0])}
                if self.server.proc.poll() is not None:
                    self.own_exits.append((cycle, self.server.proc.returncode))
                self.server.kill()
                self.kills += 1
                self.probe_lock(cycle)
                self.alive_at_kill |= alive
                if rng.random() < 0.3:
                    time.sleep(rng.uniform(0.0, 0.2))  # down a while: clients retry
                self.restart(cycle)
                if self.progress_every and (cycle + 1) % self.progress_every == 0:
                    self.log(f"  cycle {cycle + 1}/{self.cycles}: {len(self.requests)} "
                             f"tokens, {time.monotonic() - t0:.0f} s")
        except BaseException:
            self.abort.set()
            raise
        finally:
            self.stop_new.set()
            for t in threads:
                t.join(timeout=180)
        self.timings["loop"] = time.monotonic() - t0
        self.check()
        self.timings["total"] = time.monotonic() - t0
        return self.figures

    def lock_holders(self):
        """The processes with the data dir's jobsd.lock open: (pid, ppid,
        state, command line)."""
        lock = os.path.realpath(self.server.data_dir / "jobsd.lock")
        out = []
        me = str(os.getpid())
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if pid == me:
                continue
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                if not any(os.readlink(f"/proc/{pid}/fd/{fd}") == lock for fd in fds):
                    continue
                with open(f"/proc/{pid}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                out.append((int(pid), int(st[1]), st[0], cmd))
            except OSError:
                continue
        return out

    def probe_lock(self, cycle):
        """Right after the kill (jobsd reaped): is jobsd.lock still held, and
        by whom? Evidence for a refused restart. The holders are looked for
        beside the restart (a scan of /proc takes a while: the restart must
        not wait for it)."""
        import fcntl
        try:
            fd = os.open(self.server.data_dir / "jobsd.lock", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            entry = (cycle, [])
            self.held_after_kill.append(entry)
            threading.Thread(target=lambda: entry[1].extend(self.lock_holders()),
                             daemon=True).start()
        finally:
            os.close(fd)  # releases it

    def restart(self, cycle):
        """Starts jobsd again. A start refused because the data dir is still
        locked, although the killed jobsd has been reaped, is counted (with
        the processes holding the lock) and retried: jobsd should start."""
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.server.start()
            except RuntimeError:
                tail = self.server.log_text()[-600:]
                if "in use by another jobsd" not in tail or time.monotonic() > deadline:
                    raise RuntimeError("jobsd did not start:\n" + tail) from None
                holders = self.lock_holders()
                self.refused_starts.append((cycle, tail.strip().splitlines()[-1], holders))
                time.sleep(0.05)

    # --- the checks -----------------------------------------------------------------------------
    def get_run(self, rid):
        r = self.call("GET", "/api/2.1/jobs/runs/get", params={"run_id": rid})
        if r.status_code == 200:
            return r.json()
        if r.status_code in (400, 404) and "does not exist" in r.text:
            return None
        raise AssertionError(f"runs/get {rid}: {r.status_code} {r.text}")

    def list_all_runs(self):
        ids, token = [], None
        while True:
            params = {"limit": 25}
            if token:
                params["page_token"] = token
            page = self.ok("GET", "/api/2.1/jobs/runs/list", params=params)
            ids += [r["run_id"] for r in page.get("runs", [])]
            if not page.get("has_more"):
                return ids
            token = page["next_page_token"]

    def attempt_file(self, task_run_id, name):
        return self.server.data_dir / "runs" / str(task_run_id) / name

    def describe_attempt(self, task_run_id):
        """The attempt folder's files, for a report."""
        d = self.server.data_dir / "runs" / str(task_run_id)
        if not d.exists():
            return f"    attempt {task_run_id}: no folder"
        out = [f"    attempt {task_run_id}: files {sorted(p.name for p in d.iterdir())}"]
        for name in ("supervisor", "status"):
            p = d / name
            if p.exists():
                out.append(f"      {name}: " + " ".join(p.read_text().split("\n")))
        for name in ("stdout", "stderr"):
            p = d / name
            if p.exists() and p.stat().st_size:
                out.append(f"      {name}: {p.read_text(errors='replace')[-400:]!r}")
        return "\n".join(out)

    def describe_run(self, rid, run=None):
        run = run if run is not None else self.get_run(rid)
        if run is None:
            return f"  run {rid}: does not exist"
        st = run["state"]
        out = [f"  run {rid} ({run.get('run_name')}): {st.get('life_cycle_state')} "
               f"{st.get('result_state', '')} {st.get('state_message', '')!r}"]
        for t in run.get("tasks", []):
            ts = t["state"]
            out.append(f"   task {t['task_key']} run {t['run_id']}: "
                       f"{ts.get('life_cycle_state')} {ts.get('result_state', '')} "
                       f"{ts.get('state_message', '')!r}")
            out.append(self.describe_attempt(t["run_id"]))
        ids = [rid] + [t["run_id"] for t in run.get("tasks", [])]
        out += ["   log: " + line for line in self.log_lines(ids)[-10:]]
        return "\n".join(out)

    def log_lines(self, run_ids):
        """jobsd's log lines naming one of run_ids, each with the number of the
        jobsd start it comes from."""
        pat = re.compile(r"\b(?:run_id=|run )(?:%s)\b" % "|".join(str(i) for i in run_ids))
        out, start = [], 0
        for line in self.server.log_text().splitlines():
            m = re.match(r"--- start (\d+):", line)
            if m:
                start = int(m.group(1))
            elif pat.search(line):
                out.append(f"[jobsd start {start}] {line}")
        return out

    def fail(self, what, text):
        if len(self.details) < 60:
            self.details.append(f"{what}:\n{text}")

    def check(self):
        f = self.figures
        c0 = time.monotonic()
        if self.server.proc.poll() is not None:
            self.own_exits.append(("after the loop", self.server.proc.returncode))
            raise AssertionError(f"jobsd exited by itself ({self.server.proc.returncode}):\n"
                                 + self.server.log_text()[-3000:])
        reqs = list(self.requests)
        f["seed"] = self.seed
        f["cycles (SIGKILL + restart)"] = self.kills
        f["logical requests (tokens)"] = len(reqs)
        f["requests sent (with retries)"] = sum(r.sends for r in reqs)
        for k, v in sorted(self.counts.items()):
            f[k] = v
        f["jobsd exits not caused by the test"] = len(self.own_exits)
        for cycle, code in self.own_exits[:10]:
            self.fail("jobsd exited by itself", f"  before the kill of cycle {cycle}: "
                      f"exit code {code} (see its log)")
        f["kills after which jobsd.lock was still held"] = len(self.held_after_kill)
        for cycle, holders in self.held_after_kill[:10]:
            self.fail("jobsd.lock held after the kill", f"  cycle {cycle}: holders {holders}")
        f["restarts refused: data dir locked after jobsd was reaped"] = len(self.refused_starts)
        for cycle, msg, holders in self.refused_starts[:10]:
            self.fail("restart refused", f"  after the kill of cycle {cycle}: {msg}\n"
                      f"  processes holding jobsd.lock just after: {holders}")
        f["requests refused (4xx other than 429)"] = sum(1 for r in reqs if r.refused)
        for r in reqs:
            if r.refused:
                self.fail("refused", f"  {r.token} {r.kind}: {r.refused}")
        unanswered = [r for r in reqs if not r.answers and not r.refused]
        f["requests never answered"] = len(unanswered)
        answered = [r for r in reqs if r.answers]
        f["tokens answered"] = len(answered)

        # Tokens: every answer to one token names the same run. Then every
        # token once more, now that the loop is over: the same run again.
        two = {r.token: set(r.answers) for r in answered if len(set(r.answers)) > 1}
        session = requests.Session()
        for r in answered:
            before = len(r.answers)
            self.send_until_answered(session, r, give_up=30)
            if len(r.answers) == before:
                self.fail("replay", f"  {r.token}: no answer to the replay")
            elif len(set(r.answers)) > 1:
                two[r.token] = set(r.answers)
        for token, ids in two.items():
            self.fail("token with two runs", f"  {token}: runs {sorted(ids)}")
        f["tokens with two runs"] = len(two)
        acked = {}
        for r in answered:
            acked[r.answers[0]] = r

        # Every task process ends (sleeps are short): wait for the markers.
        deadline = time.monotonic() + self.sleep_range[1] * 2 + 10
        while True:
            started, done = self.read_marks()
            running = [m for m in started - done if self.pid_alive(m[0])]
            if not running or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        tasks_ended = time.monotonic()

        # Then every run must end, at once (allowing settle_timeout).
        runs = {}
        lost = []
        pending = set(acked)
        deadline = tasks_ended + self.settle_timeout
        while pending:
            for rid in sorted(pending):
                run = self.get_run(rid)
                if run is None:
                    lost.append(rid)
                    pending.discard(rid)
                    continue
                runs[rid] = run
                if run["state"]["life_cycle_state"] in TERMINAL:
                    pending.discard(rid)
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        f["runs acknowledged"] = len(acked)
        f["acknowledged runs lost"] = len(lost)
        for rid in lost:
            self.fail("lost", f"  run {rid} (token {acked[rid].token}, {acked[rid].kind}) "
                      "does not exist")
        f["runs not terminal after their tasks ended"] = len(pending)
        for rid in sorted(pending)[:10]:
            self.fail("not terminal", self.describe_run(rid, runs.get(rid)))
        f["seconds from the last task's end to every run terminal"] = round(
            time.monotonic() - tasks_ended, 2)
        not_success = [rid for rid, run in runs.items() if rid not in pending
                       and run["state"].get("result_state") != "SUCCESS"]
        f["runs not SUCCESS"] = len(not_success)
        for rid in not_success[:10]:
            self.fail("not SUCCESS", self.describe_run(rid, runs[rid]))

        listed = self.list_all_runs()
        f["runs in runs/list"] = len(listed)
        extra = sorted(set(listed) - set(acked))
        f["runs listed that no token was answered"] = len(extra)
        for rid in extra[:10]:
            self.fail("listed, not answered", self.describe_run(rid))
        missing = sorted(set(acked) - set(listed))
        f["tokens answered without a listed run"] = len(missing)
        for rid in missing[:10]:
            self.fail("answered, not listed", f"  run {rid} token {acked[rid].token}")

        # Task processes: each started one completed; none started twice; the
        # ones alive at a kill completed; the attempt's supervisor names them.
        started, done = self.read_marks()
        f["task processes started"] = len(started)
        f["task processes completed"] = len(started & done)
        killed = sorted(started - done)
        f["tasks killed by the restarts"] = len(killed)
        for pid, label in killed[:10]:
            tok = label.split(".")[0]
            rid = next((x for x, r in acked.items() if r.token == tok), None)
            self.fail("task killed", f"  pid {pid} label {label} started, never completed\n"
                      + self.describe_run(rid))
        by_label = {}
        for pid, label in started:
            by_label.setdefault(label, []).append(pid)
        rerun = {label: pids for label, pids in by_label.items() if len(pids) > 1}
        f["tasks re-run (a label started twice)"] = len(rerun)
        for i, (label, pids) in enumerate(sorted(rerun.items())):
            tok = label.split(".")[0]
            rid = next((x for x, r in acked.items() if r.token == tok), None)
            alive = [p for p in sorted(pids) if (p, label) in self.alive_at_kill]
            self.fail("task re-run", f"  {label}: pids {sorted(pids)} (alive at a kill: {alive})"
                      + ("\n" + self.describe_run(rid) if i < 3 else ""))
        expected = {label for rid, r in acked.items() for label in r.labels}
        never = sorted(expected - set(by_label))
        f["tasks never started"] = len(never)
        for label in never[:10]:
            tok = label.split(".")[0]
            rid = next((x for x, r in acked.items() if r.token == tok), None)
            self.fail("task never started", f"  {label}\n" + self.describe_run(rid))
        f["task pids alive at a kill"] = len(self.alive_at_kill)
        bad_alive = sorted(m for m in self.alive_at_kill if m not in done)
        f["pids alive at a kill that did not complete"] = len(bad_alive)
        for pid, label in bad_alive[:10]:
            self.fail("alive at a kill, not completed", f"  pid {pid} label {label}")
        mismatch = 0
        for rid, run in runs.items():
            r = acked[rid]
            for t in run.get("tasks", []):
                label = f"{r.token}.{t['task_key']}"
                if label not in expected:
                    continue
                sup = self.attempt_file(t["run_id"], "supervisor")
                info = dict(line.split(" ", 1) for line in sup.read_text().splitlines()
                            if " " in line) if sup.exists() else {}
                pids = by_label.get(label, [])
                if len(pids) == 1 and info.get("task_pid", "").strip() != str(pids[0]):
                    mismatch += 1
                    self.fail("supervisor names another pid",
                              f"  {label}: marker pid {pids[0]}, supervisor {info}")
        f["attempts whose supervisor names another pid"] = mismatch

        # The store, read-only, after a clean stop.
        code = self.server.stop()
        f["jobsd exit code at the final SIGTERM"] = code
        db = self.server.data_dir / "jobsd.db"
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            f["PRAGMA integrity_check"] = ", ".join(
                row[0] for row in con.execute("PRAGMA integrity_check"))
        finally:
            con.close()
        self.timings["checks"] = time.monotonic() - c0

    # --- the report ------------------------------------------------------------------------------
    def zero_failures(self):
        """The figures that must be zero and are not, plus integrity."""
        bad = [f"{k} = {self.figures.get(k)}" for k in MUST_BE_ZERO if self.figures.get(k) != 0]
        if self.figures.get("PRAGMA integrity_check") != "ok":
            bad.append(f"PRAGMA integrity_check = {self.figures.get('PRAGMA integrity_check')}")
        if self.figures.get("jobsd exit code at the final SIGTERM") != 0:
            bad.append("jobsd exit code at the final SIGTERM = "
                       f"{self.figures.get('jobsd exit code at the final SIGTERM')}")
        return bad

    def report(self):
        lines = ["crash test figures"]
        width = max(len(k) for k in self.figures)
        for k, v in self.figures.items():
            mark = "  <-- must be 0" if k in MUST_BE_ZERO and v != 0 else ""
            lines.append(f"  {k.ljust(width)}  {v}{mark}")
        for k, v in self.timings.items():
            lines.append(f"  {('seconds, ' + k).ljust(width)}  {v:.1f}")
        bad = self.zero_failures()
        lines.append("  result: " + ("all zeros where zeros are required, integrity ok"
                                     if not bad else "FAILED: " + "; ".join(bad)))
        if self.details:
            lines.append("details:")
            lines += self.details
        return "\n".join(lines)

    def write_report(self, path):
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.report() + "\n")
