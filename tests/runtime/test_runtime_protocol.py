"""The protocol around the task: bad contexts, isolation, internal failures,
SIGTERM."""
import json
import os
import shutil
import signal
import subprocess

from rt_helpers import ENTRY, PYTHON, RUNTIME, source_notebook


def _bad(attempt, ctx, words):
    r = attempt.run_context(ctx)
    assert r.rc == 2, r
    assert r.error["error"].startswith("jobsd runtime: bad context file "), r.error
    assert words in r.error["error"], r.error
    assert words in r.stderr
    return r


def test_bad_contexts(attempt):
    nb = str(attempt.write("nb.py", "# Databricks notebook source\nprint(1)\n"))
    good = attempt.context(kind="notebook", path=nb)
    _bad(attempt, b"{not json", "not valid JSON")
    _bad(attempt, b"\xff\xfe", "not UTF-8")
    _bad(attempt, b"[1, 2]", "not a JSON object")
    _bad(attempt, dict(good, kind="wheel"), "\"kind\" must be one of notebook, python_file")
    _bad(attempt, {k: v for k, v in good.items() if k != "path"}, "\"path\" must be")
    _bad(attempt, dict(good, path="relative.py"), "absolute path")
    _bad(attempt, dict(good, output_dir=str(attempt.dir / "nope")), "not an existing folder")
    _bad(attempt, dict(good, widgets={"a": 1}), "widget 'a' must have a string value")
    _bad(attempt, dict(good, widgets=["a"]), "\"widgets\" must be an object")
    _bad(attempt, dict(good, argv="a b"), "\"argv\" must be an array")
    _bad(attempt, dict(good, task_values={"t": 1}), "task_values['t'] must be an object")
    _bad(attempt, dict(good, format="HTML"), "\"format\" must be one of SOURCE, JUPYTER")
    _bad(attempt, dict(good, job_run_id="4"), "\"job_run_id\" must be an integer")
    _bad(attempt, dict(good, sys_path=["rel"]), "sys_path[0] must be an absolute path")
    # None of these ran the notebook.
    assert not (attempt.dir / "cells.json").exists()


def test_missing_context_file_and_usage(attempt):
    r = attempt.run_entry([str(attempt.dir / "absent.json")])
    assert r.rc == 2
    assert "cannot read it" in r.stderr
    assert r.error["error"].startswith("jobsd runtime: bad context file")
    r = attempt.run_entry([])
    assert r.rc == 2 and "usage:" in r.stderr


def test_runs_from_any_cwd_with_isolation(attempt, tmp_path):
    nb = attempt.write("nb.py", source_notebook("dbutils.notebook.exit('iso')"))
    ctx = attempt.dir / "context.json"
    ctx.write_text(json.dumps(attempt.context(kind="notebook", path=str(nb))))
    env = dict(os.environ, PYTHONPATH="/nonexistent", PYTHONSAFEPATH="1")
    proc = subprocess.run([PYTHON, "-I", "-S", str(ENTRY), str(ctx)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc
    assert (attempt.dir / "exit_value").read_text() == "iso"


def test_runtime_leaves_no_bytecode_in_its_folder(attempt):
    cache = RUNTIME / "jobsd_runtime" / "__pycache__"
    before = set(os.listdir(cache)) if cache.exists() else set()
    r = attempt.notebook("print(1)")
    assert r.rc == 0
    after = set(os.listdir(cache)) if cache.exists() else set()
    assert after == before


def _run_patched(attempt, patch, ctx):
    """Runs the runtime's main() after `patch` (Python code) has run."""
    path = attempt.dir / "context.json"
    path.write_text(json.dumps(ctx))
    code = ("import sys; sys.path.insert(0, %r)\n"
            "sys.dont_write_bytecode = True\n"
            "import jobsd_runtime.main as m\n%s\n"
            "sys.exit(m.main([%r]))\n" % (str(RUNTIME), patch, str(path)))
    return attempt.run_entry(["-c", code], entry="")


def test_internal_failure_is_reported(attempt):
    nb = attempt.write("nb.py", source_notebook("print(1)"))
    r = _run_patched(attempt, "import jobsd_runtime.notebook as n\n"
                              "def boom(text): raise RuntimeError('parser exploded')\n"
                              "n.parse_source = boom",
                     attempt.context(kind="notebook", path=str(nb)))
    assert r.rc == 1, r
    assert r.error["error"] == "jobsd runtime: internal error: RuntimeError: parser exploded"
    assert "parse_source" in r.error["error_trace"] or "boom" in r.error["error_trace"]
    assert "parser exploded" in r.stderr


def test_output_write_failure_is_reported(attempt):
    nb = attempt.write("nb.py", source_notebook("dbutils.jobs.taskValues.set('k', 1)"))
    r = _run_patched(attempt, "import jobsd_runtime.outputs as o\n"
                              "real = o.write_atomic\n"
                              "def fail(folder, name, data, durable=True):\n"
                              "    if name == 'task_values.json':\n"
                              "        raise o.OutputError('cannot write %s: No space left on "
                              "device' % name)\n"
                              "    return real(folder, name, data, durable)\n"
                              "o.write_atomic = fail",
                     attempt.context(kind="notebook", path=str(nb)))
    assert r.rc == 1, r
    # The user's cell saw an exception (it is raised from taskValues.set).
    assert "No space left on device" in r.error["error"]


def test_sigterm_records_what_ran_and_dies_by_the_signal(attempt):
    nb = attempt.write("nb.py", source_notebook(
        "print('first cell')",
        "import sys, time\nprint('ready', flush=True)\ntime.sleep(30)",
        "print('never')"))
    ctx = attempt.dir / "context.json"
    ctx.write_text(json.dumps(attempt.context(kind="notebook", path=str(nb))))
    proc = subprocess.Popen([PYTHON, "-I", str(ENTRY), str(ctx)], cwd=attempt.dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("ready"):
                break
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGTERM
    cells = json.loads((attempt.dir / "cells.json").read_text())
    assert cells[0]["output"] == "first cell\n"
    assert cells[1]["output"] == "ready\n"
    assert "Terminated: the task received SIGTERM" in cells[1]["error"]
    assert cells[2]["skipped"] is True
    err = json.loads((attempt.dir / "error.json").read_text())
    assert err["error"] == ("Terminated: the task received SIGTERM: jobsd canceled it or it "
                            "timed out")


def test_entry_without_its_package_still_reports(attempt, tmp_path):
    lone = tmp_path / "lonely"
    lone.mkdir()
    shutil.copy(ENTRY, lone / "jobsd_task.py")
    ctx = attempt.dir / "context.json"
    ctx.write_text(json.dumps(attempt.context(kind="notebook", path="/x.py")))
    r = attempt.run_entry([str(ctx)], entry=lone / "jobsd_task.py")
    assert r.rc == 1, r
    assert r.error["error"].startswith("jobsd runtime: cannot load the runtime package from %s"
                                       % lone)
    assert "ModuleNotFoundError" in r.stderr
