"""Jupyter (.ipynb) notebooks through nbclient and an ipykernel kernel.

The kernel tests need the Debian packages python3-nbclient, python3-nbformat
and python3-ipykernel (scripts/install-deps.sh --test); without them they are
skipped and only the "missing packages" error is checked.
"""
import json
import subprocess

import pytest

from rt_helpers import ENTRY, PYTHON, Attempt, Result


def _have_jupyter():
    code = ("import nbclient, nbformat, ipykernel\n"
            "from jupyter_client.kernelspec import KernelSpecManager\n"
            "KernelSpecManager().get_kernel_spec('python3')\n")
    try:
        return subprocess.run([PYTHON, "-c", code], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


HAVE_JUPYTER = _have_jupyter()
SKIP_REASON = ("nbclient/nbformat/ipykernel with a python3 kernel are not installed for "
               "/usr/bin/python3 (Debian: python3-nbclient python3-nbformat python3-ipykernel)")


def code(src):
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": src}


def md(src):
    return {"cell_type": "markdown", "metadata": {}, "source": src}


def ipynb_context(attempt, cells, **ctx):
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 4,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}}}
    p = attempt.write("ws/Users/a@b.c/nb.ipynb", json.dumps(nb))
    c = attempt.context(kind="notebook", path=str(p), workspace_path="/Users/a@b.c/nb",
                        format="JUPYTER", language="PYTHON")
    c.update(ctx)
    path = attempt.dir / "context.json"
    path.write_text(json.dumps(c))
    return path


SUCCESS = [
    code("import json, sys\nk = dbutils.widgets.get('key')\nprint('k =', k)\n"
         "print('warn', file=sys.stderr)"),
    md("# A title"),
    code("%sh\necho from sh"),
    code("%md\nmarkdown in a code cell"),
    code("display([1, 2])\ndisplayHTML('<b>b</b>')\n6 * 7"),
    code("dbutils.jobs.taskValues.set('up', dbutils.jobs.taskValues.get('prev', 'n') + 1)"),
    code("try:\n    dbutils.notebook.exit(json.dumps({'k': k}))\n"
         "except Exception:\n    print('swallowed')"),
    code("print('never')"),
]

FAILURE = [
    code("print('first')"),
    code("def f():\n    return spark.range(1)\nf()"),
    code("print('never')"),
]


@pytest.fixture(scope="module")
def kernel_runs(tmp_path_factory):
    """Both notebooks run at once: a kernel takes about a second to start, and
    the suite must stay fast."""
    if not HAVE_JUPYTER:
        pytest.skip(SKIP_REASON)
    runs = {}
    for name, cells, extra in (("success", SUCCESS, {"widgets": {"key": "kv"},
                                                      "task_values": {"prev": {"n": 1}}}),
                               ("failure", FAILURE, {})):
        folder = tmp_path_factory.mktemp(name)
        attempt = Attempt(folder)
        ctx = ipynb_context(attempt, cells, **extra)
        proc = subprocess.Popen([PYTHON, "-I", str(ENTRY), str(ctx)], cwd=folder, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        runs[name] = (attempt, proc)
    results = {}
    for name, (attempt, proc) in runs.items():
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        results[name] = Result(done, attempt.dir)
    return results


def test_missing_packages_are_named(attempt):
    """With nbclient and ipykernel hidden, the task fails saying what to install."""
    nb = {"cells": [code("print(1)")], "nbformat": 4, "nbformat_minor": 4, "metadata": {}}
    p = attempt.write("nb.ipynb", json.dumps(nb))
    ctx = attempt.dir / "context.json"
    ctx.write_text(json.dumps(attempt.context(kind="notebook", path=str(p), format="JUPYTER")))
    blocker = (
        "import sys, runpy\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('nbclient', 'ipykernel'):\n"
        "            raise ModuleNotFoundError('No module named ' + repr(name), name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "sys.argv = [%r, %r]\n"
        "runpy.run_path(%r, run_name='__main__')\n" % (str(ENTRY), str(ctx), str(ENTRY)))
    r = attempt.run_entry(["-c", blocker], entry="")
    assert r.rc == 1, r
    err = r.error["error"]
    assert err.startswith("Jupyter notebooks need the Python modules nbclient, ipykernel, "
                          "which cannot be imported by "), err
    assert "install the Debian packages python3-nbclient python3-ipykernel" in err
    assert err in r.stderr
    assert r.cells is None


def test_jupyter_notebook_runs_with_dbutils(kernel_runs):
    r = kernel_runs["success"]
    assert r.rc == 0, r
    assert r.exit_value == '{"k": "kv"}'
    assert r.task_values == {"up": 2}
    assert r.error is None
    cells = r.cells
    assert [(c["kind"], c["skipped"]) for c in cells] == [
        ("code", False), ("markdown", False), ("magic", False), ("markdown", False),
        ("code", False), ("code", False), ("code", False), ("code", True)]
    assert cells[0]["output"] == "k = kv\nwarn\n"
    assert cells[2]["output"] == "from sh\n"
    assert cells[3]["source"] == "markdown in a code cell"
    assert cells[4]["output"] == "[1, 2]\n<b>b</b>\n42\n"
    assert cells[6]["output"] == ""
    assert "k = kv" in r.stdout and "warn" in r.stderr and "never" not in r.stdout
    assert r.leftovers() == []  # the kernel's scratch folder is gone too


def test_jupyter_errors(kernel_runs):
    r = kernel_runs["failure"]
    assert r.rc == 1, r
    assert r.error["error"] == (
        "NameError: name 'spark' is not defined. jobsd runs notebooks with plain Python: "
        "there is no Spark session (spark, sc, sqlContext)")
    trace = r.error["error_trace"]
    assert "\x1b[" not in trace  # no terminal colours
    assert "spark.range(1)" in trace
    assert r.cells[1]["error"] == trace
    assert r.cells[0]["output"] == "first\n"
    assert r.cells[2]["skipped"] is True


def test_reply_mapping():
    """How kernel replies become error.json and exit statuses (pure)."""
    import sys
    import rt_helpers  # noqa: F401 - runtime/ on sys.path
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    from jobsd_runtime import jupyter
    sys.dont_write_bytecode = saved
    err, trace = jupyter._error_from_reply({
        "ename": "NameError", "evalue": "name 'sc' is not defined",
        "traceback": ["\x1b[0;31mNameError\x1b[0m  Traceback",
                      "NameError: name 'sc' is not defined"]})
    assert err.startswith("NameError: name 'sc' is not defined. jobsd runs notebooks")
    assert trace == "NameError  Traceback\n" + err + "\n"
    err, trace = jupyter._error_from_reply({"ename": "SystemExit", "evalue": "4"})
    assert (err, trace) == ("SystemExit: 4", "SystemExit: 4\n")
    assert [jupyter._exit_code(v) for v in ("", "None", "0", "False", "True", "4", "x")] == \
        [0, 0, 0, 0, 1, 4, 1]
    cell = jupyter._classify(3, {"cell_type": "code", "source": ["\n", "%sql\n", "SELECT 1"]})
    assert (cell.kind, cell.magic) == ("magic", "sql")
    cell = jupyter._classify(1, {"cell_type": "code", "source": "%timeit 1+1"})
    assert (cell.kind, cell.magic) == ("code", None)  # IPython's own magics go to the kernel
    cell = jupyter._classify(1, {"cell_type": "raw", "source": "raw text"})
    assert cell.kind == "markdown"
