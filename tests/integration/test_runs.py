"""Runs (issue 3) against a real jobsd: the run endpoints through 2.0, 2.1 and
2.2 (run-now, submit, get, list, get-output, cancel, cancel-all, delete), the
states and shapes of a run, get-output, and tasks outliving a SIGKILL of
jobsd. Real notebooks and Python files run as local processes.

The task graph is in test_runs_graph.py, task kinds and parameters in
test_runs_params.py, timeouts, retries and cancel in test_runs_control.py.
runs/export is tested elsewhere."""
import json
import time

import pytest

from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    BLOCK_PY, ECHO_NB, FAIL_NB, FAIL_PY, MULTI_OUTPUT, NO_RUN, OK_NB, OK_PY, TERMINAL,
    attempt_dir, block_task, cond_task, create_job, dep, get_output, get_run,
    life, list_runs, nb_task, notebook, ok_job, pid_alive, py_task, pyfile, reap_tasks,
    result, run_instant, run_now, std_files, submit, supervisor_pid, task, task_pid,
    tasks_by_key, wait_run, wait_task_running, wait_until, watch_run)

VERSIONS = ("2.0", "2.1", "2.2")
LIFE = {"QUEUED", "PENDING", "RUNNING", "TERMINATING", "TERMINATED", "SKIPPED",
        "INTERNAL_ERROR", "BLOCKED", "WAITING_FOR_RETRY"}


def assert_state_object(obj, where="run"):
    """state and status are always there, consistent with each other."""
    st = obj["state"]
    assert st["life_cycle_state"] in LIFE, (where, st)
    assert isinstance(st["state_message"], str), (where, st)
    assert isinstance(st["user_cancelled_or_timedout"], bool), (where, st)
    status = obj["status"]
    if st["life_cycle_state"] in TERMINAL:
        assert status["state"] == "TERMINATED", (where, obj)
        assert "result_state" in st or st["life_cycle_state"] != "TERMINATED", (where, st)
        td = status["termination_details"]
        assert td["code"] and td["type"] in ("SUCCESS", "INTERNAL_ERROR", "CLIENT_ERROR",
                                             "CLOUD_FAILURE"), (where, td)
    else:
        assert "result_state" not in st, (where, st)
        assert status["state"] == st["life_cycle_state"] or (
            status["state"] == "WAITING" and st["life_cycle_state"] == "WAITING_FOR_RETRY"), \
            (where, obj)


# =====================================================================================
# 1. endpoints
# =====================================================================================

def test_run_now_number_in_job_is_the_run_id_from_2_1_and_a_counter_in_2_0(server):
    job = create_job(server, ok_job())
    other = create_job(server, ok_job())
    answers = [run_now(server, job, v) for v in ("2.1", "2.2", "2.0")]
    for a in answers:
        assert set(a) == {"run_id", "number_in_job"}, a
    r21, r22, r20 = answers
    assert r21["number_in_job"] == r21["run_id"]
    assert r22["number_in_job"] == r22["run_id"]
    assert r20["number_in_job"] == 3  # the job's third run
    o20 = run_now(server, other, "2.0")
    assert o20["number_in_job"] == 1  # a counter per job
    assert len({r21["run_id"], r22["run_id"], r20["run_id"], o20["run_id"]}) == 4
    # run ids are not the counters here (task runs take ids too)
    assert r20["run_id"] != 3 and o20["run_id"] != 1
    for a in answers + [o20]:
        wait_run(server, a["run_id"])
    # runs/get and runs/list say the same per version.
    assert get_run(server, r21["run_id"], "2.0")["number_in_job"] == 1
    assert get_run(server, r20["run_id"], "2.0")["number_in_job"] == 3
    assert get_run(server, r20["run_id"], "2.1")["number_in_job"] == r20["run_id"]
    assert get_run(server, r22["run_id"], "2.2")["number_in_job"] == r22["run_id"]
    listed = list_runs(server, "2.0", job_id=job)["runs"]
    assert [r["number_in_job"] for r in listed] == [3, 2, 1]
    listed = list_runs(server, "2.1", job_id=job)["runs"]
    assert [r["number_in_job"] for r in listed] == [r["run_id"] for r in listed]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_run_is_readable_the_moment_run_now_and_submit_answer(server, version):
    std_files(server)
    job = create_job(server, {"max_concurrent_runs": 10, "tasks": [nb_task("n", OK_NB)]})
    ids = []
    for _ in range(3):
        rid = run_now(server, job, version)["run_id"]
        run = get_run(server, rid, version)  # no polling before the first read
        assert run["run_id"] == rid and run["job_id"] == job
        assert_state_object(run)
        ids.append(rid)
        body = ({"run_name": "now", "tasks": [nb_task("n", OK_NB)]} if version != "2.0"
                else {"run_name": "now", "notebook_task": {"notebook_path": OK_NB}})
        sid = submit(server, body, version)
        run = get_run(server, sid, version)
        assert run["run_id"] == sid
        assert_state_object(run)
        ids.append(sid)
    for rid in ids:
        assert result(wait_run(server, rid, version)) == "SUCCESS"


