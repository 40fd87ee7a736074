#!/usr/bin/python3
"""The crash test of issue 4 item 7 at length (tests/integration/test_crash.py
does 30 cycles in `make test`; this does 1,000 by default). By hand only:

    bench/crash.py [--cycles 1000] [--seed S] [--clients 4] [--bin build/jobsd]

Client threads submit runs with idempotency tokens (jobs/run-now and
jobs/runs/submit), tasks sleep 0.2-1.5 s, and jobsd is killed with SIGKILL at
random moments (the seed is printed) and started again; every unanswered
request is sent again with its token. Then the figures: acknowledged runs
lost, tokens with two runs, runs not terminal after their tasks ended, tasks
killed or re-run by the restarts, PRAGMA integrity_check. The core is
tests/integration/crash_lib.py. The figures go to stdout and to
bench/results/crash-<time>.txt; the exit status is 1 when a figure that must
be zero is not.
"""
import argparse
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import conftest  # noqa: E402  (the Server class)
from crash_lib import CrashTest, slow_supervisor, snapshot_binaries  # noqa: E402
from test_runs_helpers import reap  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--bin", default=os.environ.get("JOBSD_BIN", str(ROOT / "build" / "jobsd")),
                    help="the jobsd binary (default $JOBSD_BIN, else build/jobsd)")
    ap.add_argument("--slow-supervisor-ms", type=int, default=0, metavar="MS",
                    help="run each supervisor under strace with the fsync of its `supervisor` "
                         "file delayed MS ms (a slow disk): restarts then often come before "
                         "that file exists (needs strace)")
    ap.add_argument("--keep", action="store_true", help="keep the data dir and the log")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    work = pathlib.Path(tempfile.mkdtemp(prefix="jobsd-crash-"))
    # A copy: others may relink build/ during a long loop.
    conftest.JOBSD = snapshot_binaries(args.bin, work)
    extra, env = [], {}
    if args.slow_supervisor_ms:
        extra, env = slow_supervisor(work, work / "bin" / "jobsd-supervisor",
                                     args.slow_supervisor_ms)
    # runs/submit counts against the jobs-created-per-hour limit (10,000): a
    # long loop goes past it. Raised where this jobsd has the setting.
    usage = subprocess.run([conftest.JOBSD, "serve", "--help"], capture_output=True,
                           text=True).stdout
    if "--max-jobs-created-per-hour" in usage:
        extra += ["--max-jobs-created-per-hour", "1000000"]
    server = conftest.Server(work / "data", extra_args=extra, env=env)
    print(f"crash bench: seed {seed}, {args.cycles} cycles, {args.clients} clients, "
          f"{pathlib.Path(args.bin).resolve()} (copied), in {work}", flush=True)
    ct = CrashTest(server, work / "marks", seed=seed, cycles=args.cycles, clients=args.clients,
                   log=lambda s: print(s, flush=True), progress_every=50)
    failed = True
    try:
        ct.run()
        failed = bool(ct.zero_failures())
    finally:
        server.stop()
        reap(work)
        report = ct.report() if ct.figures else "no figures: the loop failed"
        print(report, flush=True)
        out = ROOT / "bench" / "results" / f"crash-{time.strftime('%Y%m%dT%H%M%S')}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"binary {pathlib.Path(args.bin).resolve()}, seed {seed}, "
                       f"{args.cycles} cycles, slow supervisor {args.slow_supervisor_ms} ms\n"
                       f"{report}\n")
        print(f"written to {out}", flush=True)
        report_log = conftest.sanitizer_report(server.log_text())
        if report_log:
            print(f"sanitizer: {report_log}", flush=True)
            failed = True
        if args.keep or failed:
            print(f"data dir and log kept in {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
