#!/usr/bin/python3
"""jobsd benchmarks: every figure is reported next to a reference measured in
the same run, and as a ratio to it (see bench/README.md).

  jobs/get, jobs/list   wrk at 1 and 64 connections against jobsd, and against
                        nginx serving a static file of the same bytes (ceiling)
  jobs/create           wrk POSTs at 64 connections against jobsd, and the
                        SQLite one-row-per-transaction loop (sqlite_ceiling.c)
                        with rows of the same size, on the same file system

Measurements alternate between jobsd and its reference and repeat; the median
of the repetitions is reported. Results go to stdout and bench/results/.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
FIXTURE = ROOT / "tests" / "integration" / "fixtures" / "multi-task-job.json"
SMALL_JOB = {
    "name": "nightly-etl",
    "tasks": [{"task_key": "main", "existing_cluster_id": "0923-164208-meows279",
               "notebook_task": {"notebook_path": "/Users/admin/etl",
                                 "base_parameters": {"env": "prod"}}}],
    "schedule": {"quartz_cron_expression": "0 15 22 * * ?",
                 "timezone_id": "America/Los_Angeles"},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_jobsd(work):
    data = work / "jobsd-data"
    log = open(work / "jobsd.log", "wb")
    proc = subprocess.Popen([str(BUILD / "jobsd"), "serve", "--data-dir", str(data), "--listen",
                             "127.0.0.1:0", "--max-saved-jobs", "100000000",
                             "--max-jobs-created-per-hour", "1000000"],
                            stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    for line in proc.stdout:
        m = re.search(rb"export DATABRICKS_HOST=(\S+)", line)
        if m:
            url = m.group(1).decode()
            break
    else:
        raise SystemExit("jobsd did not start; see " + str(work / "jobsd.log"))
    token = (data / "admin.token").read_text().strip()
    return proc, url, token


def start_nginx(work, root):
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(f"""
worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log {work}/nginx-access.log;
  keepalive_requests 100000000;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{ default_type application/json; }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf)], start_new_session=True)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}"


def call(url, token, path, body=None):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def wrk(url, conns, seconds, token=None, script=None):
    args = ["wrk", "--latency", f"-t{min(conns, 2)}", f"-c{conns}", f"-d{seconds}s"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, re.M)
        v = float(m.group(1))
        lat[pct] = v / 1000 if m.group(2) == "us" else v if m.group(2) == "ms" else v * 1000
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"wrk saw {bad.group(1)} errors from {url}:\n{out}")
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"]}


def median_of(runs):
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def compare(name, subject, reference, reps):
    """Alternates subject() and reference() reps times; returns medians."""
    s_runs, r_runs = [], []
    for _ in range(reps):
        s_runs.append(subject())
        r_runs.append(reference())
    s, r = median_of(s_runs), median_of(r_runs)
    ratio = s["rps"] / r["rps"]
    print(f"{name:<34} jobsd {s['rps']:>9.0f}/s p50 {s['p50_ms']:.3f} ms p99 {s['p99_ms']:.3f} ms | "
          f"ref {r['rps']:>9.0f}/s p50 {r['p50_ms']:.3f} ms p99 {r['p99_ms']:.3f} ms | "
          f"ratio {ratio:.2f}", flush=True)
    return {"name": name, "jobsd": s, "reference": r, "ratio": ratio}


def post_script(work, body, name):
    payload = work / f"{name}.json"
    payload.write_text(json.dumps(body))
    script = work / f"{name}.lua"
    script.write_text(f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{payload}"); wrk.body = f:read("*a"); f:close()
""")
    return payload, script


def ceiling(work, payload, seconds):
    d = work / "ceiling"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    out = subprocess.run([str(BUILD / "sqlite_ceiling"), str(d), str(payload), str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"rows_per_s=([\d.]+)", out).group(1))
    return {"rps": rps, "p50_ms": 0.0, "p99_ms": 0.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    subprocess.run(["cc", "-O2", "-o", str(BUILD / "sqlite_ceiling"),
                    str(ROOT / "bench" / "sqlite_ceiling.c"), "-lsqlite3"], check=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="jobsd-bench-", dir=os.environ.get("TMPDIR")))
    work.chmod(0o755)  # nginx workers run as an unprivileged user and read static/
    jobsd, url, token = start_jobsd(work)
    static = work / "static"
    static.mkdir()
    results = []
    try:
        job_id = json.loads(call(url, token, "/api/2.2/jobs/create",
                                 json.loads(FIXTURE.read_text())))["job_id"]
        for i in range(19):
            call(url, token, "/api/2.2/jobs/create", dict(SMALL_JOB, name=f"job-{i}"))
        get_path = f"/api/2.2/jobs/get?job_id={job_id}"
        (static / "get.json").write_bytes(call(url, token, get_path))
        (static / "list.json").write_bytes(call(url, token, "/api/2.2/jobs/list"))
        nginx, ngx = start_nginx(work, static)
        try:
            print(f"jobs/get body {len((static / 'get.json').read_bytes())} bytes, jobs/list body "
                  f"{len((static / 'list.json').read_bytes())} bytes; {args.reps} alternating "
                  f"runs of {args.seconds} s each, medians; reference = nginx static file")
            for conns in (1, 64):
                results.append(compare(
                    f"jobs/get  c={conns} vs nginx",
                    lambda: wrk(url + get_path, conns, args.seconds, token),
                    lambda: wrk(ngx + "/get.json", conns, args.seconds), args.reps))
                results.append(compare(
                    f"jobs/list c={conns} vs nginx",
                    lambda: wrk(url + "/api/2.2/jobs/list", conns, args.seconds, token),
                    lambda: wrk(ngx + "/list.json", conns, args.seconds), args.reps))
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
        print("reference = SQLite, one row per durable transaction (WAL, synchronous=FULL), "
              "rows of the same size, same file system")
        for name, body in (("small job (1 task)", SMALL_JOB),
                           ("seed multi-task job", json.loads(FIXTURE.read_text()))):
            payload, script = post_script(work, body, name.split()[0])
            results.append(compare(
                f"jobs/create c=64 {name}",
                lambda: wrk(url + "/api/2.2/jobs/create", 64, args.seconds, token, script),
                lambda: ceiling(work, payload, args.seconds), args.reps))
    finally:
        jobsd.send_signal(signal.SIGTERM)
        jobsd.wait(30)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    meta = {"when": stamp, "cpus": os.cpu_count(), "seconds": args.seconds, "reps": args.reps,
            "uname": os.uname().release}
    (out / f"api-{stamp}.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    print(f"results: bench/results/api-{stamp}.json")


if __name__ == "__main__":
    sys.exit(main())
