"""jobsd under storage faults (issue 4, item 8): a full disk and a failed fsync.

- A full disk: the data dir is a small tmpfs filled to the brim (jobs created
  until the store refuses, then a filler file over whatever is left). Every
  write is refused with 503 TEMPORARILY_UNAVAILABLE and creates nothing,
  reads are still served, writes resume as soon as space returns (no
  restart), and a kill -9 then loses nothing that was answered 200.
- A failed fsync: SQLite syncs its WAL with fdatasync at each commit
  (synchronous=FULL; `strace -f -c` on a jobs/create shows fdatasync on
  jobsd.db-wal, fsync only for the admin token). strace attaches to the
  running jobsd and fails the next WAL sync of every thread with EIO
  (`-P DATA/jobsd.db-wal`: only the WAL's syncs; strace counts `when=` per
  syscall and per thread, and only the engine thread commits). The request
  whose commit it was fails with 503 and is never answered 200; the server
  keeps serving and the next writes succeed. Attaching at the moment wanted
  is deterministic where starting jobsd under strace with `when=K` would
  depend on how many commits start-up and earlier requests made.

Each test keeps a ledger of what was answered 200 and checks it through the
API after a kill -9 and a restart. The full-disk tests need root (mount); the
fsync tests need strace (scripts/install-deps.sh --test) and the right to
attach it (root, or kernel.yama.ptrace_scope=0). Without them they are
skipped with the reason.
"""
import base64
import errno
import os
import pathlib
import queue
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import Server, sanitizer_report
from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    BLOCK_CODE, TERMINAL, cond_task, get_output, get_run, life, nb_task, notebook, reap,
    reap_tasks, result, task, wait_run, wait_task_running, wait_until)

WS = "/api/2.0/workspace"
J = "/api/2.1/jobs"
TOUCH_NB = "/Users/admin@example.com/faults/touch"
BLOCK_NB = "/Users/admin@example.com/faults/block"
# Writes the file named by widget "marker": a task that ran leaves a trace
# outside the data dir, so "no task was started" can be checked.
TOUCH_CODE = ('import pathlib\n'
              'pathlib.Path(dbutils.widgets.get("marker")).write_text("ran")\n'
              'dbutils.notebook.exit("touched")')
UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
TMPFS_SIZE = 12 << 20
BALLAST = 4 << 20  # kept aside before the disk is filled, freed to let writes resume


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def need_root(what):
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (running as uid {os.geteuid()})")


def need_strace():
    if not shutil.which("strace"):
        pytest.skip("strace is not installed (scripts/install-deps.sh --test installs it)")
    if os.geteuid() != 0:
        try:
            scope = int(pathlib.Path("/proc/sys/kernel/yama/ptrace_scope").read_text())
        except (OSError, ValueError):
            scope = 0
        if scope != 0:
            pytest.skip(f"attaching strace to a running jobsd needs root or "
                        f"kernel.yama.ptrace_scope=0 (it is {scope}; uid {os.geteuid()})")


# --- settings of known sizes ----------------------------------------------------------------

def pad_tasks(n, prefix="c"):
    """n instant condition tasks carrying 4,000-character descriptions (the
    task limit): about 4 KB of settings each, nothing run as a process."""
    return [cond_task(f"{prefix}{k}", "1", "EQUAL_TO", "1", description="d" * 4000)
            for k in range(n)]


def touch_task(marker, key="touch"):
    return nb_task(key, TOUCH_NB, {"marker": str(marker)})


def big_settings(name, marker=None, pad=40):
    """About 190 KB of settings (27,700 characters of description, the
    limit, and pad tasks): a write far larger than any space left over by a
    smaller write that failed."""
    tasks = pad_tasks(pad)
    if marker is not None:
        tasks.append(touch_task(marker))
    return {"name": name, "description": "D" * 27700, "max_concurrent_runs": 10,
            "tasks": tasks}


# --- reading everything back ----------------------------------------------------------------

def all_jobs(s):
    """{job_id: name} of every job, through jobs/list pages."""
    out, token = {}, None
    while True:
        params = {"limit": 100}
        if token:
            params["page_token"] = token
        page = s.ok("GET", f"{J}/list", params=params)
        for j in page.get("jobs", []):
            out[j["job_id"]] = j["settings"]["name"]
        token = page.get("next_page_token")
        if not page.get("has_more"):
            return out


