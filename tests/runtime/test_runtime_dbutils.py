"""dbutils in a notebook: widgets and task values."""
import json


def _out(r, i=0):
    assert r.rc == 0, r
    return r.cells[i]["output"]


# --- widgets --------------------------------------------------------------------------

def test_widget_defaults_and_overrides(attempt):
    code = '''
dbutils.widgets.text("a", "default-a", "Label A")
dbutils.widgets.text("b", "default-b")
print(dbutils.widgets.get("a"), dbutils.widgets.get("b"))
'''
    assert _out(attempt.notebook(code)) == "default-a default-b\n"
    assert _out(attempt.notebook(code, widgets={"a": "passed"})) == "passed default-b\n"
    # An empty string passed by the job is a value, not "unset".
    assert _out(attempt.notebook(code, widgets={"b": ""})) == "default-a \n"


def test_passed_value_needs_no_widget_definition(attempt):
    r = attempt.notebook("print(repr(dbutils.widgets.get('p')))", widgets={"p": "v"})
    assert _out(r) == "'v'\n"


def test_keyword_arguments_as_on_databricks(attempt):
    r = attempt.notebook('dbutils.widgets.text(name="n", defaultValue="d", label="L")\n'
                         'dbutils.widgets.dropdown(name="c", defaultValue="x", '
                         'choices=["x", "y"], label="C")\n'
                         'print(dbutils.widgets.get("n"), dbutils.widgets.get("c"))')
    assert _out(r) == "d x\n"


def test_undefined_widget_error(attempt):
    r = attempt.notebook("print('ok')", "dbutils.widgets.get('missing')", "print('no')")
    assert r.rc == 1
    assert r.error["error"] == "InputWidgetNotDefined: No input widget named missing is defined"
    assert r.cells[1]["error"].rstrip().endswith(
        "InputWidgetNotDefined: No input widget named missing is defined")
    # The trace ends at the user's call, not inside the runtime.
    assert "jobsd_runtime" not in r.error["error_trace"]
    assert r.cells[2]["skipped"] is True


def test_undefined_widget_error_can_be_caught(attempt):
    r = attempt.notebook('''
try:
    dbutils.widgets.get("x")
except Exception as e:
    print(type(e).__name__, e)
''')
    assert _out(r) == "InputWidgetNotDefined No input widget named x is defined\n"


def test_dropdown_default_must_be_a_choice(attempt):
    ok = attempt.notebook('dbutils.widgets.dropdown("env", "dev", ["dev", "prod"])\n'
                          'print(dbutils.widgets.get("env"))', widgets={"env": "prod"})
    assert _out(ok) == "prod\n"
    bad = attempt.notebook('dbutils.widgets.dropdown("env", "qa", ["dev", "prod"])')
    assert bad.rc == 1
    assert bad.error["error"].startswith("ValueError: dbutils.widgets.dropdown: the default "
                                         "value 'qa' of widget 'env' is not one of its choices")


def test_combobox_and_multiselect(attempt):
    r = attempt.notebook('''
dbutils.widgets.combobox("c", "free text", ["a", "b"])
dbutils.widgets.multiselect("m", "a", ["a", "b", "c"])
print(dbutils.widgets.get("c"), dbutils.widgets.get("m"))
''')
    assert _out(r) == "free text a\n"
    r = attempt.notebook('dbutils.widgets.multiselect("m", "a", ["a", "b", "c"])\n'
                         'print(dbutils.widgets.get("m").split(","))', widgets={"m": "a,c"})
    assert _out(r) == "['a', 'c']\n"
    bad = attempt.notebook('dbutils.widgets.multiselect("m", "z", ["a"])')
    assert bad.error["error"].startswith("ValueError: dbutils.widgets.multiselect")


def test_widget_argument_types(attempt):
    r = attempt.notebook('dbutils.widgets.text("n", 5)')
    assert r.error["error"] == ("TypeError: dbutils.widgets.text: defaultValue must be a "
                                "string, not int")
    r = attempt.notebook('dbutils.widgets.dropdown("n", "a", "abc")')
    assert r.error["error"].startswith("TypeError: dbutils.widgets.dropdown: choices must be")


def test_get_argument_get_all_remove(attempt):
    r = attempt.notebook('''
dbutils.widgets.text("a", "1")
dbutils.widgets.text("b", "2")
print(dbutils.widgets.getArgument("a"), dbutils.widgets.getArgument("zz", "fallback"))
print(sorted(dbutils.widgets.getAll().items()))
dbutils.widgets.remove("a")
print(sorted(dbutils.widgets.getAll().items()))
dbutils.widgets.removeAll()
print(dbutils.widgets.getAll())
print(dbutils.widgets.get("p"))
''', widgets={"b": "passed-b", "p": "passed-p"})
    assert _out(r).splitlines() == [
        "1 fallback",
        "[('a', '1'), ('b', 'passed-b'), ('p', 'passed-p')]",
        "[('b', 'passed-b'), ('p', 'passed-p')]",
        "{'b': 'passed-b', 'p': 'passed-p'}",
        "passed-p",
    ]


