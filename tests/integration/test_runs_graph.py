"""The task graph of a run (issue 3, item 3) against a real jobsd: parallel
independent tasks, depends_on order, every run_if, condition tasks and their
outcome branches, the run's result decided by its leaf tasks, and
cancellation propagating downstream."""
from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    FAIL_PY, OK_NB, OK_PY, SLEEP_NB, TERMINAL, attempt_dir, block_task, cancel, cond_task,
    create_job, dep, get_output, life, nb_task, notebook, pid_alive, py_task, reap_tasks,
    result, run_now, std_files, submit, task, task_pid, tasks_by_key, wait_run,
    wait_task_running)


def assert_not_executed(server, t, expected):
    """A task that never ran: its result, a terminal state, the SKIPPED
    termination code and no process (no attempt folder)."""
    assert result(t) == expected, t
    assert life(t) in TERMINAL, t
    assert t["status"]["state"] == "TERMINATED", t
    assert t["status"]["termination_details"]["code"] == "SKIPPED", t
    assert t["state"]["state_message"], t
    assert not (attempt_dir(server, t["run_id"]) / "supervisor").exists(), t


def test_independent_tasks_run_in_parallel(server):
    std_files(server)
    rid = submit(server, {"tasks": [nb_task("a", SLEEP_NB, {"s": "1"}),
                                    nb_task("b", SLEEP_NB, {"s": "1"})]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    a, b = task(run, "a"), task(run, "b")
    # each took at least its second...
    assert a["end_time"] - a["start_time"] >= 1000
    assert b["end_time"] - b["start_time"] >= 1000
    # ...they overlapped, and the whole run took less than the two in a row
    assert a["start_time"] < b["end_time"] and b["start_time"] < a["end_time"]
    assert run["end_time"] - run["start_time"] < 1900, run


def test_depends_on_order(server, tmp_path):
    log = tmp_path / "order.log"
    nb = notebook(server, "/Users/admin@example.com/append",
                  'with open(dbutils.widgets.get("log"), "a") as f:\n'
                  '    f.write(dbutils.widgets.get("me") + "\\n")')

    def t(key, *parents):
        return nb_task(key, nb, {"log": str(log), "me": key}, depends_on=dep(*parents))

    # a -> (b, c) -> d : a diamond
    rid = submit(server, {"tasks": [t("d", "b", "c"), t("c", "a"), t("b", "a"), t("a")]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    lines = log.read_text().split()
    assert lines[0] == "a" and lines[-1] == "d" and sorted(lines[1:3]) == ["b", "c"]
    ts = tasks_by_key(run)
    assert ts["b"]["start_time"] >= ts["a"]["end_time"]
    assert ts["c"]["start_time"] >= ts["a"]["end_time"]
    assert ts["d"]["start_time"] >= max(ts["b"]["end_time"], ts["c"]["end_time"])
    # tasks come back in the order they were given
    assert [x["task_key"] for x in run["tasks"]] == ["d", "c", "b", "a"]


# (task_key, parents, run_if, expected result) ; S succeeds, F fails.
RUN_IF_CASES = [
    ("all_success_S", ["S"], None, "SUCCESS"),
    ("all_success_F", ["F"], None, "UPSTREAM_FAILED"),
    ("all_success_SF", ["S", "F"], "ALL_SUCCESS", "UPSTREAM_FAILED"),
    ("all_done_F", ["F"], "ALL_DONE", "SUCCESS"),
    ("all_done_SF", ["S", "F"], "ALL_DONE", "SUCCESS"),
    ("one_success_SF", ["S", "F"], "AT_LEAST_ONE_SUCCESS", "SUCCESS"),
    ("one_success_F", ["F"], "AT_LEAST_ONE_SUCCESS", "UPSTREAM_FAILED"),
    ("none_failed_S", ["S"], "NONE_FAILED", "SUCCESS"),
    ("none_failed_SF", ["S", "F"], "NONE_FAILED", "UPSTREAM_FAILED"),
    ("one_failed_SF", ["S", "F"], "AT_LEAST_ONE_FAILED", "SUCCESS"),
    ("one_failed_S", ["S"], "AT_LEAST_ONE_FAILED", "EXCLUDED"),
    ("all_failed_F", ["F"], "ALL_FAILED", "SUCCESS"),
    ("all_failed_SF", ["S", "F"], "ALL_FAILED", "EXCLUDED"),
    # an excluded parent counts as a success (docs: "Configure task
    # dependencies"); a task whose parents are all excluded is excluded
    ("excluded_and_S", ["one_failed_S", "S"], None, "SUCCESS"),
    ("only_excluded", ["one_failed_S"], None, "EXCLUDED"),
    ("only_excluded_all_done", ["all_failed_SF"], "ALL_DONE", "EXCLUDED"),
]


def test_run_if_variants(server):
    std_files(server)
    tasks = [py_task("S", OK_PY), py_task("F", FAIL_PY)]
    for key, parents, run_if, _ in RUN_IF_CASES:
        extra = {"depends_on": dep(*parents)}
        if run_if:
            extra["run_if"] = run_if
        tasks.append(cond_task(key, "1", "EQUAL_TO", "1", **extra))
    # the same rules for tasks that are processes
    tasks.append(nb_task("nb_all_done_F", OK_NB, depends_on=dep("F"), run_if="ALL_DONE"))
    tasks.append(nb_task("nb_all_success_F", OK_NB, depends_on=dep("F")))
    tasks.append(nb_task("nb_after_skipped", OK_NB, depends_on=dep("nb_all_success_F")))
    job = create_job(server, {"tasks": tasks})
    run = wait_run(server, run_now(server, job)["run_id"])
    ts = tasks_by_key(run)
    assert result(ts["S"]) == "SUCCESS" and result(ts["F"]) == "FAILED"
    for key, _, _, expected in RUN_IF_CASES:
        if expected == "SUCCESS":
            assert result(ts[key]) == "SUCCESS", (key, ts[key])
        else:
            assert_not_executed(server, ts[key], expected)
    assert result(ts["nb_all_done_F"]) == "SUCCESS"
    assert get_output(server, ts["nb_all_done_F"]["run_id"])["notebook_output"]["result"] == "ok"
    assert ts["nb_all_done_F"]["start_time"] >= ts["F"]["end_time"]
    assert_not_executed(server, ts["nb_all_success_F"], "UPSTREAM_FAILED")
    assert_not_executed(server, ts["nb_after_skipped"], "UPSTREAM_FAILED")
    # some leaves did not succeed
    assert result(run) == "FAILED"


def test_run_result_is_decided_by_the_leaves(server):
    std_files(server)
    # a failing task followed by an ALL_DONE leaf that succeeds
    rid = submit(server, {"tasks": [py_task("F", FAIL_PY),
                                    nb_task("leaf", OK_NB, depends_on=dep("F"), run_if="ALL_DONE")]})
    run = wait_run(server, rid)
    assert result(task(run, "F")) == "FAILED"
    assert result(task(run, "leaf")) == "SUCCESS"
    assert result(run) == "SUCCESS_WITH_FAILURES"
    assert run["status"]["state"] == "TERMINATED"
    assert run["status"]["termination_details"]["code"] == "SUCCESS_WITH_FAILURES"
    # a failing leaf fails the run
    rid = submit(server, {"tasks": [py_task("S", OK_PY),
                                    py_task("F", FAIL_PY, depends_on=dep("S"))]})
    run = wait_run(server, rid)
    assert result(run) == "FAILED"
    assert run["status"]["termination_details"]["code"] == "RUN_EXECUTION_ERROR"
    # a failing leaf beside a successful one fails it too
    rid = submit(server, {"tasks": [py_task("S", OK_PY), py_task("F", FAIL_PY)]})
    assert result(wait_run(server, rid)) == "FAILED"


def condition_job(server):
    std_files(server)
    return create_job(server, {
        "name": "branches", "max_concurrent_runs": 5,
        "parameters": [{"name": "mode", "default": "full"}],
        "tasks": [
            cond_task("is_full", "{{job.parameters.mode}}", "EQUAL_TO", "full"),
            nb_task("full", OK_NB, depends_on=dep("is_full", outcome="true")),
            nb_task("incremental", OK_NB, depends_on=dep("is_full", outcome="false")),
            nb_task("after_incremental", OK_NB, depends_on=dep("incremental")),
        ]})


def test_condition_task_true_and_false_branches(server):
    job = condition_job(server)
    run = wait_run(server, run_now(server, job)["run_id"])
    ts = tasks_by_key(run)
    assert result(ts["is_full"]) == "SUCCESS"
    assert ts["is_full"]["condition_task"]["outcome"] == "true"
    assert result(ts["full"]) == "SUCCESS"
    assert_not_executed(server, ts["incremental"], "EXCLUDED")
    assert_not_executed(server, ts["after_incremental"], "EXCLUDED")
    assert result(run) == "SUCCESS"  # excluded leaves do not fail a run

    run = wait_run(server, run_now(server, job, job_parameters={"mode": "inc"})["run_id"])
    ts = tasks_by_key(run)
    assert ts["is_full"]["condition_task"]["outcome"] == "false"
    assert ts["is_full"]["condition_task"]["left"] == "{{job.parameters.mode}}"
    assert_not_executed(server, ts["full"], "EXCLUDED")
    assert result(ts["incremental"]) == "SUCCESS"
    assert result(ts["after_incremental"]) == "SUCCESS"
    assert result(run) == "SUCCESS"


CONDITIONS = [
    ("12.0", "EQUAL_TO", "12", "false"),            # EQUAL_TO compares strings
    ("12.0", "NOT_EQUAL", "12", "true"),
    ("abc", "EQUAL_TO", "abc", "true"),
    ("12.0", "GREATER_THAN_OR_EQUAL", "12", "true"),  # the others compare numbers
    ("9", "LESS_THAN", "10", "true"),                 # (as strings "9" > "10")
    ("2", "GREATER_THAN", "10", "false"),
    ("3", "LESS_THAN_OR_EQUAL", "3", "true"),
    ("-1.5", "LESS_THAN", "-1", "true"),
    ("true", "EQUAL_TO", "true", "true"),
]


def test_condition_task_operators(server):
    tasks = [cond_task(f"c{i}", left, op, right) for i, (left, op, right, _) in
             enumerate(CONDITIONS)]
    run = wait_run(server, submit(server, {"tasks": tasks}))
    assert result(run) == "SUCCESS"
    for i, (left, op, right, outcome) in enumerate(CONDITIONS):
        t = task(run, f"c{i}")
        assert result(t) == "SUCCESS", t
        assert t["condition_task"]["outcome"] == outcome, (left, op, right, t)


def test_cancel_of_a_job_run_propagates(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    job = create_job(server, {"tasks": [block_task("slow", gate),
                                        block_task("slow2", gate),
                                        nb_task("next", OK_NB, depends_on=dep("slow")),
                                        nb_task("last", OK_NB, depends_on=dep("next"))]})
    rid = run_now(server, job)["run_id"]
    t1 = wait_task_running(server, rid, "slow")
    t2 = wait_task_running(server, rid, "slow2")
    pids = [task_pid(server, t1["run_id"]), task_pid(server, t2["run_id"])]
    assert cancel(server, rid) == {}
    run = wait_run(server, rid)
    assert result(run) == "CANCELED"
    assert run["state"]["user_cancelled_or_timedout"] is True
    assert run["status"]["termination_details"]["code"] == "USER_CANCELED"
    ts = tasks_by_key(run)
    for key in ("slow", "slow2"):
        assert result(ts[key]) == "CANCELED", ts[key]
        assert ts[key]["state"]["user_cancelled_or_timedout"] is True
    # Tasks that had not started never will. The reference does not say
    # whether a cancel of the whole run marks them CANCELED or
    # UPSTREAM_CANCELED; either, but never run.
    for key in ("next", "last"):
        assert result(ts[key]) in ("CANCELED", "UPSTREAM_CANCELED"), ts[key]
        assert life(ts[key]) in TERMINAL
        assert not (attempt_dir(server, ts[key]["run_id"]) / "supervisor").exists()
    for pid in pids:
        assert not pid_alive(pid)


def test_cancel_of_one_task_run(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    job = create_job(server, {"tasks": [block_task("slow", gate),
                                        nb_task("next", OK_NB, depends_on=dep("slow")),
                                        nb_task("cleanup", OK_NB, depends_on=dep("slow"),
                                                run_if="ALL_DONE"),
                                        py_task("other", OK_PY)]})
    rid = run_now(server, job)["run_id"]
    t = wait_task_running(server, rid, "slow")
    assert cancel(server, t["run_id"]) == {}
    run = wait_run(server, rid)
    ts = tasks_by_key(run)
    assert result(ts["slow"]) == "CANCELED"
    assert ts["slow"]["state"]["user_cancelled_or_timedout"] is True
    assert_not_executed(server, ts["next"], "UPSTREAM_CANCELED")
    # a clean-up task runs after a cancelled task (docs: "Configure task
    # dependencies": the cancel propagates, failure-handling run_ifs run)
    assert result(ts["cleanup"]) == "SUCCESS", ts["cleanup"]
    assert result(ts["other"]) == "SUCCESS"
    assert result(run) != "SUCCESS"
    assert not pid_alive(task_pid(server, t["run_id"]))
