"""Source notebooks end to end: cells, outputs, errors, magics, exit."""
import json


def test_blog_example_exit_value_is_the_json(attempt):
    # seeds/002: runs/submit with base_parameters {"key": "test_key"}, get-output
    # returns notebook_output.result = the JSON string passed to notebook.exit.
    r = attempt.notebook('''
import json;

key = dbutils.widgets.get("key")
dbutils.notebook.exit(json.dumps({
    "status": "ok",
    "params": key
}))
''', widgets={"key": "test_key"})
    assert r.rc == 0, r
    assert r.exit_value == '{"status": "ok", "params": "test_key"}'
    assert json.loads(r.exit_value) == {"status": "ok", "params": "test_key"}
    assert r.error is None
    assert r.cells[0]["error"] is None and r.cells[0]["skipped"] is False
    assert r.leftovers() == []


def test_notebook_without_exit_writes_no_exit_value(attempt):
    r = attempt.notebook("x = 1", "print('done', x)")
    assert r.rc == 0, r
    assert r.exit_value is None
    assert r.task_values is None and r.error is None
    assert [c["output"] for c in r.cells] == ["", "done 1\n"]
    assert "done 1" in r.stdout


def test_exit_value_is_str_of_the_value_and_stops_the_notebook(attempt):
    r = attempt.notebook("print('before')", "dbutils.notebook.exit(42)", "print('after')")
    assert r.rc == 0, r
    assert r.exit_value == "42"
    assert "after" not in r.stdout
    assert [(c["skipped"], c["output"]) for c in r.cells] == \
        [(False, "before\n"), (False, ""), (True, "")]


def test_exit_is_not_swallowed_by_except_exception(attempt):
    r = attempt.notebook('''
try:
    dbutils.notebook.exit("bye")
except Exception:
    print("swallowed")
print("still here")
''', "print('next cell')")
    assert r.rc == 0, r
    assert r.exit_value == "bye"
    assert "swallowed" not in r.stdout and "still here" not in r.stdout
    assert "next cell" not in r.stdout


def test_exit_caught_by_bare_except_still_ends_after_the_cell(attempt):
    r = attempt.notebook('''
try:
    dbutils.notebook.exit("v")
except BaseException:
    print("caught")
''', "print('next cell')")
    assert r.rc == 0, r
    assert r.exit_value == "v"
    assert r.cells[1]["skipped"] is True
    assert "next cell" not in r.stdout


def test_exit_before_an_unsupported_cell_succeeds(attempt):
    r = attempt.notebook("dbutils.notebook.exit('early')", "# MAGIC %sql\n# MAGIC SELECT 1")
    assert r.rc == 0, r
    assert r.exit_value == "early"
    assert r.cells[1]["skipped"] is True


def test_uncaught_exception(attempt):
    r = attempt.notebook('''
def f():
    return 1 / 0
''', "print('cell 2 ran')\nf()", "print('cell 3')", "# MAGIC %md\n# MAGIC text")
    assert r.rc == 1, r
    assert r.error["error"] == "ZeroDivisionError: division by zero"
    trace = r.error["error_trace"]
    assert trace.startswith("Traceback (most recent call last):")
    assert 'File "<notebook cell 2>", line 2, in <module>' in trace
    assert 'File "<notebook cell 1>", line 2, in f' in trace
    assert "return 1 / 0" in trace  # source lines are shown
    assert "jobsd_runtime" not in trace and "jobsd_task" not in trace
    assert trace.rstrip().endswith("ZeroDivisionError: division by zero")
    cells = r.cells
    assert len(cells) == 4
    assert cells[0]["error"] is None and cells[0]["skipped"] is False
    assert cells[1]["error"] == trace and cells[1]["output"] == "cell 2 ran\n"
    assert cells[1]["skipped"] is False
    for c in cells[2:]:
        assert c["skipped"] is True and c["output"] == "" and c["error"] is None
    assert "ZeroDivisionError: division by zero" in r.stderr  # printed as Python would
    assert "cell 3" not in r.stdout


