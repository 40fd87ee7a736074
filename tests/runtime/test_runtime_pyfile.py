"""spark_python_task files run as __main__."""
import pytest


def test_argv_main_and_builtins(attempt):
    r = attempt.pyfile('''
import sys
print(__name__, sys.argv[1:], sys.argv[0].endswith("job.py"))
print(type(dbutils).__name__, callable(display), callable(displayHTML))
def helper():
    return "works"
print(helper())
''', argv=["a", "b c", ""])
    assert r.rc == 0, r
    assert r.stdout.splitlines() == ["__main__ ['a', 'b c', ''] True", "DBUtils True True",
                                     "works"]
    assert r.error is None and r.exit_value is None
    assert r.cells is None  # no cells for Python files


@pytest.mark.parametrize("code,rc,error", [
    ("sys.exit()", 0, None),
    ("sys.exit(0)", 0, None),
    ("sys.exit(None)", 0, None),
    ("sys.exit(False)", 0, None),
    ("sys.exit(3)", 3, "SystemExit: 3"),
    ("sys.exit(2)", 1, "SystemExit: 2"),        # 2 is the runtime's "bad context"
    ("sys.exit(300)", 1, "SystemExit: 300"),
    ("sys.exit('fatal: no input')", 1, "SystemExit: fatal: no input"),
    ("raise SystemExit(7)", 7, "SystemExit: 7"),
])
def test_system_exit(attempt, code, rc, error):
    r = attempt.pyfile("import sys\nprint('start')\n%s\nprint('not reached')\n" % code)
    assert r.rc == rc, r
    assert "not reached" not in r.stdout
    if error is None:
        assert r.error is None
    else:
        assert r.error["error"] == error
        assert "SystemExit" in r.stderr


def test_uncaught_exception(attempt):
    r = attempt.pyfile('''
import json
def parse(s):
    return json.loads(s)
parse("{bad")
''')
    assert r.rc == 1
    assert r.error["error"].startswith("json.decoder.JSONDecodeError: Expecting property name")
    trace = r.error["error_trace"]
    assert trace.startswith("Traceback (most recent call last):\n  File \"%s\", line 5"
                            % (attempt.dir / "ws/Users/a@b.c/job.py"))
    assert "runpy" not in trace and "jobsd_runtime" not in trace
    assert trace in r.stderr


def test_notebook_exit_in_a_python_file(attempt):
    r = attempt.pyfile("dbutils.jobs.taskValues.set('k', [1])\n"
                       "dbutils.notebook.exit('done')\nprint('not reached')\n")
    assert r.rc == 0, r
    assert r.exit_value == "done"
    assert r.task_values == {"k": [1]}
    assert "not reached" not in r.stdout


def test_spark_name_error_in_a_python_file(attempt):
    r = attempt.pyfile("spark.read.csv('x')\n")
    assert r.rc == 1
    assert r.error["error"] == (
        "NameError: name 'spark' is not defined. jobsd runs Python files with plain Python: "
        "there is no Spark session (spark, sc, sqlContext)")


def test_pyspark_dbutils_import_gets_a_hint(attempt):
    r = attempt.pyfile("from pyspark.dbutils import DBUtils\n")
    assert r.rc == 1
    err = r.error["error"]
    assert err.startswith("ModuleNotFoundError: No module named 'pyspark'. jobsd runs Python "
                          "files with plain Python"), err
    assert "dbutils, display and displayHTML are builtins" in err


def test_widgets_in_a_python_file(attempt):
    r = attempt.pyfile("dbutils.widgets.text('w', 'd')\nprint(dbutils.widgets.get('w'))\n")
    assert r.stdout == "d\n"


def test_sibling_import_and_cwd(attempt):
    attempt.write("ws/Users/a@b.c/lib_mod.py", "VALUE = 'sibling'\n")
    r = attempt.pyfile("import os, lib_mod\nprint(lib_mod.VALUE, os.getcwd())\n")
    assert r.rc == 0, r
    assert r.stdout == "sibling %s\n" % attempt.dir


def test_missing_python_file(attempt):
    r = attempt.run_context(attempt.context(kind="python_file", path=str(attempt.dir / "no.py"),
                                            workspace_path="/Users/x/no.py"))
    assert r.rc == 1
    assert r.error["error"].startswith("cannot read Python file /Users/x/no.py")


def test_output_is_line_buffered_and_utf8(attempt):
    r = attempt.pyfile("print('é\\udcff')\n")
    assert r.rc == 0, r
    assert r.stdout == "é\\udcff\n"