def test_submit_2_1_tasks(server):
    std_files(server)
    body = {"run_name": "two tasks", "timeout_seconds": 60,
            "tasks": [nb_task("first", OK_NB, existing_cluster_id="c1"),
                      nb_task("second", ECHO_NB, {"who": "second"}, depends_on=dep("first"),
                              new_cluster={"spark_version": "x", "num_workers": 1})]}
    r = server.ok("POST", "/api/2.1/jobs/runs/submit", json=body)
    assert set(r) == {"run_id"}
    rid = r["run_id"]
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    assert run["run_type"] == "SUBMIT_RUN"
    assert run["run_name"] == "two tasks"
    assert isinstance(run["job_id"], int)  # a job_id even for a submit run
    ts = tasks_by_key(run)
    assert set(ts) == {"first", "second"}
    ids = {t["run_id"] for t in ts.values()}
    assert len(ids) == 2 and rid not in ids
    for t in ts.values():
        assert result(t) == "SUCCESS"
    assert get_output(server, ts["first"]["run_id"])["notebook_output"]["result"] == "ok"
    out = json.loads(get_output(server, ts["second"]["run_id"])["notebook_output"]["result"])
    assert out == {"who": "second"}
    body = server.error("GET", "/api/2.1/jobs/runs/get-output", 400, "INVALID_PARAMETER_VALUE",
                        params={"run_id": rid})
    assert body["message"] == MULTI_OUTPUT


def test_submit_default_run_name_is_untitled(server):
    rid = submit(server, {"tasks": [cond_task("c", "a", "EQUAL_TO", "a")]})
    run = wait_run(server, rid)
    assert run["run_name"] == "Untitled"
    assert result(run) == "SUCCESS"


BLOG_NB = "/Users/yoga@example.com/Test_Run_postman"
BLOG_CODE = '''
import json;

key = dbutils.widgets.get("key")
dbutils.notebook.exit(json.dumps({
    "status": "ok",
    "params": key
}))
'''


def blog_submit(server):
    notebook(server, BLOG_NB, BLOG_CODE)
    body = {
        "run_name": "Test_Run_postman",
        "existing_cluster_id": "0923-164208-meows279",
        "notebook_task": {
            "notebook_path": BLOG_NB,
            "base_parameters": {"key": "test_key"},
        },
        "timeout_seconds": 30,
    }
    r = server.ok("POST", "/api/2.1/jobs/runs/submit", json=body)
    assert set(r) == {"run_id"} and isinstance(r["run_id"], int)
    return r["run_id"]


def test_seed_002_blog_submit_then_get_output(server):
    """seeds/002: runs/submit of a 2.0-shaped single task at /api/2.1, then
    runs/get-output of the run id the submit returned."""
    rid = blog_submit(server)
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS", run
    out = get_output(server, rid)
    assert out["notebook_output"]["result"] == '{"status": "ok", "params": "test_key"}'
    assert json.loads(out["notebook_output"]["result"]) == {"status": "ok", "params": "test_key"}
    assert out["notebook_output"].get("truncated", False) is False
    md = out["metadata"]
    assert isinstance(md["job_id"], int)
    assert md["state"]["life_cycle_state"] == "TERMINATED"
    assert md["state"]["result_state"] == "SUCCESS"
    # The task run's own id works too.
    (t,) = run["tasks"]
    tout = get_output(server, t["run_id"])
    assert tout["notebook_output"]["result"] == out["notebook_output"]["result"]
    assert tout["metadata"]["run_id"] == t["run_id"]


def test_seed_002_get_output_metadata_is_the_run_asked_for(server):
    """The blog's response: metadata.run_id is the run id given to get-output
    (5455 in, 5455 out)."""
    rid = blog_submit(server)
    wait_run(server, rid)
    assert get_output(server, rid)["metadata"]["run_id"] == rid


def test_include_history_gives_the_original_item(server):
    std_files(server)
    job = create_job(server, {"tasks": [nb_task("a", OK_NB), cond_task("b", "1", "EQUAL_TO", "1")]})
    rid = run_now(server, job)["run_id"]
    plain = wait_run(server, rid)
    assert "repair_history" not in plain
    for version in VERSIONS:
        run = get_run(server, rid, version, include_history="true")
        (item,) = run["repair_history"]
        assert item["type"] == "ORIGINAL"
        assert "id" not in item
        assert sorted(item["task_run_ids"]) == sorted(t["run_id"] for t in plain["tasks"])
        assert item["start_time"] == plain["start_time"]
        assert item["end_time"] == plain["end_time"]
        assert item["state"]["result_state"] == "SUCCESS"
        assert item["status"]["state"] == "TERMINATED"


def test_2_2_pages_the_tasks_of_a_run_100_at_a_time(make_server):
    server = make_server(extra_args=["--max-tasks-per-job", "200"]).start()
    keys = [f"t{i:03d}" for i in range(101)]
    job = create_job(server, {"tasks": [cond_task(k, "1", "EQUAL_TO", "1") for k in keys]}, "2.2")
    rid = run_now(server, job, "2.2")["run_id"]
    run = wait_run(server, rid, "2.1")
    assert result(run) == "SUCCESS"
    assert len(run["tasks"]) == 101 and "next_page_token" not in run  # 2.1 does not page
    first = get_run(server, rid, "2.2")
    assert len(first["tasks"]) == 100
    token = first["next_page_token"]
    assert token
    second = get_run(server, rid, "2.2", page_token=token)
    assert "next_page_token" not in second
    assert second["run_id"] == rid
    got = [t["task_key"] for t in first["tasks"]] + [t["task_key"] for t in second["tasks"]]
    assert sorted(got) == keys
    assert len(set(got)) == 101
    # runs/list with expand_tasks holds at most 100 tasks per run in 2.2
    (listed,) = list_runs(server, "2.2", job_id=job, expand_tasks="true")["runs"]
    assert len(listed["tasks"]) == 100
    assert listed["has_more"] is True


