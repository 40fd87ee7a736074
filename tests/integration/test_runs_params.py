"""Task kinds and parameters of runs (issue 3, items 4 and 5) against a real
jobsd: notebook widgets and base_parameters merged with notebook_params,
task values between tasks, Python files and their argv, kinds this
installation cannot run, compute fields, run_job_task, job parameters,
dynamic value references and the run-now parameter rules."""
import datetime
import json

import pytest

from test_runs_helpers import (  # noqa: F401  (reap_tasks is an autouse fixture)
    ECHO_NB, FAIL_NB, OK_NB, OK_PY, TERMINAL, attempt_dir, block_task, cancel, cond_task,
    create_job, dep, get_output, get_run, life, nb_task, notebook, py_task, pyfile, reap_tasks,
    result, run_now, std_files, submit, task, tasks_by_key, wait_run, wait_task_running,
    wait_until)

WIDGETS_NB = "/Users/admin@example.com/params/widgets"
ARGV_PY = "/Users/admin@example.com/params/argv.py"


def nb_result(server, run, key):
    out = get_output(server, task(run, key)["run_id"])
    assert "error" not in out, out
    return json.loads(out["notebook_output"]["result"])


def argv_of(server, run, key):
    """The argv printed by ARGV_PY (one JSON line in the logs)."""
    logs = get_output(server, task(run, key)["run_id"])["logs"]
    line = next(x for x in logs.splitlines() if x.startswith("ARGV "))
    return json.loads(line[5:])


# =====================================================================================
# 4. task kinds
# =====================================================================================

def test_notebook_widgets_base_parameters_merged_with_notebook_params(server):
    notebook(server, WIDGETS_NB,
             'dbutils.widgets.text("a", "default_a")\n'
             'dbutils.widgets.dropdown("b", "x", ["x", "y", "z"])\n'
             'dbutils.widgets.text("c", "default_c")\n'
             'dbutils.widgets.combobox("e", "e1", ["e1", "e2"])\n'
             'dbutils.widgets.multiselect("f", "f1", ["f1", "f2", "f3"])',
             'import json\n'
             'dbutils.notebook.exit(json.dumps({k: dbutils.widgets.getArgument(k, "unset")\n'
             '                                  for k in "abcdef"}))')
    job = create_job(server, {"max_concurrent_runs": 5, "tasks": [
        nb_task("w", WIDGETS_NB, {"a": "base_a", "b": "y"})]})
    run = wait_run(server, run_now(server, job)["run_id"])
    assert nb_result(server, run, "w") == {"a": "base_a", "b": "y", "c": "default_c",
                                           "d": "unset", "e": "e1", "f": "f1"}
    run = wait_run(server, run_now(server, job, notebook_params={
        "b": "z", "d": "run_d", "e": "free text", "f": "f2,f3"})["run_id"])
    assert nb_result(server, run, "w") == {"a": "base_a", "b": "z", "c": "default_c",
                                           "d": "run_d", "e": "free text", "f": "f2,f3"}
    # the task's settings on the run are those of the job
    assert task(run, "w")["notebook_task"]["base_parameters"] == {"a": "base_a", "b": "y"}


def test_undefined_widget_fails_the_notebook(server):
    notebook(server, WIDGETS_NB, 'dbutils.widgets.get("nothing")')
    run = wait_run(server, submit(server, {"tasks": [nb_task("w", WIDGETS_NB)]}))
    out = get_output(server, task(run, "w")["run_id"])
    assert result(run) == "FAILED"
    assert "InputWidgetNotDefined" in out["error"] and "nothing" in out["error"]