def test_syntax_error_names_the_cell(attempt):
    r = attempt.notebook("x = 1", "y = (")
    assert r.rc == 1
    assert r.error["error"] == "SyntaxError: '(' was never closed (<notebook cell 2>, line 1)"
    # As Python prints it: no frames, the cell and line, the caret.
    assert r.error["error_trace"] == ('  File "<notebook cell 2>", line 1\n    y = (\n'
                                      '        ^\nSyntaxError: \'(\' was never closed\n')
    assert r.cells[1]["error"] is not None


def test_chained_exceptions_keep_both_tracebacks(attempt):
    r = attempt.notebook('''
try:
    {}["k"]
except KeyError as e:
    raise ValueError("bad") from e
''')
    assert r.error["error"] == "ValueError: bad"
    trace = r.error["error_trace"]
    assert "KeyError: 'k'" in trace and "direct cause" in trace


def test_spark_name_error_message(attempt):
    r = attempt.notebook("df = spark.range(3)")
    assert r.rc == 1
    assert r.error["error"] == (
        "NameError: name 'spark' is not defined. jobsd runs notebooks with plain Python: "
        "there is no Spark session (spark, sc, sqlContext)")
    assert r.error["error_trace"].rstrip().endswith(r.error["error"])
    assert "Did you mean" not in r.error["error_trace"]


def test_sc_and_sqlcontext_name_errors(attempt):
    s = attempt.notebook("s = 1\nsc.parallelize([1])")
    assert s.error["error"].startswith("NameError: name 'sc' is not defined. jobsd runs "
                                       "notebooks with plain Python")
    assert "Did you mean" not in s.error["error_trace"]
    q = attempt.notebook("sqlContext.sql('x')")
    assert q.error["error"].startswith("NameError: name 'sqlContext' is not defined. jobsd")


def test_other_name_errors_are_left_alone(attempt):
    r = attempt.notebook("sparky")
    assert r.error["error"] == "NameError: name 'sparky' is not defined"


def test_pyspark_import_hint(attempt):
    r = attempt.notebook("from pyspark.sql import functions as F")
    assert r.rc == 1
    assert r.error["error"].startswith("ModuleNotFoundError: No module named 'pyspark'. "
                                       "jobsd runs notebooks with plain Python")


def test_markdown_cells_are_not_executed(attempt):
    r = attempt.notebook("# MAGIC %md\n# MAGIC # Title\n# MAGIC\n# MAGIC some *text*",
                         "# MAGIC %md-sandbox\n# MAGIC <b>x</b>",
                         "# MAGIC %md inline heading", "print('code')")
    assert r.rc == 0, r
    kinds = [(c["kind"], c["source"]) for c in r.cells]
    assert kinds == [("markdown", "# Title\n\nsome *text*"), ("markdown", "<b>x</b>"),
                     ("markdown", "inline heading"), ("code", "print('code')")]
    assert all(c["output"] == "" for c in r.cells[:3])


def test_sh_cells_run_with_bin_sh(attempt):
    r = attempt.notebook("# MAGIC %sh\n# MAGIC echo out $0\n# MAGIC echo err >&2\n# MAGIC pwd",
                         "# MAGIC %sh echo one-liner")
    assert r.rc == 0, r
    c = r.cells[0]
    assert c["kind"] == "magic" and c["magic"] == "sh"
    assert c["source"] == "%sh\necho out $0\necho err >&2\npwd"
    assert c["output"] == "out /bin/sh\nerr\n%s\n" % attempt.dir
    assert r.cells[1]["output"] == "one-liner\n"
    assert "out /bin/sh" in r.stdout  # the log has it too