def test_get_argument_without_default_raises(attempt):
    r = attempt.notebook("dbutils.widgets.getArgument('nope')")
    assert r.error["error"] == "InputWidgetNotDefined: No input widget named nope is defined"


def test_remove_undefined_widget_raises(attempt):
    r = attempt.notebook("dbutils.widgets.remove('nope')")
    assert r.error["error"] == "InputWidgetNotDefined: No input widget named nope is defined"


# --- task values ------------------------------------------------------------------------

def test_task_values_set(attempt):
    r = attempt.notebook('''
dbutils.jobs.taskValues.set("count", 3)
dbutils.jobs.taskValues.set(key="meta", value={"names": ["a", "é"], "ok": True, "x": None})
dbutils.jobs.taskValues.set("count", 4)
''')
    assert r.rc == 0, r
    assert r.task_values == {"count": 4, "meta": {"names": ["a", "é"], "ok": True, "x": None}}
    assert r.leftovers() == []


def test_task_values_written_before_a_failure(attempt):
    r = attempt.notebook('dbutils.jobs.taskValues.set("k", "v")', "1/0")
    assert r.rc == 1
    assert r.task_values == {"k": "v"}


def test_task_value_limit_is_48_kib(attempt):
    # json.dumps("x" * n) is n + 2 bytes.
    ok = attempt.notebook('dbutils.jobs.taskValues.set("k", "x" * (49152 - 2))')
    assert ok.rc == 0, ok
    assert len(json.dumps(ok.task_values["k"])) == 49152
    big = attempt.notebook('dbutils.jobs.taskValues.set("small", 1)',
                           'dbutils.jobs.taskValues.set("k", "x" * (49152 - 1))')
    assert big.rc == 1
    assert big.error["error"] == (
        "ValueError: dbutils.jobs.taskValues.set: task value 'k' is 49153 bytes of JSON; "
        "the limit is 48 KiB (49152 bytes)")
    assert big.task_values == {"small": 1}


def test_task_value_must_be_json(attempt):
    r = attempt.notebook('dbutils.jobs.taskValues.set("k", {1, 2})')
    assert r.error["error"].startswith("TypeError: dbutils.jobs.taskValues.set: the value of "
                                       "task value 'k' is not JSON serializable")
    r = attempt.notebook('dbutils.jobs.taskValues.set("k", float("nan"))')
    assert r.error["error"].startswith("ValueError: dbutils.jobs.taskValues.set")
    r = attempt.notebook('dbutils.jobs.taskValues.set(5, 1)')
    assert r.error["error"] == ("TypeError: dbutils.jobs.taskValues.set: key must be a string, "
                                "not int")


def test_task_values_get(attempt):
    tv = {"upstream": {"n": 7, "obj": {"a": [1]}, "zero": 0}}
    r = attempt.notebook('''
g = dbutils.jobs.taskValues.get
print(g("upstream", "n"), g(taskKey="upstream", key="obj"), g("upstream", "zero", default=5))
print(g("upstream", "missing", default="dflt"), g("other", "n", default=1))
print(g("upstream", "n", default=0, debugValue=99))
''', task_values=tv)
    assert _out(r).splitlines() == ["7 {'a': [1]} 0", "dflt 1", "7"]


def test_task_values_get_missing_errors(attempt):
    tv = {"upstream": {"n": 7}}
    r = attempt.notebook('dbutils.jobs.taskValues.get("upstream", "nope")', task_values=tv)
    assert r.rc == 1
    err = r.error["error"]
    assert err.startswith("ValueError: dbutils.jobs.taskValues.get: task 'upstream' did not "
                          "set a task value 'nope' (it set: n)"), err
    r = attempt.notebook('dbutils.jobs.taskValues.get("ghost", "n")', task_values=tv)
    err = r.error["error"]
    assert "task 'ghost' has set no task values" in err and "'n'" in err
    assert "tasks with values: upstream" in err


def test_task_values_get_own_values(attempt):
    r = attempt.notebook('dbutils.jobs.taskValues.set("mine", 1)\n'
                         'print(dbutils.jobs.taskValues.get("this_task", "mine"))')
    assert _out(r) == "1\n"


def test_task_values_debug_value_outside_a_job(attempt):
    r = attempt.notebook('print(dbutils.jobs.taskValues.get("t", "k", debugValue="dbg"))',
                         job_run_id=None)
    assert _out(r) == "dbg\n"
    r = attempt.notebook('dbutils.jobs.taskValues.get("t", "k")', job_run_id=None)
    assert r.error["error"].startswith("TypeError: dbutils.jobs.taskValues.get: outside a job "
                                       "run debugValue must be given")


def test_explicit_import_of_dbutils(attempt):
    r = attempt.notebook("from jobsd_runtime.dbutils import dbutils as d, display\n"
                         "print(d is dbutils, display is globals()['display'])")
    assert _out(r) == "True True\n"