# --- runs/list ---------------------------------------------------------------------------

def test_runs_list_filters_types_and_order(server):
    a = create_job(server, ok_job(name="a"))
    b = create_job(server, ok_job(name="b"))
    empty = create_job(server, ok_job(name="never run"))
    ids = [run_instant(server, a)["run_id"] for _ in range(3)]
    ids.append(run_instant(server, b)["run_id"])
    sid = submit(server, {"run_name": "one-off", "tasks": [cond_task("c", "1", "EQUAL_TO", "1")]})
    wait_run(server, sid)
    ids.append(sid)
    for version in VERSIONS:
        everything = list_runs(server, version)
        runs = everything["runs"]
        assert [r["run_id"] for r in runs] == sorted(ids, reverse=True)  # newest first
        starts = [r["start_time"] for r in runs]
        assert starts == sorted(starts, reverse=True)
        assert everything["has_more"] is False
        for r in runs:
            assert "tasks" not in r  # only with expand_tasks
            assert_state_object(r)
        assert [r["run_id"] for r in list_runs(server, version, job_id=a)["runs"]] == ids[2::-1]
        only_submit = list_runs(server, version, run_type="SUBMIT_RUN")["runs"]
        assert [r["run_id"] for r in only_submit] == [sid]
        assert only_submit[0]["run_type"] == "SUBMIT_RUN"
        job_runs = list_runs(server, version, run_type="JOB_RUN")["runs"]
        assert [r["run_id"] for r in job_runs] == sorted(ids[:4], reverse=True)
        assert all(r["run_type"] == "JOB_RUN" for r in job_runs)
        assert list_runs(server, version, run_type="WORKFLOW_RUN") == {"has_more": False}
        none = list_runs(server, version, job_id=empty)
        assert "runs" not in none  # omitted when empty
        assert none.get("has_more", False) is False
        expanded = list_runs(server, version, job_id=b, expand_tasks="true")["runs"]
        assert [t["task_key"] for t in expanded[0]["tasks"]] == ["c"]
        assert expanded[0]["tasks"][0]["run_id"] != expanded[0]["run_id"]