def test_sh_failure_fails_the_notebook(attempt):
    r = attempt.notebook("# MAGIC %sh\n# MAGIC echo partial\n# MAGIC exit 3", "print('after')")
    assert r.rc == 1, r
    assert r.error["error"] == "%sh cell 1 failed: /bin/sh exited with status 3"
    assert "partial" in r.error["error_trace"]
    assert r.cells[0]["output"] == "partial\n"
    assert r.cells[0]["error"] == r.error["error_trace"]
    assert r.cells[1]["skipped"] is True


def test_python_magic_is_plain_code(attempt):
    r = attempt.notebook("# MAGIC %python\n# MAGIC x = 6\n# MAGIC print(x * 7)", "print(x)")
    assert r.rc == 0, r
    assert r.cells[0]["kind"] == "code"
    assert r.cells[0]["output"] == "42\n"
    assert r.cells[1]["output"] == "6\n"


def test_python_magic_traceback_line_numbers_match_the_cell(attempt):
    r = attempt.notebook("# MAGIC %python\n# MAGIC x = 1\n# MAGIC 1/0")
    assert 'File "<notebook cell 1>", line 3' in r.error["error_trace"]


def test_unsupported_magics(attempt):
    for magic, words in (("%pip install requests", "notebook-scoped libraries"),
                         ("%run ./other_notebook", "running another notebook"),
                         ("%sql\n# MAGIC SELECT 1", "SQL"),
                         ("%scala\n# MAGIC val x = 1", "only Python"),
                         ("%r\n# MAGIC x <- 1", "only Python"),
                         ("%fs ls /", "DBFS"),
                         ("%conda install x", "notebook-scoped"),
                         ("%lsmagic", "only %python, %md and %sh")):
        r = attempt.notebook("print('first')", "# MAGIC " + magic, "print('third')")
        name = magic.split()[0]
        assert r.rc == 1, (magic, r)
        err = r.error["error"]
        assert err.startswith("jobsd cannot run %s cells (notebook cell 2): " % name), err
        assert words in err, err
        assert r.cells[1]["kind"] == "magic" and r.cells[1]["error"]
        assert r.cells[0]["output"] == "first\n"
        assert r.cells[2]["skipped"] is True


def test_bare_magic_without_magic_prefix(attempt):
    r = attempt.notebook("%pip install pandas")
    assert r.rc == 1
    assert r.error["error"].startswith("jobsd cannot run %pip cells")


def test_shared_namespace_and_main(attempt):
    r = attempt.notebook("import math\ndef sq(v):\n    return v * v",
                         "print(__name__, sq(3), math.pi > 3)",
                         "import sys\nprint(sys.modules['__main__'].sq(2))")
    assert r.rc == 0, r
    assert [c["output"] for c in r.cells] == ["", "__main__ 9 True\n", "4\n"]


def test_last_expression_is_displayed(attempt):
    r = attempt.notebook("x = 2\nx * 21", "'text'", "None", "x;", "dbutils.widgets.text('w', 'd')")
    assert [c["output"] for c in r.cells] == ["42\n", "'text'\n", "", "", ""]


def test_display_and_display_html_print(attempt):
    r = attempt.notebook("display([1, 2])\ndisplayHTML('<h1>hi</h1>')")
    assert r.rc == 0, r
    assert r.cells[0]["output"] == "[1, 2]\n<h1>hi</h1>\n"


def test_stdout_and_stderr_are_tee_d(attempt):
    r = attempt.notebook("import sys\nprint('to out')\nprint('to err', file=sys.stderr)")
    assert r.cells[0]["output"] == "to out\nto err\n"
    assert "to out" in r.stdout and "to err" in r.stderr


def test_top_level_await(attempt):
    r = attempt.notebook("import asyncio\nasync def f():\n    await asyncio.sleep(0)\n"
                         "    return 5\nv = await f()\nprint(v)")
    assert r.rc == 0, r
    assert r.cells[0]["output"] == "5\n"


