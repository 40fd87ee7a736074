"""Retention (issue 4 item 6): finished runs older than run_retention_days
are deleted with their attempt folders by a background sweep; younger runs
and active ones stay."""
import sqlite3
import time

from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    OK_PY, attempt_dir, block_task, create_job, get_run, py_task, reap_tasks, result,
    run_now, std_files, task, wait_run, wait_task_running, wait_until)

DAY_MS = 86400 * 1000


def age_runs(data_dir, run_ids, days):
    """Moves the runs' start back by days (jobsd stopped), as if they were old."""
    db = sqlite3.connect(str(data_dir / "jobsd.db"))
    with db:
        for rid in run_ids:
            db.execute("UPDATE runs SET start_ms = start_ms - ? WHERE run_id = ? "
                       "OR parent_id = ?", (days * DAY_MS, rid, rid))
    db.close()


def test_old_finished_runs_are_swept_with_their_folders(make_server, tmp_path):
    server = make_server(extra_args=["--run-retention-days", "30"]).start()
    std_files(server)
    job = create_job(server, {"max_concurrent_runs": 10, "tasks": [py_task("p", OK_PY)]})
    old = [wait_run(server, run_now(server, job)["run_id"]) for _ in range(3)]
    young = wait_run(server, run_now(server, job)["run_id"])
    gate = tmp_path / "gate"
    active_job = create_job(server, {"tasks": [block_task("b", gate)]})
    active = run_now(server, active_job)["run_id"]
    wait_task_running(server, active, "b")
    folders = [attempt_dir(server, task(r, "p")["run_id"]) for r in old]
    assert all(f.is_dir() for f in folders)
    server.stop()
    age_runs(server.data_dir, [r["run_id"] for r in old] + [active], 31)
    age_runs(server.data_dir, [young["run_id"]], 29)
    server.start()

    def swept():
        r = server.api("GET", f"/api/2.1/jobs/runs/get?run_id={old[-1]['run_id']}")
        return r.status_code == 400

    wait_until(swept, timeout=10, what="the retention sweep")
    for r in old:
        server.error("GET", f"/api/2.1/jobs/runs/get?run_id={r['run_id']}", 400,
                     "INVALID_PARAMETER_VALUE")
    assert not any(f.exists() for f in folders)
    assert result(get_run(server, young["run_id"])) == "SUCCESS"  # younger than 30 days
    assert get_run(server, active)["state"]["life_cycle_state"] == "RUNNING"  # active stays
    gate.touch()
    assert result(wait_run(server, active)) == "SUCCESS"
    assert "retention deleted 3 runs" in server.log_text()