def test_task_values_flow_downstream(server):
    notebook(server, "/Users/admin@example.com/tv/set",
             'dbutils.jobs.taskValues.set("n", 42)\n'
             'dbutils.jobs.taskValues.set("obj", {"k": [1, 2], "s": "é"})\n'
             'dbutils.jobs.taskValues.set(key="s", value="text")')
    notebook(server, "/Users/admin@example.com/tv/get",
             'import json\n'
             'tv = dbutils.jobs.taskValues\n'
             'dbutils.notebook.exit(json.dumps({\n'
             '    "n": tv.get("producer", "n"),\n'
             '    "obj": tv.get(taskKey="producer", key="obj"),\n'
             '    "missing": tv.get("producer", "nope", default="dflt"),\n'
             '    "n_ref": dbutils.widgets.get("n_ref"),\n'
             '    "s_ref": dbutils.widgets.get("s_ref"),\n'
             '    "obj_ref": dbutils.widgets.get("obj_ref"),\n'
             '}))')
    rid = submit(server, {"tasks": [
        nb_task("producer", "/Users/admin@example.com/tv/set"),
        nb_task("consumer", "/Users/admin@example.com/tv/get",
                {"n_ref": "{{tasks.producer.values.n}}", "s_ref": "{{tasks.producer.values.s}}",
                 "obj_ref": "{{tasks.producer.values.obj}}"}, depends_on=dep("producer")),
        cond_task("big", "{{tasks.producer.values.n}}", "GREATER_THAN", "40",
                  depends_on=dep("producer")),
    ]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS", run
    got = nb_result(server, run, "consumer")
    assert got["n"] == 42
    assert got["obj"] == {"k": [1, 2], "s": "é"}
    assert got["missing"] == "dflt"
    assert got["n_ref"] == "42"
    assert got["s_ref"] == "text"
    assert json.loads(got["obj_ref"]) == {"k": [1, 2], "s": "é"}
    assert task(run, "big")["condition_task"]["outcome"] == "true"
    # kept in the producer's attempt folder
    values = json.loads((attempt_dir(server, task(run, "producer")["run_id"]) /
                         "task_values.json").read_text())
    assert values["n"] == 42


def test_task_value_over_48_kib_fails_the_task(server):
    notebook(server, "/Users/admin@example.com/tv/big",
             'dbutils.jobs.taskValues.set("big", "x" * (48 * 1024))')
    run = wait_run(server, submit(server, {"tasks": [nb_task("big", "/Users/admin@example.com/tv/big")]}))
    assert result(run) == "FAILED"
    assert "48" in get_output(server, task(run, "big")["run_id"])["error"]


def test_python_file_parameters_and_python_params(server):
    pyfile(server, ARGV_PY, 'import json, sys\nprint("ARGV " + json.dumps(sys.argv[1:]))\n')
    job = create_job(server, {"max_concurrent_runs": 5,
                              "tasks": [py_task("p", ARGV_PY, ["--a", "1", "two words"])]})
    run = wait_run(server, run_now(server, job)["run_id"])
    assert result(run) == "SUCCESS"
    assert argv_of(server, run, "p") == ["--a", "1", "two words"]
    # python_params replace the task's parameters
    run = wait_run(server, run_now(server, job, python_params=["x", "y"])["run_id"])
    assert argv_of(server, run, "p") == ["x", "y"]
    run = wait_run(server, run_now(server, job, python_params=[])["run_id"])
    assert argv_of(server, run, "p") in ([], ["--a", "1", "two words"])
    # the 2.0 single-task shape through runs/submit
    rid = submit(server, {"run_name": "py", "spark_python_task": {
        "python_file": ARGV_PY, "parameters": ["only"]}}, "2.0")
    run = wait_run(server, rid, "2.0")
    assert result(run) == "SUCCESS"
    out = get_output(server, rid, "2.0")
    assert 'ARGV ["only"]' in out["logs"]


def test_python_file_task_values_reach_a_notebook(server):
    pyfile(server, "/Users/admin@example.com/params/dbu.py",
           'import sys\nprint("arg", sys.argv[1])\n'
           'dbutils.jobs.taskValues.set("from_py", sys.argv[1])\n')
    notebook(server, "/Users/admin@example.com/params/read",
             'dbutils.notebook.exit(dbutils.jobs.taskValues.get("py", "from_py"))')
    run = wait_run(server, submit(server, {"tasks": [
        py_task("py", "/Users/admin@example.com/params/dbu.py", ["hello"]),
        nb_task("nb", "/Users/admin@example.com/params/read", depends_on=dep("py"))]}))
    assert result(run) == "SUCCESS", run
    assert get_output(server, task(run, "nb")["run_id"])["notebook_output"]["result"] == "hello"


UNSUPPORTED = {
    "spark_jar_task": {"main_class_name": "com.example.Main", "parameters": ["a"]},
    "spark_submit_task": {"parameters": ["--class", "com.example.Main", "x.jar"]},
    "pipeline_task": {"pipeline_id": "0000-pipeline"},
}


@pytest.mark.parametrize("kind", sorted(UNSUPPORTED))
def test_a_kind_this_installation_cannot_run_fails_naming_it(server, kind):
    std_files(server)
    job = create_job(server, {"tasks": [{"task_key": "k", kind: UNSUPPORTED[kind]},
                                        nb_task("after", OK_NB, depends_on=dep("k"))]})
    run = wait_run(server, run_now(server, job)["run_id"])
    t = task(run, "k")
    assert life(t) in TERMINAL
    assert result(t) == "FAILED", t  # never pretending success
    assert kind in t["state"]["state_message"], t
    assert result(task(run, "after")) == "UPSTREAM_FAILED"
    assert result(run) == "FAILED"
    assert kind in get_output(server, t["run_id"]).get("error", ""), t


def test_compute_fields_are_accepted_recorded_and_the_tasks_run(server):
    std_files(server)
    new_cluster = {"spark_version": "13.3.x-scala2.12", "node_type_id": "i3.xlarge",
                   "num_workers": 2, "spark_conf": {"spark.speculation": "true"}}
    libraries = [{"pypi": {"package": "nothing-to-install-here"}}]
    job = create_job(server, {
        "job_clusters": [{"job_cluster_key": "shared", "new_cluster": new_cluster}],
        "environments": [{"environment_key": "env", "spec": {"client": "1"}}],
        "tasks": [
            nb_task("existing", OK_NB, existing_cluster_id="0923-164208-meows279",
                    libraries=libraries),
            nb_task("new", OK_NB, new_cluster=new_cluster),
            nb_task("jc", OK_NB, job_cluster_key="shared"),
            py_task("serverless", OK_PY, environment_key="env"),
            nb_task("none", OK_NB),
        ]})
    run = wait_run(server, run_now(server, job)["run_id"])
    assert result(run) == "SUCCESS", run
    ts = tasks_by_key(run)
    for t in ts.values():
        assert result(t) == "SUCCESS", t
        assert t["cluster_instance"]["cluster_id"], t
    spec = ts["existing"]["cluster_spec"]
    assert spec["existing_cluster_id"] == "0923-164208-meows279"
    assert spec["libraries"] == libraries
    assert ts["new"]["cluster_spec"]["new_cluster"] == new_cluster
    assert ts["jc"]["cluster_spec"]["job_cluster_key"] == "shared"
    assert ts["serverless"]["environment_key"] == "env"
    # a submit run may name clusters too (no job_clusters there)
    rid = submit(server, {"tasks": [nb_task("n", OK_NB, new_cluster=new_cluster)]})
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS"
    assert task(run, "n")["cluster_spec"]["new_cluster"] == new_cluster


def test_run_job_task(server):
    std_files(server)
    child = create_job(server, {"name": "child",
                                "parameters": [{"name": "p", "default": "d"},
                                               {"name": "q", "default": "dq"}],
                                "tasks": [nb_task("echo", ECHO_NB)]})
    parent = create_job(server, {"name": "parent", "tasks": [
        {"task_key": "call", "run_job_task": {"job_id": child,
                                              "job_parameters": {"p": "from-parent"}}},
        nb_task("after", OK_NB, depends_on=dep("call"))]})
    rid = run_now(server, parent)["run_id"]
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS", run
    call = task(run, "call")
    assert result(call) == "SUCCESS"
    out = get_output(server, call["run_id"])
    child_rid = out["run_job_output"]["run_id"]
    child_run = get_run(server, child_rid)
    assert child_run["job_id"] == child
    assert child_run["trigger"] == "RUN_JOB_TASK"
    assert result(child_run) == "SUCCESS"
    params = {p["name"]: p for p in child_run["job_parameters"]}
    assert params["p"] == {"name": "p", "default": "d", "value": "from-parent"}
    assert params["q"]["value"] == "dq"
    assert nb_result(server, child_run, "echo") == {"p": "from-parent", "q": "dq"}
    # linked both ways: the child names the run job task run that started it
    assert child_run["trigger_info"]["run_id"] == call["run_id"]
    assert child_run["start_time"] >= call["start_time"]
    assert child_run["end_time"] <= call["end_time"]
    assert task(run, "after")["start_time"] >= child_run["end_time"]


def test_run_job_task_takes_the_child_result_and_cancel_reaches_the_child(server, tmp_path):
    std_files(server)
    failing = create_job(server, {"tasks": [nb_task("f", FAIL_NB)]})
    rid = submit(server, {"tasks": [{"task_key": "call", "run_job_task": {"job_id": failing}}]})
    run = wait_run(server, rid)
    assert result(task(run, "call")) == "FAILED"
    assert result(run) == "FAILED"
    child_rid = get_output(server, task(run, "call")["run_id"])["run_job_output"]["run_id"]
    assert result(get_run(server, child_rid)) == "FAILED"

    gate = tmp_path / "gate"
    blocking = create_job(server, {"tasks": [block_task("b", gate)]})
    rid = submit(server, {"tasks": [{"task_key": "call", "run_job_task": {"job_id": blocking}}]})

    def child_run_id():
        t = task(get_run(server, rid), "call")
        out = get_output(server, t["run_id"]) if t else {}
        return out.get("run_job_output", {}).get("run_id")

    child_rid = wait_until(child_run_id, what="the child run")
    wait_task_running(server, child_rid, "b")
    cancel(server, rid)
    run = wait_run(server, rid)
    assert result(run) == "CANCELED"
    assert result(task(run, "call")) == "CANCELED"
    assert result(wait_run(server, child_rid)) == "CANCELED"


def test_run_job_task_of_an_unknown_job_fails_clearly(server):
    """Refused at submit, or the task fails naming the job: never a success."""
    r = server.api("POST", "/api/2.1/jobs/runs/submit",
                   json={"tasks": [{"task_key": "c", "run_job_task": {"job_id": 777777}}]})
    if r.status_code == 400:
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "777777" in r.json()["message"]
        return
    assert r.status_code == 200, r.text
    run = wait_run(server, r.json()["run_id"])
    t = task(run, "c")
    assert result(t) == "FAILED", t
    assert "777777" in t["state"]["state_message"], t
    assert result(run) == "FAILED"


# =====================================================================================
# 5. parameters
# =====================================================================================

def test_job_parameters_defaults_overridden_and_seen_as_widgets(server):
    std_files(server)
    job = create_job(server, {"max_concurrent_runs": 5,
                              "parameters": [{"name": "env", "default": "dev"},
                                             {"name": "region", "default": "eu"}],
                              "tasks": [nb_task("echo", ECHO_NB, {"own": "x"})]})
    run = wait_run(server, run_now(server, job)["run_id"])
    assert nb_result(server, run, "echo") == {"env": "dev", "region": "eu", "own": "x"}
    assert sorted(run["job_parameters"], key=lambda p: p["name"]) == [
        {"name": "env", "default": "dev", "value": "dev"},
        {"name": "region", "default": "eu", "value": "eu"}]
    run = wait_run(server, run_now(server, job, job_parameters={"env": "prod"})["run_id"])
    assert nb_result(server, run, "echo") == {"env": "prod", "region": "eu", "own": "x"}
    assert {p["name"]: p["value"] for p in run["job_parameters"]} == {"env": "prod",
                                                                     "region": "eu"}


def test_dynamic_value_references_are_substituted(server):
    std_files(server)
    pyfile(server, ARGV_PY, 'import json, sys\nprint("ARGV " + json.dumps(sys.argv[1:]))\n')
    refs = {
        "job_id": "{{job.id}}",
        "run_id": "{{job.run_id}}",
        "job_name": "{{job.name}}",
        "task_name": "{{task.name}}",
        "task_run_id": "{{task.run_id}}",
        "px": "{{job.parameters.x}}",
        "dash": "{{job.parameters.`my-param`}}",
        "date": "{{job.start_time.iso_date}}",
        "trigger": "{{job.trigger.type}}",
        "mixed": "run-{{job.run_id}}-{{ task.name }}",
        "first_state": "{{tasks.first.result_state}}",
        "first_run": "{{tasks.first.run_id}}",
        "literal": "{{job.id",
    }
    job = create_job(server, {
        "name": "dyn job", "max_concurrent_runs": 5,
        "parameters": [{"name": "x", "default": "dx"}, {"name": "my-param", "default": "mp"}],
        "tasks": [nb_task("first", OK_NB),
                  nb_task("dyn", ECHO_NB, refs, depends_on=dep("first")),
                  py_task("py", ARGV_PY, ["{{job.run_id}}", "{{task.name}}", "{{job.parameters.x}}"]),
                  cond_task("cond", "{{job.parameters.x}}", "EQUAL_TO", "vx")]})
    rid = run_now(server, job, job_parameters={"x": "vx"})["run_id"]
    run = wait_run(server, rid)
    assert result(run) == "SUCCESS", run
    got = nb_result(server, run, "dyn")
    dyn = task(run, "dyn")
    start = datetime.datetime.fromtimestamp(run["start_time"] / 1000, datetime.timezone.utc)
    assert got["job_id"] == str(job)
    assert got["run_id"] == str(rid)
    assert got["job_name"] == "dyn job"
    assert got["task_name"] == "dyn"
    assert got["task_run_id"] == str(dyn["run_id"])
    assert got["px"] == "vx"
    assert got["dash"] == "mp"
    assert got["date"] == start.date().isoformat()
    assert got["trigger"] == "one_time"
    assert got["mixed"] == f"run-{rid}-dyn"
    assert got["first_state"].lower() == "success"
    assert got["first_run"] == str(task(run, "first")["run_id"])
    assert got["literal"] == "{{job.id"
    # job parameters are widgets too
    assert got["x"] == "vx" and got["my-param"] == "mp"
    assert argv_of(server, run, "py") == [str(rid), "py", "vx"]
    assert task(run, "cond")["condition_task"]["outcome"] == "true"


@pytest.mark.parametrize("ref", ["{{job.nope}}", "{{task.nope}}", "{{job.start_time.century}}"])
def test_unknown_reference_refused_at_create_and_submit(server, ref):
    tasks = [nb_task("n", OK_NB, {"a": f"x {ref} y"})]
    for version in ("2.1", "2.2"):
        body = server.error("POST", f"/api/{version}/jobs/create", 400, "INVALID_PARAMETER_VALUE",
                            json={"name": "bad", "tasks": tasks})
        assert ref.strip("{}") in body["message"], body
        body = server.error("POST", f"/api/{version}/jobs/runs/submit", 400,
                            "INVALID_PARAMETER_VALUE", json={"tasks": tasks})
        assert ref.strip("{}") in body["message"], body
    body = server.error("POST", "/api/2.1/jobs/runs/submit", 400, "INVALID_PARAMETER_VALUE",
                        json={"tasks": [cond_task("c", ref, "EQUAL_TO", "1")]})
    assert ref.strip("{}") in body["message"], body
    assert "jobs" not in server.ok("GET", "/api/2.1/jobs/list")
    assert "runs" not in server.ok("GET", "/api/2.1/jobs/runs/list")


def test_legacy_parameter_size_limit(server):
    std_files(server)
    job = create_job(server, {"max_concurrent_runs": 10,
                              "tasks": [nb_task("n", OK_NB), py_task("p", OK_PY)]})
    small = run_now(server, job, notebook_params={"k": "a" * 9900})["run_id"]
    body = server.error("POST", "/api/2.1/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": job, "notebook_params": {"k": "a" * 10100}})
    assert "notebook_params" in body["message"]
    body = server.error("POST", "/api/2.0/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": job, "python_params": ["a" * 5000, "b" * 5100]})
    assert "python_params" in body["message"]
    body = server.error("POST", "/api/2.2/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": job, "jar_params": ["a" * 10100]})
    assert "jar_params" in body["message"]
    wait_run(server, small)
    runs = server.ok("GET", "/api/2.1/jobs/runs/list", params={"job_id": job})["runs"]
    assert [r["run_id"] for r in runs] == [small]  # the refused ones started nothing


def test_jar_params_with_notebook_params_refused(server):
    job = create_job(server, {"tasks": [nb_task("n", OK_NB)]})
    for version in ("2.0", "2.1", "2.2"):
        body = server.error("POST", f"/api/{version}/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                            json={"job_id": job, "jar_params": ["a"],
                                  "notebook_params": {"b": "c"}})
        assert "jar_params" in body["message"] and "notebook_params" in body["message"]
    assert "runs" not in server.ok("GET", "/api/2.1/jobs/runs/list")


def test_python_params_must_be_ascii(server):
    job = create_job(server, {"tasks": [py_task("p", OK_PY)]})
    body = server.error("POST", "/api/2.1/jobs/run-now", 400, "INVALID_PARAMETER_VALUE",
                        json={"job_id": job, "python_params": ["héllo"]})
    assert "python_params" in body["message"]
