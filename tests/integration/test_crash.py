"""The crash test of issue 4 item 7: jobsd killed with SIGKILL at random
moments, 30 times, while clients submit runs with idempotency tokens (run-now
and runs/submit) and tasks are running; every unanswered request is sent
again with its token. Then: no acknowledged run lost, no token with two runs,
every run terminal once its tasks ended, no task killed or re-run by the
restarts, and PRAGMA integrity_check ok. The core is in crash_lib.py (shared
with bench/crash.py, the same test for 1,000 cycles).

The seed is printed; CRASH_SEED=<n> replays a seed's choices (the timing of
the threads differs from run to run), CRASH_CYCLES=<n> changes the count,
CRASH_SLOW_SUPERVISOR_MS=<ms> slows each supervisor's start (needs strace). The
figures are printed (also without -s) and written to build/crash-figures.txt.
"""
import os
import random

import conftest
from conftest import ROOT
from crash_lib import CrashTest, slow_supervisor, snapshot_binaries
from test_runs_helpers import reap_tasks  # noqa: F401  (autouse: kills leftovers)

FIGURES = ROOT / "build" / "crash-figures.txt"


def test_sigkill_loop_loses_nothing_duplicates_nothing_kills_no_task(make_server, tmp_path,
                                                                      capsys, monkeypatch):
    # $JOBSD_BIN, its supervisor and runtime, copied: 30 restarts must all
    # start the same binary even if build/ is relinked meanwhile.
    monkeypatch.setattr(conftest, "JOBSD", snapshot_binaries(conftest.JOBSD, tmp_path))
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1, 10**6))
    cycles = int(os.environ.get("CRASH_CYCLES") or 30)
    # CRASH_SLOW_SUPERVISOR_MS=<ms> (needs strace): each supervisor's fsync of its
    # `supervisor` file delayed, so that restarts come before that file exists.
    slow_ms = int(os.environ.get("CRASH_SLOW_SUPERVISOR_MS") or 0)
    extra, env = slow_supervisor(tmp_path, tmp_path / "bin" / "jobsd-supervisor",
                                 slow_ms) if slow_ms else ([], {})
    server = make_server(extra_args=extra, env=env)
    with capsys.disabled():
        print(f"\ncrash test: seed {seed} (CRASH_SEED={seed} to replay)", flush=True)
    ct = CrashTest(server, tmp_path / "marks", seed=seed, cycles=cycles, log=lambda s: None)
    try:
        ct.run()
    finally:
        if ct.figures:
            ct.write_report(FIGURES)
    report = ct.report()
    with capsys.disabled():
        print(report.split("\ndetails:")[0], flush=True)
    assert ct.kills >= 30 or cycles < 30
    assert not ct.zero_failures(), report