def all_runs(s, **params):
    """{run_id: run} of every run (runs/list pages of 25)."""
    out, token = {}, None
    while True:
        p = {"limit": 25, **params}
        if token:
            p["page_token"] = token
        page = s.ok("GET", f"{J}/runs/list", params=p)
        for r in page.get("runs", []):
            out[r["run_id"]] = r
        token = page.get("next_page_token")
        if not page.get("has_more"):
            return out


class Ledger:
    """What the server acknowledged (answered 200), and what it refused."""

    def __init__(self):
        self.jobs = {}       # job_id -> name
        self.runs = {}       # run_id -> run_name (job runs: the job's name)
        self.files = {}      # workspace path -> bytes
        self.refused_names = set()   # job and run names never to be seen
        self.refused_paths = set()   # workspace paths never to be seen
        self.refused_markers = set()  # files that only a refused run would write

    def check(self, s):
        """Everything acknowledged is there, nothing refused is."""
        jobs = all_jobs(s)
        runs = all_runs(s)
        lost_jobs = {j: n for j, n in self.jobs.items() if jobs.get(j) != n}
        assert not lost_jobs, f"acknowledged jobs lost or changed: {lost_jobs}; now {jobs}"
        assert set(jobs) == set(self.jobs), f"jobs nobody was answered 200 for: " \
            f"{ {j: n for j, n in jobs.items() if j not in self.jobs} }"
        assert set(runs) == set(self.runs), (
            f"runs lost: {sorted(set(self.runs) - set(runs))}, runs never acknowledged: "
            f"{ {r: runs[r].get('run_name') for r in set(runs) - set(self.runs)} }")
        for rid, name in self.runs.items():
            assert runs[rid].get("run_name") == name, (rid, name, runs[rid])
        names = set(jobs.values()) | {r.get("run_name") for r in runs.values()}
        back = names & self.refused_names
        assert not back, f"refused writes present: {back}"
        for path, content in self.files.items():
            r = s.api("GET", f"{WS}/export", params={"path": path, "direct_download": "true"})
            assert r.status_code == 200 and r.content == content, \
                f"acknowledged file {path} lost: {r.status_code} {r.text[:200]}"
        for path in self.refused_paths:
            s.error("GET", f"{WS}/get-status", 404, "RESOURCE_DOES_NOT_EXIST",
                    params={"path": path})
        ran = [m for m in self.refused_markers if pathlib.Path(m).exists()]
        assert not ran, f"tasks of refused runs ran: {ran}"


def integrity_ok(data_dir):
    db = sqlite3.connect(str(pathlib.Path(data_dir) / "jobsd.db"))
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def check_logs(s):
    report = sanitizer_report(s.log_text())
    assert report is None, f"sanitizer: {report}\n{s.log_text()[-4000:]}"


# --- the full disk ---------------------------------------------------------------------------

