#!/usr/bin/python3
"""jobsd run benchmarks (issue 3 item 10), each against a plain posix_spawn
loop of the same command measured in the same run (spawn_ceiling.c):

  run-now -> task process started   sequential run-nows of a trivial Python-file
                                    task; the instant the supervisor forked the
                                    task (start_us in the attempt's supervisor
                                    file) minus the instant the request was
                                    sent; against the time posix_spawn of the
                                    same command takes to return (the child has
                                    exec'd by then)
  trivial runs per second           runs accepted, executed, terminal and durable,
                                    with CLIENTS concurrent clients; against
                                    spawning and reaping the same command with
                                    the same parallelism

The same command: the Python runtime jobsd runs for the task
(python3 runtime/jobsd_task.py context.json), with the context of one of the
benchmark's own runs. Results go to stdout and bench/results/runs-*.json.
"""
import argparse
import concurrent.futures
import json
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run as common  # noqa: E402  (start_jobsd, call)

ROOT = common.ROOT
BUILD = common.BUILD


def api(url, token, path, body=None):
    return json.loads(common.call(url, token, path, body) or b"{}")


def setup_job(url, token):
    api(url, token, "/api/2.0/workspace/mkdirs", {"path": "/bench"})
    import base64
    api(url, token, "/api/2.0/workspace/import",
        {"path": "/bench/trivial.py", "format": "AUTO", "overwrite": True,
         "content": base64.b64encode(b"pass\n").decode()})
    job = api(url, token, "/api/2.2/jobs/create", {
        "name": "trivial", "max_concurrent_runs": 1000,
        "tasks": [{"task_key": "t", "spark_python_task": {"python_file": "/bench/trivial.py"}}]})
    return job["job_id"]


def wait_terminal(url, token, run_id, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        run = api(url, token, f"/api/2.2/jobs/runs/get?run_id={run_id}")
        if run["state"]["life_cycle_state"] in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return run
        time.sleep(0.005)
    raise SystemExit(f"run {run_id} did not finish")


def supervisor_start_us(data, task_run_id):
    text = (data / "runs" / str(task_run_id) / "supervisor").read_text()
    return int(dict(line.split(" ", 1) for line in text.splitlines())["start_us"])


def latency(url, token, data, job_id, n):
    """One keep-alive connection, so the figure is jobsd's, not the client's
    connection set-up; t0 is taken just before the request is written."""
    import http.client
    import urllib.parse
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    body = json.dumps({"job_id": job_id})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    lat = []
    last = None
    for _ in range(n):
        t0 = time.time_ns() // 1000
        conn.request("POST", "/api/2.2/jobs/run-now", body, headers)
        run_id = json.loads(conn.getresponse().read())["run_id"]
        run = wait_terminal(url, token, run_id)
        assert run["state"]["result_state"] == "SUCCESS", run["state"]
        last = run["tasks"][0]["run_id"]
        lat.append((supervisor_start_us(data, last) - t0) / 1000)
    lat.sort()
    return {"p50_ms": lat[len(lat) // 2], "p99_ms": lat[(len(lat) * 99) // 100]}, last


def throughput(url, token, job_id, n, clients):
    t0 = time.time()

    def one(_):
        return api(url, token, "/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        ids = list(pool.map(one, range(n)))
    # Terminal and durable: runs/get reads only committed state.
    ends = []
    for run_id in ids:
        run = wait_terminal(url, token, run_id, deadline=300)
        assert run["state"]["result_state"] == "SUCCESS", run["state"]
        ends.append(run["end_time"] / 1000)
    return {"runs_per_s": n / (max(ends) - t0)}


def ceiling_command(work, data, task_run_id):
    """The command jobsd ran for a task, with its context copied aside."""
    ctx = json.loads((data / "runs" / str(task_run_id) / "context.json").read_text())
    out = work / "ceiling-attempt"
    out.mkdir(exist_ok=True)
    ctx["output_dir"] = str(out)
    path = out / "context.json"
    path.write_text(json.dumps(ctx))
    return ["/usr/bin/python3", str(ROOT / "runtime" / "jobsd_task.py"), str(path)]


def spawn_ceiling(*args):
    out = subprocess.run([str(BUILD / "spawn_ceiling"), *map(str, args)], capture_output=True,
                         text=True, check=True).stdout
    return dict((k, float(v)) for k, v in (kv.split("=") for kv in out.split()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-runs", type=int, default=200)
    ap.add_argument("--rate-runs", type=int, default=300)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    subprocess.run(["cc", "-O2", "-o", str(BUILD / "spawn_ceiling"),
                    str(ROOT / "bench" / "spawn_ceiling.c")], check=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="jobsd-bench-runs-"))
    jobsd, url, token = common.start_jobsd(work)
    data = work / "jobsd-data"
    results = {}
    try:
        job_id = setup_job(url, token)
        lat_runs, rate_runs, ref_lat, ref_rate = [], [], [], []
        for _ in range(args.reps):
            lat, last = latency(url, token, data, job_id, args.latency_runs)
            cmd = ceiling_command(work, data, last)
            lat_runs.append(lat)
            r = spawn_ceiling("latency", args.latency_runs, "--", *cmd)
            ref_lat.append({"p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000})
            rate_runs.append(throughput(url, token, job_id, args.rate_runs, args.clients))
            ref_rate.append(spawn_ceiling("rate", args.rate_runs, args.clients, "--", *cmd))
        med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
        results = {
            "run_now_to_exec": {"p50_ms": med(lat_runs, "p50_ms"), "p99_ms": med(lat_runs, "p99_ms"),
                                "ref_p50_ms": med(ref_lat, "p50_ms"),
                                "ref_p99_ms": med(ref_lat, "p99_ms")},
            "trivial_runs": {"runs_per_s": med(rate_runs, "runs_per_s"),
                             "ref_runs_per_s": med(ref_rate, "runs_per_s")},
        }
        results["trivial_runs"]["ratio"] = (results["trivial_runs"]["runs_per_s"] /
                                            results["trivial_runs"]["ref_runs_per_s"])
        l, t = results["run_now_to_exec"], results["trivial_runs"]
        print(f"run-now -> exec   p50 {l['p50_ms']:.2f} ms  p99 {l['p99_ms']:.2f} ms | "
              f"posix_spawn p50 {l['ref_p50_ms']:.2f} ms p99 {l['ref_p99_ms']:.2f} ms")
        print(f"trivial runs/s    jobsd {t['runs_per_s']:.1f} | posix_spawn loop "
              f"{t['ref_runs_per_s']:.1f} | ratio {t['ratio']:.2f}")
        out = ROOT / "bench" / "results" / time.strftime("runs-%Y%m%d-%H%M%S.json")
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
    finally:
        jobsd.terminate()
        jobsd.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