def test_sys_exit_in_a_notebook(attempt):
    ok = attempt.notebook("import sys\nsys.exit(0)", "print('skipped')")
    assert ok.rc == 0, ok
    assert ok.cells[1]["skipped"] is True and ok.error is None
    bad = attempt.notebook("import sys\nsys.exit(3)")
    assert bad.rc == 3
    assert bad.error["error"] == "SystemExit: 3"


def test_dbtitle_and_crlf_and_empty_cells(attempt):
    raw = ("# Databricks notebook source\r\n# DBTITLE 1,Load data\r\nprint('a')\r\n\r\n"
           "# COMMAND ----------\r\n\r\n\r\n# COMMAND ----------  \r\nprint('c')\r\n")
    r = attempt.notebook(raw=raw)
    assert r.rc == 0, r
    assert [c["source"] for c in r.cells] == ["print('a')", "", "print('c')"]
    assert r.cells[0]["title"] == "Load data"
    assert [c["output"] for c in r.cells] == ["a\n", "", "c\n"]


def test_sibling_files_can_be_imported(attempt):
    attempt.write("ws/Users/a@b.c/helpers.py", "def hello():\n    return 'from helpers'\n")
    r = attempt.notebook("import helpers\nprint(helpers.hello())")
    assert r.rc == 0, r
    assert r.cells[0]["output"] == "from helpers\n"


def test_sys_path_from_the_context(attempt):
    lib = attempt.write("elsewhere/lib/wslib.py", "NAME = 'wslib'\n").parent
    r = attempt.notebook("import sys, wslib\nprint(wslib.NAME, sys.path.index(%r))" % str(lib),
                         sys_path=[str(lib)])
    assert r.rc == 0, r
    assert r.cells[0]["output"] == "wslib 1\n"  # after the notebook's own folder


def test_cwd_is_the_attempt_folder(attempt):
    r = attempt.notebook("import os\nprint(os.getcwd())")
    assert r.cells[0]["output"] == "%s\n" % attempt.dir


def test_unavailable_utilities(attempt):
    for code, msg in (("dbutils.fs.ls('/')", "dbutils.fs is not available in jobsd"),
                      ("dbutils.secrets.get('s', 'k')",
                       "dbutils.secrets is not available in jobsd"),
                      ("dbutils.library.restartPython()",
                       "dbutils.library is not available in jobsd"),
                      ("dbutils.notebook.run('./x', 60)",
                       "dbutils.notebook.run is not supported by jobsd yet")):
        r = attempt.notebook(code)
        assert r.rc == 1
        assert r.error["error"] == "NotImplementedError: " + msg


def test_keyboard_interrupt_is_a_failure(attempt):
    r = attempt.notebook("raise KeyboardInterrupt")
    assert r.rc == 1
    assert r.error["error"] == "KeyboardInterrupt"


def test_empty_notebook(attempt):
    r = attempt.notebook(raw="# Databricks notebook source\n")
    assert r.rc == 0, r
    assert r.cells == []


def test_non_python_notebook_language(attempt):
    r = attempt.notebook("SELECT 1", language="SQL")
    assert r.rc == 1
    assert "Python notebooks only" in r.error["error"]


def test_missing_notebook_file(attempt):
    p = attempt.dir / "nope.py"
    r = attempt.run_context(attempt.context(kind="notebook", path=str(p),
                                            workspace_path="/Users/x/nope"))
    assert r.rc == 1
    assert r.error["error"].startswith("cannot read notebook /Users/x/nope")


def test_huge_cell_output_is_truncated_in_cells_json_only(attempt):
    r = attempt.notebook("import sys\nfor _ in range(9):\n    sys.stdout.write('x' * (1 << 20))")
    assert r.rc == 0
    out = r.cells[0]["output"]
    assert r.cells[0]["truncated"] is True
    assert out.startswith("x" * (8 << 20)) and "output truncated" in out
    assert len(r.stdout) == 9 << 20
