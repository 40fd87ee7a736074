"""Fixtures for the integration tests: a real jobsd on a free loopback port.

Each test gets its own data dir and its own server process (its own process
group, killed at the end whatever happens). The server is the binary in
$JOBSD_BIN (make test points it at the sanitizer build); its stderr is kept
and checked for sanitizer reports when the test ends.
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
JOBSD = os.environ.get("JOBSD_BIN", str(ROOT / "build" / "jobsd"))
JOBCTL = os.environ.get("JOBCTL_BIN", str(ROOT / "build" / "jobctl"))
SEEDS = ROOT / "tests" / "integration" / "fixtures"

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class Server:
    """One jobsd process on a data dir; restartable on the same dir."""

    def __init__(self, data_dir, extra_args=(), env=None, tls=None):
        self.data_dir = pathlib.Path(data_dir)
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.tls = tls  # (cert, key) paths or None
        self.proc = None
        self.url = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.session = requests.Session()
        self.starts = 0

    # --- life cycle -------------------------------------------------------------
    def start(self, timeout=20):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [JOBSD, "serve", "--data-dir", str(self.data_dir),
                "--listen", "127.0.0.1:0", *self.extra_args]
        if self.tls:
            args += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"--- start {self.starts}: {' '.join(args)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, env=self.env,
                                     start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        self.url = None
        for line in self.proc.stdout:
            m = re.search(r"export DATABRICKS_HOST=(\S+)", line.decode())
            if m:
                self.url = m.group(1)
                break
            if time.time() > deadline:
                break
        if not self.url:
            self.proc.kill()
            raise RuntimeError(f"jobsd did not start; log:\n{self.log_text()}")
        # Drain stdout in the background so the server never blocks on it.
        import threading
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        while time.time() < deadline:
            try:
                if self.get_raw("/healthz").status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.02)
        raise RuntimeError("jobsd never became healthy")

    @property
    def token(self):
        return (self.data_dir / "admin.token").read_text().strip()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the server with sig; returns its exit code."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- HTTP ---------------------------------------------------------------------
    def verify(self):
        return False if self.tls else True

    def get_raw(self, path, **kw):
        return self.session.get(self.url + path, verify=self.verify(), timeout=30, **kw)

    def api(self, method, path, token=None, **kw):
        headers = kw.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return self.session.request(method, self.url + path, headers=headers,
                                    verify=self.verify(), timeout=60, **kw)

    def ok(self, method, path, **kw):
        """Calls the API and asserts a 200; returns the JSON body."""
        r = self.api(method, path, **kw)
        assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def error(self, method, path, status, code=None, **kw):
        """Calls the API and asserts an error; returns the JSON body."""
        r = self.api(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        body = r.json()
        assert body.get("message"), body
        if code is not None:
            assert body.get("error_code") == code, body
        return body


def sanitizer_report(text):
    return next((line for line in text.splitlines()
                 if any(mark in line for mark in SANITIZER_MARKS)), None)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    code = s.stop()
    report = sanitizer_report(s.log_text())
    assert report is None, f"sanitizer: {report}\n{s.log_text()[-4000:]}"
    assert code in (0, -signal.SIGKILL, None), f"jobsd exited {code}\n{s.log_text()[-2000:]}"


@pytest.fixture
def make_server(tmp_path):
    """Factory for tests that need their own flags, env or several servers."""
    made = []

    def make(name="data", **kw):
        s = Server(tmp_path / name, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()
        report = sanitizer_report(s.log_text())
        assert report is None, f"sanitizer: {report}"


def load_fixture(name):
    return json.loads((SEEDS / name).read_text())