@pytest.fixture
def tmpfs_server(tmp_path):
    """A jobsd whose data dir is a fresh tmpfs of TMPFS_SIZE (its log stays
    outside). Teardown, whatever happened: the server and the tasks it left
    stopped, then the file system unmounted (lazily if still busy)."""
    need_root("mounting a tmpfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700",
                        "jobsd-faults", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs on {mnt}: {r.stderr.strip()}")
    s = Server(mnt)
    try:
        yield s
    finally:
        try:
            s.stop(signal.SIGKILL)
        finally:
            reap(mnt)
            r = subprocess.run(["umount", str(mnt)], capture_output=True, text=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def statvfs_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def write_until_full(path, limit=None):
    """Writes zeros to path until the file system refuses (ENOSPC) or limit
    bytes are written; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 16, 4096, 512, 1):
            buf = b"\0" * chunk
            while limit is None or written + chunk <= limit:
                try:
                    n = f.write(buf)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
                written += n
                if n < chunk:
                    break
        os.fsync(f.fileno())
    return written


def refused(r, what):
    """Asserts a 503 TEMPORARILY_UNAVAILABLE with a message."""
    assert r.status_code == 503, \
        f"{what}: expected 503 on a full disk, got {r.status_code} {r.text[:300]}"
    body = r.json()
    assert body.get("error_code") == UNAVAILABLE and body.get("message"), f"{what}: {body}"


def fill_to_the_brim(s, led):
    """Fills the server's tmpfs: space set aside (the ballast), then jobs of
    ~64 KB until the store refuses one, small ones until one is refused too
    (the space a failed write left allocated may hold a small one), then a
    filler over whatever is left. Acknowledged jobs go in the ledger."""
    mnt = s.data_dir
    assert write_until_full(mnt / "ballast", BALLAST) == BALLAST
    for i in range(400):
        name = f"fill-{i}"
        r = s.api("POST", f"{J}/create", json={"name": name, "tasks": pad_tasks(16)})
        if r.status_code != 200:
            refused(r, f"jobs/create #{i} as the disk fills")
            led.refused_names.add(name)
            break
        led.jobs[r.json()["job_id"]] = name
    else:
        pytest.fail(f"the store took 400 jobs of 64 KB on a {TMPFS_SIZE >> 20} MB disk "
                    f"({statvfs_free(mnt)} bytes still free)")
    for i in range(50):
        name = f"small-{i}"
        r = s.api("POST", f"{J}/create", json={"name": name})
        if r.status_code != 200:
            refused(r, "a small jobs/create on a full disk")
            led.refused_names.add(name)
            break
        led.jobs[r.json()["job_id"]] = name
    else:
        pytest.fail("50 small jobs created on a full disk")
    write_until_full(mnt / "filler")
    assert statvfs_free(mnt) == 0, f"{statvfs_free(mnt)} bytes still free"


def free_space(s):
    (s.data_dir / "filler").unlink()
    (s.data_dir / "ballast").unlink()


def test_full_disk_refuses_writes_serves_reads_and_recovers_without_restart(tmpfs_server, tmp_path):
    s = tmpfs_server.start()
    mnt = s.data_dir
    markers = tmp_path / "markers"
    markers.mkdir()
    led = Ledger()

    # --- before: a notebook, a job with a real task and a finished run of it, a file
    notebook(s, TOUCH_NB, TOUCH_CODE)
    settings = big_settings("nb-job", markers / "r0")
    jid = s.ok("POST", f"{J}/create", json=settings)["job_id"]
    led.jobs[jid] = "nb-job"
    r0 = s.ok("POST", f"{J}/run-now", json={"job_id": jid})["run_id"]
    led.runs[r0] = "nb-job"
    run0 = wait_run(s, r0, timeout=30)
    assert result(run0) == "SUCCESS", run0["state"]
    assert (markers / "r0").exists()
    s.ok("POST", f"{WS}/mkdirs", json={"path": "/faults"})
    kept = os.urandom(3000)
    s.ok("POST", f"{WS}/import", json={"path": "/faults/kept.bin", "content": b64(kept),
                                        "format": "RAW"})
    led.files["/faults/kept.bin"] = kept

    # --- fill to the brim
    fill_to_the_brim(s, led)

    jobs_before, runs_before = all_jobs(s), all_runs(s)
    assert jobs_before == led.jobs and set(runs_before) == set(led.runs)
    run_dirs_before = sorted(p.name for p in (mnt / "runs").iterdir())

    # --- brim: every write refused with 503, nothing created
    refused(s.api("POST", f"{J}/create", json=big_settings("refused-create", markers / "c")),
            "jobs/create")
    led.refused_names.add("refused-create")
    refused(s.api("POST", f"{J}/update", json={"job_id": jid, "new_settings": {
        "name": "refused-update", "description": "U" * 27700}}), "jobs/update")
    led.refused_names.add("refused-update")
    refused(s.api("POST", f"{J}/reset", json={"job_id": jid, "new_settings":
                                              big_settings("refused-reset")}), "jobs/reset")
    led.refused_names.add("refused-reset")
    refused(s.api("POST", f"{J}/run-now", json={
        "job_id": jid, "notebook_params": {"marker": str(markers / "run-now")},
        "idempotency_token": "full-disk-run-now"}), "run-now")
    led.refused_markers.add(str(markers / "run-now"))
    sub = big_settings("refused-submit", markers / "submit")
    sub["run_name"] = sub.pop("name")
    del sub["description"], sub["max_concurrent_runs"]
    refused(s.api("POST", f"{J}/runs/submit", json=sub), "runs/submit")
    led.refused_names.add("refused-submit")
    led.refused_markers.add(str(markers / "submit"))
    for path, size in (("/faults/refused.bin", 256 << 10), ("/faults/refused-small.txt", 10)):
        body = {"path": path, "content": b64(b"r" * size), "format": "RAW"}
        refused(s.api("POST", f"{WS}/import", json=body), f"workspace import of {size} bytes")
        led.refused_paths.add(path)

    # --- brim: reads still served, and they show that nothing was created
    got = s.ok("GET", f"{J}/get", params={"job_id": jid})
    assert got["settings"]["name"] == "nb-job" and len(got["settings"]["tasks"]) == 41
    assert all_jobs(s) == jobs_before
    assert set(all_runs(s)) == set(runs_before)
    assert all_runs(s, job_id=jid).keys() == {r0}
    assert life(get_run(s, r0)) == "TERMINATED"
    touch = task(get_run(s, r0), "touch")
    assert get_output(s, touch["run_id"])["notebook_output"]["result"] == "touched"
    r = s.api("GET", f"{WS}/export", params={"path": "/faults/kept.bin", "direct_download": "true"})
    assert r.status_code == 200 and r.content == kept, (r.status_code, r.text[:200])
    listed = s.ok("GET", f"{WS}/list", params={"path": "/faults"})["objects"]
    assert [o["path"] for o in listed] == ["/faults/kept.bin"], listed
    assert sorted(p.name for p in (mnt / "runs").iterdir()) == run_dirs_before, \
        "a refused run left a folder"
    led.check(s)

    # --- space returns: writes succeed again, no restart
    free_space(s)
    starts = s.starts
    after = s.ok("POST", f"{J}/create", json=big_settings("after-create"))["job_id"]
    led.jobs[after] = "after-create"
    s.ok("POST", f"{J}/update", json={"job_id": jid, "new_settings": {"name": "nb-job-2"}})
    led.jobs[jid] = "nb-job-2"
    rn = s.ok("POST", f"{J}/run-now", json={
        "job_id": jid, "notebook_params": {"marker": str(markers / "after-run-now")},
        "idempotency_token": "full-disk-run-now"})["run_id"]
    led.runs[rn] = "nb-job-2"
    again = s.ok("POST", f"{J}/run-now", json={
        "job_id": jid, "notebook_params": {"marker": str(markers / "after-run-now")},
        "idempotency_token": "full-disk-run-now"})["run_id"]
    assert again == rn, "the token of a refused run-now, retried, made two runs"
    sub = big_settings("after-submit", markers / "after-submit")
    sub["run_name"] = sub.pop("name")
    del sub["description"], sub["max_concurrent_runs"]
    rs = s.ok("POST", f"{J}/runs/submit", json=sub)["run_id"]
    led.runs[rs] = "after-submit"
    data = os.urandom(256 << 10)
    s.ok("POST", f"{WS}/import", json={"path": "/faults/after.bin", "content": b64(data),
                                        "format": "RAW"})
    led.files["/faults/after.bin"] = data
    for rid in (rn, rs):
        run = wait_run(s, rid, timeout=30)
        assert result(run) == "SUCCESS", (rid, run["state"])
    assert (markers / "after-run-now").exists() and (markers / "after-submit").exists()
    assert s.starts == starts and s.proc.poll() is None
    led.check(s)

    # --- kill -9: everything acknowledged is still there, nothing refused is
    s.kill()
    s.start()
    led.check(s)
    for rid in led.runs:
        assert result(get_run(s, rid)) == "SUCCESS", rid
    assert s.stop() == 0, s.log_text()[-2000:]
    assert integrity_ok(mnt) == "ok"
    check_logs(s)


def test_a_task_that_ends_while_the_disk_is_full_ends_its_run_once_space_returns(tmpfs_server,
                                                                                tmp_path):
    """A run whose task ends while nothing can be written (neither the
    attempt's files nor the store) is not left RUNNING: once space returns
    its run reaches a terminal state, without a restart, and says why if it
    is not SUCCESS (ARCHITECTURE.md invariant 2). Meanwhile reads go on."""
    s = tmpfs_server.start()
    led = Ledger()
    notebook(s, BLOCK_NB, BLOCK_CODE)
    gate = tmp_path / "gate"
    rid = s.ok("POST", f"{J}/runs/submit", json={
        "run_name": "ends-on-a-full-disk",
        "tasks": [nb_task("b", BLOCK_NB, {"gate": str(gate)})]})["run_id"]
    led.runs[rid] = "ends-on-a-full-disk"
    wait_task_running(s, rid, "b")
    fill_to_the_brim(s, led)
    failures = s.log_text().count("COMMIT failed")
    gate.write_text("open")
    # the task's end cannot be recorded; the server keeps serving meanwhile
    wait_until(lambda: s.log_text().count("COMMIT failed") > failures
               or life(get_run(s, rid)) in TERMINAL, timeout=20,
               what="the engine to try to record the task's end")
    # While the disk stays full the engine retries, a little later each time
    # rather than in a busy loop (runs.c: 200 ms): count its failed commits
    # over one second, serving reads meanwhile.
    counted_from = s.log_text().count("COMMIT failed")
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        assert life(get_run(s, rid)) in ("RUNNING", "TERMINATING", *TERMINAL)
        assert all_jobs(s) == led.jobs
        time.sleep(0.05)
    retries = s.log_text().count("COMMIT failed") - counted_from
    free_space(s)
    run = wait_run(s, rid, timeout=20)
    t = task(run, "b")
    state = (run["state"], t["state"])
    if result(run) != "SUCCESS":
        assert run["state"]["state_message"] or t["state"]["state_message"], state
    led.check(s)
    s.kill()
    s.start()
    led.check(s)
    again = get_run(s, rid)
    assert (again["state"]["life_cycle_state"], again["state"].get("result_state")) == \
        (run["state"]["life_cycle_state"], run["state"].get("result_state"))
    print(f"run {rid} of a task that ended on a full disk: {state}; "
          f"{retries} failed commits in 1 s")
    assert s.stop() == 0, s.log_text()[-2000:]
    check_logs(s)
    assert retries <= 25, f"{retries} failed commits in one second of full disk: a busy loop"


# --- the failed fsync ---------------------------------------------------------------------------

class FsyncFault:
    """strace attached to a running jobsd, failing with EIO the first
    fsync/fdatasync of path (default: the WAL, jobsd.db-wal; None: any file)
    made by each thread from now on (or the when-th one: strace counts per
    syscall and per thread). Leaving the block detaches it; `injected` then
    counts the syscalls it failed."""

    def __init__(self, server, out, path="wal", when="1"):
        self.server, self.out, self.when = server, out, when
        self.path = server.data_dir / "jobsd.db-wal" if path == "wal" else path
        self.proc, self.injected, self.trace = None, 0, ""

    def __enter__(self):
        args = ["strace", "-f", "-p", str(self.server.proc.pid), "-e", "trace=fsync,fdatasync",
                "-e", f"inject=fsync,fdatasync:error=EIO:when={self.when}", "-o", str(self.out)]
        if self.path is not None:
            assert pathlib.Path(self.path).exists(), self.path
            args[4:4] = ["-P", str(self.path)]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        lines = queue.Queue()

        def pump():
            for line in self.proc.stderr:
                lines.put(line)
            lines.put(None)
        threading.Thread(target=pump, daemon=True).start()
        said = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            said.append(line)
            if "attached" in line:  # "Process N attached with K threads": all of them
                return self
        self._stop()
        text = "".join(said)
        if "Operation not permitted" in text:
            pytest.skip(f"strace cannot attach to jobsd (ptrace refused): {text.strip()}")
        raise AssertionError(f"strace did not attach: {text}")

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # detaches, leaves jobsd running
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc):
        self._stop()
        try:
            self.trace = pathlib.Path(self.out).read_text()
        except FileNotFoundError:
            self.trace = ""
        self.injected = self.trace.count("(INJECTED)")
        return False


@pytest.fixture
def fsync_server(tmp_path):
    need_strace()
    s = Server(tmp_path / "data")
    try:
        yield s
    finally:
        s.stop(signal.SIGKILL)


def injected_once(f):
    """strace failed exactly one sync while attached."""
    why = (" (nothing was synced while strace was attached: is the store still "
           "synchronous=FULL?)"
           if f.injected == 0 else "")
    assert f.injected == 1, f"strace failed {f.injected} syncs, not 1{why}\n{f.trace}"


def failed_write(r, what, trace):
    """The write whose WAL sync failed: a 503, never a 200."""
    assert r.status_code != 200, f"{what}: answered 200 although its fsync failed\n{trace}"
    assert r.status_code == 503, f"{what}: {r.status_code} {r.text[:300]}"
    assert r.json().get("error_code") == UNAVAILABLE, r.text


def test_failed_fsync_fails_that_write_only_and_the_server_goes_on(fsync_server, tmp_path):
    """One commit's WAL sync fails, for each kind of write in turn: that
    request answers 503 (never 200), nothing of it is visible, no task of it
    starts, and the next write succeeds on the same server. A commit of the
    engine's own whose sync fails is retried. After kill -9 every write
    answered 200 is there."""
    s = fsync_server.start()
    markers = tmp_path / "markers"
    markers.mkdir()
    led = Ledger()
    notebook(s, TOUCH_NB, TOUCH_CODE)
    notebook(s, BLOCK_NB, BLOCK_CODE)
    jid = s.ok("POST", f"{J}/create", json={"name": "nb-job", "max_concurrent_runs": 10,
                                            "tasks": [touch_task(markers / "default")]})["job_id"]
    led.jobs[jid] = "nb-job"
    n = 0

    def fault():
        nonlocal n
        n += 1
        return FsyncFault(s, tmp_path / f"strace-{n}.txt")

    # jobs/create
    with fault() as f:
        r = s.api("POST", f"{J}/create", json={"name": "fsync-failed-create"})
    injected_once(f)
    failed_write(r, "jobs/create", f.trace)
    led.refused_names.add("fsync-failed-create")
    assert all_jobs(s) == led.jobs  # not visible: the transaction was rolled back
    jid2 = s.ok("POST", f"{J}/create", json={"name": "after-create"})["job_id"]
    led.jobs[jid2] = "after-create"

    # jobs/update
    with fault() as f:
        r = s.api("POST", f"{J}/update", json={"job_id": jid2,
                                                "new_settings": {"name": "fsync-failed-update"}})
    injected_once(f)
    failed_write(r, "jobs/update", f.trace)
    led.refused_names.add("fsync-failed-update")
    assert s.ok("GET", f"{J}/get", params={"job_id": jid2})["settings"]["name"] == "after-create"

    # run-now: no run, no task started; the same token retried makes one run
    with fault() as f:
        r = s.api("POST", f"{J}/run-now", json={
            "job_id": jid, "notebook_params": {"marker": str(markers / "failed-run-now")},
            "idempotency_token": "fsync-run-now"})
    injected_once(f)
    failed_write(r, "run-now", f.trace)
    led.refused_markers.add(str(markers / "failed-run-now"))
    assert all_runs(s) == {}
    body = {"job_id": jid, "notebook_params": {"marker": str(markers / "run-now")},
            "idempotency_token": "fsync-run-now"}
    rid = s.ok("POST", f"{J}/run-now", json=body)["run_id"]
    assert s.ok("POST", f"{J}/run-now", json=body)["run_id"] == rid
    led.runs[rid] = "nb-job"

    # runs/submit
    with fault() as f:
        r = s.api("POST", f"{J}/runs/submit", json={
            "run_name": "fsync-failed-submit", "tasks": [touch_task(markers / "failed-submit")]})
    injected_once(f)
    failed_write(r, "runs/submit", f.trace)
    led.refused_names.add("fsync-failed-submit")
    led.refused_markers.add(str(markers / "failed-submit"))
    rid2 = s.ok("POST", f"{J}/runs/submit", json={
        "run_name": "after-submit", "tasks": [touch_task(markers / "submit")]})["run_id"]
    led.runs[rid2] = "after-submit"
    for r_id in (rid, rid2):
        assert result(wait_run(s, r_id, timeout=30)) == "SUCCESS"
    assert (markers / "run-now").exists() and (markers / "submit").exists()

    # a commit of the engine's own (the one recording a task's end) whose
    # sync fails: the engine reloads and commits again; the run ends as its
    # task did
    gate = tmp_path / "gate"
    rid3 = s.ok("POST", f"{J}/runs/submit", json={
        "run_name": "blocked", "tasks": [nb_task("b", BLOCK_NB, {"gate": str(gate)})]})["run_id"]
    led.runs[rid3] = "blocked"
    wait_task_running(s, rid3, "b")
    failures = s.log_text().count("COMMIT failed")
    with fault() as f:
        gate.write_text("open")
        wait_until(lambda: s.log_text().count("COMMIT failed") > failures, timeout=20,
                   what="the commit of the task's end to fail")
    injected_once(f)
    run3 = wait_run(s, rid3, timeout=30)
    assert result(run3) == "SUCCESS", run3["state"]
    assert get_output(s, task(run3, "b")["run_id"])["notebook_output"]["result"] == "opened"

    assert s.proc.poll() is None
    led.check(s)
    s.kill()
    s.start()
    led.check(s)
    for r_id in led.runs:
        assert result(get_run(s, r_id)) == "SUCCESS", r_id
    assert s.stop() == 0, s.log_text()[-2000:]
    assert integrity_ok(s.data_dir) == "ok"
    check_logs(s)


def test_a_write_refused_after_a_failed_fsync_does_not_come_back_after_a_crash(fsync_server,
                                                                               tmp_path):
    """The 503 says "the request changed nothing", and SDKs retry a 503 POST:
    the refused write must not reappear when jobsd restarts after a crash
    (issue 4: never answer 503 after having created a run). The crash comes
    right after the refusal, before any other write.

    SQLite leaves the frames of a commit whose sync failed in the WAL, with
    a valid commit frame; only its in-memory index forgets them. The next
    commit overwrites them, but the recovery at the next open replays them
    if none came first (as `PRAGMA wal_checkpoint(TRUNCATE)` right after the
    failure would prevent: it copies the committed frames only and empties
    the WAL)."""
    s = fsync_server.start()
    markers = tmp_path / "markers"
    markers.mkdir()
    notebook(s, TOUCH_NB, TOUCH_CODE)
    jid = s.ok("POST", f"{J}/create", json={"name": "nb-job",
                                            "tasks": [touch_task(markers / "default")]})["job_id"]
    back = []

    with FsyncFault(s, tmp_path / "strace-1.txt") as f:
        r = s.api("POST", f"{J}/create", json={"name": "fsync-failed-create"})
    injected_once(f)
    failed_write(r, "jobs/create", f.trace)
    s.kill()
    s.start()
    jobs = all_jobs(s)
    if "fsync-failed-create" in jobs.values():
        back.append(f"jobs/create answered 503 is there after kill -9 + restart: {jobs}")

    with FsyncFault(s, tmp_path / "strace-2.txt") as f:
        r = s.api("POST", f"{J}/run-now", json={
            "job_id": jid, "notebook_params": {"marker": str(markers / "failed-run-now")}})
    injected_once(f)
    failed_write(r, "run-now", f.trace)
    s.kill()
    s.start()
    runs = all_runs(s)
    if runs:
        ends = {rid: life(wait_run(s, rid, timeout=30)) for rid in runs}
        back.append(f"run-now answered 503 made run(s) {ends} after kill -9 + restart; "
                    f"its task ran: {(markers / 'failed-run-now').exists()}")
    assert not back, "\n".join(back)
    assert s.stop() == 0
    check_logs(s)


def test_a_workspace_import_whose_fsync_fails_answers_503_and_leaves_nothing(fsync_server,
                                                                             tmp_path):
    """A workspace write is files: temp file, fsync, rename, fsync of the
    folder. When either fsync fails the import answers 503 and, like every
    refused write, must leave the tree as it was (so that the client's retry
    succeeds). No run is active: the only fsyncs are the import's, made by
    the HTTP thread serving it (the first: the file's; the second: the
    folder's, after the rename)."""
    s = fsync_server.start()
    s.ok("POST", f"{WS}/mkdirs", json={"path": "/faults"})
    led, problems = Ledger(), []
    for when, what in (("1", "the file's fsync"), ("2", "the folder's fsync")):
        path, content = f"/faults/import-{when}.bin", f"content {when}".encode()
        body = {"path": path, "content": b64(content), "format": "RAW"}
        with FsyncFault(s, tmp_path / f"strace-{when}.txt", path=None, when=when) as f:
            r = s.api("POST", f"{WS}/import", json=body)
        injected_once(f)
        failed_write(r, f"workspace import ({what} failed)", f.trace)
        st = s.api("GET", f"{WS}/get-status", params={"path": path})
        if st.status_code != 404:
            problems.append(f"{what} failed: import answered {r.status_code} {r.text}, yet "
                            f"get-status answers {st.status_code} {st.text}")
        again = s.api("POST", f"{WS}/import", json=body)  # the client's retry
        if again.status_code == 200:
            led.files[path] = content
        else:
            problems.append(f"{what} failed: the retry of the import answered "
                            f"{again.status_code} {again.text}")
    s.kill()
    s.start()
    led.check(s)
    assert not problems, "\n".join(problems)
    assert s.stop() == 0
    check_logs(s)
