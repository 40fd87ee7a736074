"""errors - the `error` and `error_trace` texts of error.json.

`error` is the last line Python would print for the exception
("ZeroDivisionError: division by zero"); `error_trace` the traceback. The
traceback starts at the user's code: frames of this package, of
jobsd_task.py and of runpy at its top (the runtime calling the user) and at
its bottom (dbutils raising on the user's behalf) are left out.

Two messages are made clearer, since they are what a Databricks notebook
moved to jobsd hits first:
- NameError for spark, sc or sqlContext: there is no Spark session;
- ModuleNotFoundError for pyspark: there is no Spark either.
"""
import os

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_RUNTIME_DIR = os.path.dirname(_PKG_DIR)
_ENTRY = os.path.join(_RUNTIME_DIR, "jobsd_task.py")

SPARK_NAMES = ("spark", "sc", "sqlContext")

# Exception classes whose module is not printed, as Python does for builtins.
_BARE_MODULES = ("builtins", "__main__")


def spark_hint(what):
    """The sentence added to Spark-related errors; what: 'notebooks'/'Python files'."""
    return "jobsd runs %s with plain Python: there is no Spark session (%s)" % (
        what, ", ".join(SPARK_NAMES))


def _runtime_file(filename):
    if not filename:
        return False
    if filename.startswith("<frozen runpy") or os.path.basename(filename) == "runpy.py":
        return True
    f = os.path.abspath(filename)
    return f == _ENTRY or f.startswith(_PKG_DIR + os.sep)


def _trim(stack):
    import traceback
    frames = list(stack)
    a, b = 0, len(frames)
    while a < b and _runtime_file(frames[a].filename):
        a += 1
    while b > a and _runtime_file(frames[b - 1].filename):
        b -= 1
    # Nothing but runtime frames: the runtime raised on the user's behalf (a
    # SyntaxError from compiling a cell): no frames, as Python shows it.
    return traceback.StackSummary.from_list(frames[a:b])


def _trim_chain(te, seen):
    if te is None or id(te) in seen:
        return
    seen.add(id(te))
    te.stack = _trim(te.stack)
    _trim_chain(te.__cause__, seen)
    _trim_chain(te.__context__, seen)


def type_name(etype):
    mod = getattr(etype, "__module__", None)
    name = getattr(etype, "__qualname__", None) or etype.__name__
    if mod and mod not in _BARE_MODULES:
        return "%s.%s" % (mod, name)
    return name


def _safe_str(exc):
    try:
        return str(exc)
    except BaseException:  # a broken __str__ must not break error reporting
        return "<exception str() failed>"


def rewrite(exc, what="notebooks"):
    """Makes the Spark-related messages clearer, in place, before formatting."""
    if isinstance(exc, NameError) and not isinstance(exc, UnboundLocalError):
        name = getattr(exc, "name", None)
        if name in SPARK_NAMES and exc.args and "jobsd runs" not in str(exc.args[0]):
            exc.args = ("name '%s' is not defined. %s" % (name, spark_hint(what)),)
            # Python 3.10+ would add "Did you mean: ...?" from .name: the hint says more.
            try:
                exc.name = None
            except (AttributeError, TypeError):
                pass
    elif isinstance(exc, ModuleNotFoundError):
        name = getattr(exc, "name", None) or ""
        if (name == "pyspark" or name.startswith("pyspark.")) and exc.args \
                and "jobsd runs" not in str(exc.args[0]):
            text = "%s. %s; dbutils, display and displayHTML are builtins, no import " \
                "is needed" % (exc.args[0], spark_hint(what))
            exc.args = (text,)
            exc.msg = text  # what ImportError.__str__ prints


def describe(exc, what="notebooks"):
    """(error, error_trace) for an exception caught by the runtime."""
    rewrite(exc, what)
    msg = _safe_str(exc)
    short = type_name(type(exc)) + (": " + msg if msg else "")
    try:
        import traceback
        te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        _trim_chain(te, set())
        trace = "".join(te.format())
    except BaseException:
        trace = short + "\n"
    return short, trace


class Terminated(BaseException):
    """Raised in the main thread when the task receives SIGTERM (jobsd's
    supervisor cancels or times it out): the runtime records what ran, then
    dies by the signal. A BaseException so `except Exception:` lets it by."""


Terminated.__module__ = "builtins"


def exit_status(code):
    """Process status for a failing SystemExit code: 1..255 kept, except 2
    (the runtime's own "bad context" status) and out-of-range values: 1."""
    return code if isinstance(code, int) and 0 < code < 256 and code != 2 else 1


def system_exit_code(exc):
    """The process exit status Python would give SystemExit(exc.code)."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):  # bool included, as in Python
        return int(code)
    return 1