def test_runs_list_active_only_completed_only(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    blocker = create_job(server, {"max_concurrent_runs": 5, "tasks": [block_task("b", gate)]})
    done = run_instant(server, create_job(server, ok_job()))["run_id"]
    active = run_now(server, blocker)["run_id"]
    for version in VERSIONS:
        assert [r["run_id"] for r in list_runs(server, version, active_only="true")["runs"]] == [active]
        assert [r["run_id"] for r in list_runs(server, version, completed_only="true")["runs"]] == [done]
        assert len(list_runs(server, version, active_only="false")["runs"]) == 2
        body = server.error("GET", f"/api/{version}/jobs/runs/list", 400, "INVALID_PARAMETER_VALUE",
                            params={"active_only": "true", "completed_only": "true"})
        assert "active_only" in body["message"] and "completed_only" in body["message"]
    gate.touch()
    assert result(wait_run(server, active)) == "SUCCESS"
    assert "runs" not in list_runs(server, active_only="true")
    assert len(list_runs(server, completed_only="true")["runs"]) == 2


def test_runs_list_limit_offset_and_page_tokens(server):
    job = create_job(server, ok_job())
    ids = [run_instant(server, job)["run_id"] for _ in range(5)]
    newest_first = ids[::-1]
    for version in VERSIONS:
        page = list_runs(server, version, job_id=job, limit=2)
        assert [r["run_id"] for r in page["runs"]] == newest_first[:2]
        assert page["has_more"] is True
        page = list_runs(server, version, job_id=job, limit=2, offset=2)
        assert [r["run_id"] for r in page["runs"]] == newest_first[2:4]
        assert page["has_more"] is True
        page = list_runs(server, version, job_id=job, limit=2, offset=4)
        assert [r["run_id"] for r in page["runs"]] == newest_first[4:]
        assert page["has_more"] is False
        # page tokens walk the same list
        seen, token, pages = [], None, 0
        while True:
            params = {"job_id": job, "limit": 2}
            if token:
                params["page_token"] = token
            page = list_runs(server, version, **params)
            seen += [r["run_id"] for r in page["runs"]]
            pages += 1
            token = page.get("next_page_token")
            if not token:
                break
            assert page["has_more"] is True
            assert pages < 10
        assert seen == newest_first
        assert pages == 3
        # prev_page_token walks back: none on the first page
        first = list_runs(server, version, job_id=job, limit=2)
        assert "prev_page_token" not in first
        second = list_runs(server, version, job_id=job, limit=2,
                           page_token=first["next_page_token"])
        back = list_runs(server, version, job_id=job, limit=2,
                         page_token=second["prev_page_token"])
        assert [r["run_id"] for r in back["runs"]] == newest_first[:2]
        assert "prev_page_token" not in back
        # an oversized limit is clamped, not refused (AppKit asks for 100)
        assert [r["run_id"] for r in list_runs(server, version, job_id=job, limit=100)["runs"]] \
            == newest_first


def test_runs_list_start_time_window(server):
    job = create_job(server, ok_job())
    for _ in range(4):
        run_instant(server, job)
        time.sleep(0.005)  # distinct start times (ms)
    runs = list_runs(server, job_id=job)["runs"]
    starts = sorted(r["start_time"] for r in runs)
    lo, hi = starts[1], starts[2]
    for version in VERSIONS:
        got = list_runs(server, version, job_id=job, start_time_from=lo, start_time_to=hi)["runs"]
        expected = [r["run_id"] for r in runs if lo <= r["start_time"] <= hi]  # inclusive
        assert [r["run_id"] for r in got] == expected
        assert len(expected) >= 2
        got = list_runs(server, version, job_id=job, start_time_from=starts[-1])["runs"]
        assert [r["run_id"] for r in got] == [r["run_id"] for r in runs
                                             if r["start_time"] >= starts[-1]]
        assert "runs" not in list_runs(server, version, start_time_from=starts[-1] + 1)
        got = list_runs(server, version, start_time_to=starts[0])["runs"]
        assert [r["start_time"] for r in got] == [starts[0]] * len(got) and got


# --- get-output ------------------------------------------------------------------------------

def test_get_output_of_a_job_run_of_a_multi_task_format_job_is_refused(server):
    std_files(server)
    one = create_job(server, {"tasks": [nb_task("only", OK_NB)]})
    two = create_job(server, {"tasks": [nb_task("a", OK_NB), nb_task("b", OK_NB)]})
    for job in (one, two):
        rid = run_now(server, job)["run_id"]
        run = wait_run(server, rid)
        for version in VERSIONS:
            body = server.error("GET", f"/api/{version}/jobs/runs/get-output", 400,
                                "INVALID_PARAMETER_VALUE", params={"run_id": rid})
            assert body["message"] == MULTI_OUTPUT
            for t in run["tasks"]:
                out = get_output(server, t["run_id"], version)
                assert out["notebook_output"]["result"] == "ok"
                assert out["metadata"]["run_id"] == t["run_id"]
                assert out["metadata"]["task_key"] == t["task_key"]


def test_get_output_of_a_2_0_single_task_job_run(server):
    std_files(server)
    job = server.ok("POST", "/api/2.0/jobs/create", json={
        "name": "legacy", "existing_cluster_id": "c", "notebook_task": {
            "notebook_path": ECHO_NB, "base_parameters": {"k": "v"}}})["job_id"]
    rid = run_now(server, job, "2.0")["run_id"]
    run = wait_run(server, rid, "2.0")
    assert result(run) == "SUCCESS"
    # the 2.0 shape of a single-task run (seeds/003, runs/get)
    assert run["run_id"] == rid and run["job_id"] == job
    assert run["number_in_job"] == 1
    assert run["original_attempt_run_id"] == rid
    assert run["task"]["notebook_task"]["notebook_path"] == ECHO_NB
    assert run["cluster_spec"]["existing_cluster_id"] == "c"
    for version in VERSIONS:
        out = get_output(server, rid, version)
        assert json.loads(out["notebook_output"]["result"]) == {"k": "v"}
    md = get_output(server, rid, "2.0")["metadata"]
    assert md["run_id"] == rid and md["job_id"] == job
    assert md["task"]["notebook_task"]["notebook_path"] == ECHO_NB


# --- cancel-all ---------------------------------------------------------------------------------

def test_cancel_all_by_job_id(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    job = create_job(server, {"max_concurrent_runs": 5, "tasks": [block_task("b", gate)]})
    other = create_job(server, {"max_concurrent_runs": 5, "tasks": [block_task("b", gate)]})
    mine = [run_now(server, job)["run_id"] for _ in range(2)]
    theirs = run_now(server, other)["run_id"]
    for rid in mine + [theirs]:
        wait_task_running(server, rid, "b")
    assert server.ok("POST", "/api/2.1/jobs/runs/cancel-all", json={"job_id": job}) == {}
    for rid in mine:
        run = wait_run(server, rid)
        assert result(run) == "CANCELED", run
        assert run["state"]["user_cancelled_or_timedout"] is True
    assert life(get_run(server, theirs)) == "RUNNING"
    # cancel-all does not block new runs
    again = run_now(server, job)["run_id"]
    gate.touch()
    assert result(wait_run(server, theirs)) == "SUCCESS"
    assert result(wait_run(server, again)) == "SUCCESS"


def test_cancel_all_queued_runs_leaves_running_runs_alone(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    job = create_job(server, {"tasks": [block_task("b", gate)]})
    rid = run_now(server, job)["run_id"]
    wait_task_running(server, rid, "b")
    for version in VERSIONS:
        assert server.ok("POST", f"/api/{version}/jobs/runs/cancel-all",
                         json={"all_queued_runs": True}) == {}
    assert life(get_run(server, rid)) == "RUNNING"
    gate.touch()
    assert result(wait_run(server, rid)) == "SUCCESS"


def test_cancel_all_of_an_unknown_job(server):
    body = server.error("POST", "/api/2.1/jobs/runs/cancel-all", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": 424242})
    assert body["message"] == "Job 424242 does not exist."


# --- delete ---------------------------------------------------------------------------------------

def test_runs_delete_active_refused_finished_gone_with_files(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    job = create_job(server, {"tasks": [block_task("b", gate), nb_task("after", OK_NB,
                                                                      depends_on=dep("b"))]})
    rid = run_now(server, job)["run_id"]
    wait_task_running(server, rid, "b")
    body = server.error("POST", "/api/2.1/jobs/runs/delete", 400, "INVALID_STATE",
                        json={"run_id": rid})
    assert str(rid) in body["message"] or "active" in body["message"].lower()
    assert life(get_run(server, rid)) == "RUNNING"  # nothing changed
    gate.touch()
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    task_ids = [t["run_id"] for t in run["tasks"]]
    for t in task_ids:
        assert attempt_dir(server, t).is_dir()
    assert server.ok("POST", "/api/2.1/jobs/runs/delete", json={"run_id": rid}) == {}
    for version in VERSIONS:
        body = server.error("GET", f"/api/{version}/jobs/runs/get", 400, "INVALID_PARAMETER_VALUE",
                            params={"run_id": rid})
        assert body["message"] == NO_RUN.format(rid)
        for t in task_ids:
            body = server.error("GET", f"/api/{version}/jobs/runs/get-output", 400,
                                "INVALID_PARAMETER_VALUE", params={"run_id": t})
            assert body["message"] == NO_RUN.format(t)
    for t in task_ids:
        assert not attempt_dir(server, t).exists()
    assert "runs" not in list_runs(server, job_id=job)
    # deleting it again: it does not exist
    body = server.error("POST", "/api/2.1/jobs/runs/delete", 400, "INVALID_PARAMETER_VALUE",
                        json={"run_id": rid})
    assert body["message"] == NO_RUN.format(rid)


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_run_id_everywhere(server, version):
    rid = 987654321
    for method, ep in (("GET", "get"), ("GET", "get-output"), ("POST", "cancel"),
                       ("POST", "delete")):
        kw = {"params": {"run_id": rid}} if method == "GET" else {"json": {"run_id": rid}}
        body = server.error(method, f"/api/{version}/jobs/runs/{ep}", 400,
                            "INVALID_PARAMETER_VALUE", **kw)
        assert body["message"] == NO_RUN.format(rid), (ep, body)


def test_run_now_of_an_unknown_job(server):
    body = server.error("POST", "/api/2.1/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": 0})
    assert body["message"] == "Job 0 does not exist."


@pytest.mark.parametrize("tasks,words", [
    ([nb_task("a", OK_NB, depends_on=dep("zz"))], ["depends_on", "zz"]),
    ([nb_task("a", OK_NB, depends_on=dep("b")), nb_task("b", OK_NB, depends_on=dep("a"))],
     ["cycle"]),
    ([nb_task("bad key!", OK_NB)], ["task_key"]),
    ([nb_task("a", OK_NB), nb_task("a", OK_NB)], ["task_key", "a"]),
    ([{"task_key": "a"}], ["tasks[0]"]),
    ([nb_task("a", OK_NB, job_cluster_key="jc")], ["job_cluster_key"]),
    ([], ["tasks"]),
])
def test_submit_validates_tasks_as_create_does(server, tasks, words):
    body = server.error("POST", "/api/2.1/jobs/runs/submit", 400, "INVALID_PARAMETER_VALUE",
                        json={"run_name": "bad", "tasks": tasks})
    for w in words:
        assert w in body["message"], (w, body)
    assert "runs" not in list_runs(server)  # nothing was started


# =====================================================================================
# 2. states and shapes
# =====================================================================================

def test_successful_job_run_shape(server):
    std_files(server)
    job = create_job(server, {
        "name": "shapes", "parameters": [{"name": "env", "default": "dev"},
                                         {"name": "n", "default": "1"}],
        "tasks": [nb_task("nb", ECHO_NB), nb_task("nb2", OK_NB, depends_on=dep("nb"))]})
    before = int(time.time() * 1000)
    rid = run_now(server, job, job_parameters={"env": "prod"})["run_id"]
    run = wait_run(server, rid)
    after = int(time.time() * 1000)
    assert_state_object(run)
    assert run["job_id"] == job and run["run_id"] == rid
    assert run["run_type"] == "JOB_RUN"
    assert run["trigger"] == "ONE_TIME"
    assert run["run_name"] == "shapes"
    assert run["creator_user_name"] == "admin"
    assert run["state"]["life_cycle_state"] == "TERMINATED"
    assert run["state"]["result_state"] == "SUCCESS"
    assert run["state"]["user_cancelled_or_timedout"] is False
    assert run["status"]["state"] == "TERMINATED"
    assert run["status"]["termination_details"]["code"] == "SUCCESS"
    assert run["status"]["termination_details"]["type"] == "SUCCESS"
    assert before <= run["start_time"] <= run["end_time"] <= after
    assert abs(run["run_duration"] - (run["end_time"] - run["start_time"])) <= 2
    assert run["run_page_url"].endswith(f"/#/runs/{rid}")
    assert run["run_page_url"].startswith(server.url)
    params = sorted(run["job_parameters"], key=lambda p: p["name"])
    assert params == [{"name": "env", "default": "dev", "value": "prod"},
                      {"name": "n", "default": "1", "value": "1"}]
    ts = tasks_by_key(run)
    assert set(ts) == {"nb", "nb2"}
    for key, t in ts.items():
        assert_state_object(t, key)
        assert result(t) == "SUCCESS"
        assert t["status"]["termination_details"]["code"] == "SUCCESS"
        assert t["run_id"] != rid
        assert t["attempt_number"] == 0
        assert run["start_time"] <= t["start_time"] <= t["end_time"] <= run["end_time"]
        assert t["run_page_url"].endswith(f"/#/runs/{t['run_id']}")
        total = t["setup_duration"] + t["execution_duration"] + t["cleanup_duration"]
        assert 0 < total <= t["end_time"] - t["start_time"] + 2
    assert ts["nb2"]["start_time"] >= ts["nb"]["end_time"]
    # the task run read by its own id, and its output's metadata
    t = get_run(server, ts["nb"]["run_id"])
    assert t["run_id"] == ts["nb"]["run_id"] and t["task_key"] == "nb"
    md = get_output(server, ts["nb"]["run_id"])["metadata"]
    assert md["job_id"] == job and md["run_id"] == ts["nb"]["run_id"]
    assert md["state"]["result_state"] == "SUCCESS"


def test_life_cycle_moves_forward_only(server):
    std_files(server)
    job = create_job(server, {"tasks": [nb_task("a", OK_NB), nb_task("b", OK_NB,
                                                                    depends_on=dep("a"))]})
    rid = run_now(server, job)["run_id"]
    run, seen = watch_run(server, rid)
    assert result(run) == "SUCCESS"
    assert seen[-1] == "TERMINATED"
    assert "RUNNING" in seen, seen
    # once terminal, it stays as it is
    assert get_run(server, rid) == run


def test_overriding_parameters_echoed(server):
    std_files(server)
    job = create_job(server, {"tasks": [nb_task("nb", ECHO_NB, {"a": "base"}),
                                        py_task("py", OK_PY, ["x"])]})
    rid = run_now(server, job, notebook_params={"a": "1", "b": "2"},
                  python_params=["p1", "p2"])["run_id"]
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    assert run["overriding_parameters"] == {"notebook_params": {"a": "1", "b": "2"},
                                            "python_params": ["p1", "p2"]}
    plain = run_instant(server, create_job(server, ok_job()))
    assert "overriding_parameters" not in plain


def test_submit_run_shape(server):
    std_files(server)
    rid = submit(server, {"run_name": "once", "tasks": [nb_task("a", OK_NB)]})
    run = wait_run(server, rid)
    assert run["run_type"] == "SUBMIT_RUN"
    assert run["trigger"] == "ONE_TIME"
    assert run["number_in_job"] == rid
    assert result(run) == "SUCCESS"
    assert run["run_page_url"].endswith(f"/#/runs/{rid}")


def test_failing_notebook(server):
    std_files(server)
    job = create_job(server, {"tasks": [nb_task("bad", FAIL_NB)]})
    rid = run_now(server, job)["run_id"]
    run = wait_run(server, rid)
    assert_state_object(run)
    assert run["state"]["life_cycle_state"] == "TERMINATED"
    assert result(run) == "FAILED"
    assert run["state"]["user_cancelled_or_timedout"] is False
    assert run["status"]["termination_details"]["code"] == "RUN_EXECUTION_ERROR"
    assert run["status"]["termination_details"]["type"] == "CLIENT_ERROR"
    t = task(run, "bad")
    assert result(t) == "FAILED"
    assert t["state"]["state_message"], t
    assert t["status"]["termination_details"]["code"] == "RUN_EXECUTION_ERROR"
    out = get_output(server, t["run_id"])
    assert "boom from the notebook" in out["error"]
    assert "ValueError" in out["error"]
    assert "Traceback" in out["error_trace"] or "ValueError" in out["error_trace"]
    assert "boom from the notebook" in out["error_trace"]
    assert out["metadata"]["state"]["result_state"] == "FAILED"


def test_failing_python_file(server):
    std_files(server)
    job = create_job(server, {"tasks": [py_task("bad", FAIL_PY)]})
    run = wait_run(server, run_now(server, job)["run_id"])
    assert result(run) == "FAILED"
    assert run["status"]["termination_details"]["code"] == "RUN_EXECUTION_ERROR"
    t = task(run, "bad")
    assert result(t) == "FAILED"
    msg = t["state"]["state_message"]
    assert "3" in msg, msg  # the exit code
    out = get_output(server, t["run_id"])
    assert "failing on purpose" in out["logs"]
    assert out["error"]


def test_python_file_uncaught_exception(server):
    std_files(server)
    pyfile(server, "/Users/admin@example.com/runs/raise.py",
           'def f():\n    raise KeyError("no such key")\nf()\n')
    rid = submit(server, {"tasks": [py_task("r", "/Users/admin@example.com/runs/raise.py")]})
    run = wait_run(server, rid)
    t = task(run, "r")
    assert result(t) == "FAILED"
    out = get_output(server, t["run_id"])
    assert "KeyError" in out["logs"] and "no such key" in out["logs"]
    assert "no such key" in out.get("error", "") + out.get("error_trace", "")


def test_spark_is_absent_and_the_error_says_so(server):
    notebook(server, "/Users/admin@example.com/spark", 'df = spark.range(3)')
    pyfile(server, "/Users/admin@example.com/uses_pyspark.py", 'from pyspark.sql import SparkSession\n')
    run = wait_run(server, submit(server, {"tasks": [
        nb_task("nb", "/Users/admin@example.com/spark"),
        py_task("py", "/Users/admin@example.com/uses_pyspark.py")]}))
    for key in ("nb", "py"):
        t = task(run, key)
        assert result(t) == "FAILED", t
        out = get_output(server, t["run_id"])
        text = out.get("error", "") + out.get("error_trace", "") + out.get("logs", "")
        assert "Spark" in text or "spark" in text.replace("spark.range", ""), (key, out)


def test_jupyter_notebook_runs_or_fails_clearly(server):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
          "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                     "outputs": [], "source": ['dbutils.notebook.exit("from jupyter")']}]}
    import base64
    server.ok("POST", "/api/2.0/workspace/mkdirs", json={"path": "/Users/admin@example.com"})
    server.ok("POST", "/api/2.0/workspace/import", json={
        "path": "/Users/admin@example.com/jnb", "format": "JUPYTER",
        "content": base64.b64encode(json.dumps(nb).encode()).decode()})
    run = wait_run(server, submit(server, {"tasks": [nb_task("j", "/Users/admin@example.com/jnb")]}))
    t = task(run, "j")
    import importlib.util
    have = all(importlib.util.find_spec(m) for m in ("nbclient", "ipykernel"))
    if have:
        assert result(t) == "SUCCESS", t
        assert get_output(server, t["run_id"])["notebook_output"]["result"] == "from jupyter"
    else:
        assert result(t) == "FAILED", t
        msg = t["state"]["state_message"] + get_output(server, t["run_id"]).get("error", "")
        assert "Jupyter" in msg or "nbclient" in msg or "ipykernel" in msg, t


def test_python_file_from_the_local_disk_only_when_allowed(make_server, tmp_path):
    local = tmp_path / "local.py"
    local.write_text('print("ran from the local disk")\n')
    for allowed in (False, True):
        server = make_server(f"data{int(allowed)}",
                             extra_args=["--allow-local-files", "1" if allowed else "0"]).start()
        run = wait_run(server, submit(server, {"tasks": [py_task("p", str(local))]}))
        t = task(run, "p")
        if allowed:
            assert result(t) == "SUCCESS", t
            assert "ran from the local disk" in get_output(server, t["run_id"])["logs"]
        else:
            assert result(t) == "FAILED", t
            assert str(local) in t["state"]["state_message"], t
        server.stop()


def test_notebook_source_format_and_ways_to_end(server):
    """MAGIC markdown cells and titles are not code; exit() ends the notebook
    even inside try/except Exception; sys.exit(0) succeeds, sys.exit(1) fails."""
    notebook(server, "/Users/admin@example.com/fmt/md",
             "# MAGIC %md\n# MAGIC # A title\n# MAGIC Some *text*",
             "# DBTITLE 1,Compute\nx = 20 + 1",
             "try:\n    dbutils.notebook.exit(str(x * 2))\nexcept Exception:\n    pass\n"
             "raise RuntimeError('not reached')")
    notebook(server, "/Users/admin@example.com/fmt/exit0", "import sys\nsys.exit(0)",
             "raise RuntimeError('not reached')")
    notebook(server, "/Users/admin@example.com/fmt/exit1", "import sys\nsys.exit(1)")
    run = wait_run(server, submit(server, {"tasks": [
        nb_task("md", "/Users/admin@example.com/fmt/md"),
        nb_task("exit0", "/Users/admin@example.com/fmt/exit0"),
        nb_task("exit1", "/Users/admin@example.com/fmt/exit1")]}))
    ts = tasks_by_key(run)
    assert result(ts["md"]) == "SUCCESS", ts["md"]
    assert get_output(server, ts["md"]["run_id"])["notebook_output"]["result"] == "42"
    assert result(ts["exit0"]) == "SUCCESS", ts["exit0"]
    assert result(ts["exit1"]) == "FAILED", ts["exit1"]


def test_a_disabled_task_is_not_run(server):
    std_files(server)
    run = wait_run(server, submit(server, {"tasks": [
        nb_task("on", OK_NB), nb_task("off", OK_NB, disabled=True)]}))
    ts = tasks_by_key(run)
    assert result(ts["on"]) == "SUCCESS"
    assert result(ts["off"]) == "DISABLED", ts["off"]
    assert life(ts["off"]) in TERMINAL
    assert not (attempt_dir(server, ts["off"]["run_id"]) / "supervisor").exists()


def test_missing_notebook_fails_the_task_clearly(server):
    rid = submit(server, {"tasks": [nb_task("n", "/Users/nobody/missing")]})
    run = wait_run(server, rid)
    t = task(run, "n")
    assert result(t) == "FAILED"
    assert "/Users/nobody/missing" in t["state"]["state_message"]


# =====================================================================================
# 7. output
# =====================================================================================

def test_notebook_exit_value_over_5_mb_is_truncated(server):
    big = 5 * 1024 * 1024 + 1000
    notebook(server, "/Users/admin@example.com/big", f'dbutils.notebook.exit("x" * {big})')
    notebook(server, "/Users/admin@example.com/small", 'dbutils.notebook.exit("é" * 10)')
    rid = submit(server, {"tasks": [nb_task("big", "/Users/admin@example.com/big"),
                                    nb_task("small", "/Users/admin@example.com/small")]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    out = get_output(server, task(run, "big")["run_id"])["notebook_output"]
    assert out["truncated"] is True
    assert len(out["result"]) in (5 * 1024 * 1024, 5_000_000)
    assert set(out["result"]) == {"x"}
    out = get_output(server, task(run, "small")["run_id"])["notebook_output"]
    assert out == {"result": "é" * 10, "truncated": False} or out == {"result": "é" * 10}


def test_truncation_never_cuts_a_character_in_two(server):
    # 2.7 M two-byte characters: 5.4 MB of UTF-8
    notebook(server, "/Users/admin@example.com/wide", 'dbutils.notebook.exit("é" * 2_700_000)')
    run = wait_run(server, submit(server, {"tasks": [nb_task("w", "/Users/admin@example.com/wide")]}))
    out = get_output(server, task(run, "w")["run_id"])["notebook_output"]  # valid JSON
    assert out["truncated"] is True
    assert set(out["result"]) == {"é"}
    assert len(out["result"].encode()) <= 5 * 1024 * 1024
    assert len(out["result"]) >= 2_400_000


def test_notebook_without_exit_has_an_empty_result(server):
    notebook(server, "/Users/admin@example.com/quiet", 'x = 1\nprint("hello")')
    rid = submit(server, {"tasks": [nb_task("q", "/Users/admin@example.com/quiet")]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    out = get_output(server, task(run, "q")["run_id"])
    assert "notebook_output" in out
    assert out["notebook_output"].get("result", "") == ""
    assert "logs" not in out  # not for notebook tasks
    assert "error" not in out


def test_python_logs_survive_a_restart(server):
    path = pyfile(server, "/Users/admin@example.com/logs.py",
                  'import sys\nprint("to stdout", sys.argv[1:])\n'
                  'print("to stderr", file=sys.stderr)\n')
    notebook(server, "/Users/admin@example.com/nb", 'dbutils.notebook.exit("kept")')
    rid = submit(server, {"tasks": [py_task("py", path, ["a", "b"]),
                                    nb_task("nb", "/Users/admin@example.com/nb")]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    py_id, nb_id = task(run, "py")["run_id"], task(run, "nb")["run_id"]
    out = get_output(server, py_id)
    assert "to stdout ['a', 'b']" in out["logs"]
    assert "to stderr" in out["logs"]
    assert out["logs_truncated"] is False
    assert "notebook_output" not in out
    server.restart()
    again = get_output(server, py_id)
    assert again["logs"] == out["logs"]
    assert get_output(server, nb_id)["notebook_output"]["result"] == "kept"
    assert result(get_run(server, rid)) == "SUCCESS"


def test_python_logs_over_5_mb_are_truncated(server):
    path = pyfile(server, "/Users/admin@example.com/loud.py",
                  'import sys\nsys.stdout.write("y" * (6 * 1024 * 1024))\n')
    rid = submit(server, {"tasks": [py_task("loud", path)]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    out = get_output(server, task(run, "loud")["run_id"])
    assert out["logs_truncated"] is True
    assert 0 < len(out["logs"]) <= 5 * 1024 * 1024
    assert set(out["logs"]) <= {"y", "\n"}


# =====================================================================================
# tasks outlive jobsd (restart-safety proper is issue 4)
# =====================================================================================

def test_a_task_keeps_running_when_jobsd_is_killed(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    job = create_job(server, {"tasks": [py_task("p", BLOCK_PY, [str(gate)])]})
    rid = run_now(server, job)["run_id"]
    t = wait_task_running(server, rid, "p")
    tpid, spid = task_pid(server, t["run_id"]), supervisor_pid(server, t["run_id"])
    assert pid_alive(tpid) and pid_alive(spid)
    server.kill()
    time.sleep(0.2)  # let a wrongly linked task die, if it were going to
    assert pid_alive(spid), "the supervisor died with jobsd"
    assert pid_alive(tpid), "the task died with jobsd"
    gate.touch()
    wait_until(lambda: not pid_alive(tpid), 10, what="the task to finish")
    status = wait_until(lambda: (attempt_dir(server, t["run_id"]) / "status").exists(), 10,
                        what="the supervisor's status file")
    assert status


def test_a_run_exists_after_jobsd_is_killed_right_after_answering(server):
    """200 means durable (ARCHITECTURE invariant 1): SIGKILL at once after
    run-now and submit answer, then start again on the same data."""
    std_files(server)
    job = create_job(server, {"tasks": [nb_task("a", OK_NB)]})
    rid = run_now(server, job)["run_id"]
    sid = submit(server, {"tasks": [nb_task("a", OK_NB)]})
    server.kill()
    server.start()
    for r in (rid, sid):
        run = wait_run(server, r)
        assert run["run_id"] == r
        assert life(run) in TERMINAL


def test_a_run_ends_success_after_jobsd_is_killed_and_restarted(server, tmp_path):
    std_files(server)
    gate = tmp_path / "gate"
    job = create_job(server, {"tasks": [py_task("p", BLOCK_PY, [str(gate)]),
                                        nb_task("after", OK_NB, depends_on=dep("p"))]})
    rid = run_now(server, job)["run_id"]
    t = wait_task_running(server, rid, "p")
    server.kill()
    server.start()
    assert life(get_run(server, rid)) in ("RUNNING", "PENDING")
    gate.touch()
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS", run
    assert result(task(run, "p")) == "SUCCESS"
    assert result(task(run, "after")) == "SUCCESS"
    assert task(run, "p")["run_id"] == t["run_id"]  # re-attached, not re-run
    # its full output, written across the restart, is there
    logs = get_output(server, t["run_id"])["logs"]
    assert logs.startswith("task pid ") and logs.count("task pid") == 1
