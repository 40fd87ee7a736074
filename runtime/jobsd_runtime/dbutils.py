"""dbutils - the `dbutils` object notebooks and Python files see.

What works (reference §3 "Task values", §6 "dbutils behaviour to emulate"):
- widgets: text, dropdown, combobox, multiselect, get, getArgument, getAll,
  remove, removeAll. Values passed by the job (context "widgets") win over a
  widget's default; a passed value needs no widget definition.
- notebook.exit(value): records str(value) as the exit value and ends the
  notebook (or Python file) successfully.
- jobs.taskValues.set/get: values of this task and of finished upstream tasks.
- display(x) / displayHTML(h): print x / h (there are no DataFrames).

What does not (fs, secrets, library, credentials, data, notebook.run...):
raises NotImplementedError naming the utility, as soon as it is used.

After install(), `dbutils`, `display` and `displayHTML` are builtins and also
attributes of this module: `from jobsd_runtime.dbutils import dbutils` works
in code that prefers an explicit import. No `from pyspark.dbutils import
DBUtils` is needed (nor possible: there is no pyspark).
"""
import builtins
import json
import threading

TASK_VALUE_MAX_BYTES = 48 * 1024  # the JSON of one task value (reference §3)


class NotebookExit(BaseException):
    """Raised by dbutils.notebook.exit. A BaseException so that a user's
    `except Exception:` does not swallow it; private to the runtime."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


class InputWidgetNotDefined(Exception):
    """dbutils.widgets.get of a name that is neither passed nor defined.
    Printed without a module, as Databricks prints its error of that name:
    "InputWidgetNotDefined: No input widget named x is defined"."""


InputWidgetNotDefined.__module__ = "builtins"


class Session:
    """State shared by dbutils and the runner of one task attempt."""

    def __init__(self, ctx, outs):
        self.ctx = ctx
        self.outputs = outs
        self.exited = False          # notebook.exit was called
        self.exit_value = None
        self.own_values = {}         # task values this task has set
        self.dbutils = None          # set by install()
        self.lock = threading.Lock()


def _need_str(fn, what, v):
    if not isinstance(v, str):
        raise TypeError("%s: %s must be a string, not %s" % (fn, what, type(v).__name__))


class _Widget:
    __slots__ = ("kind", "default", "choices", "label")

    def __init__(self, kind, default, choices, label):
        self.kind, self.default, self.choices, self.label = kind, default, choices, label


class WidgetsUtil:
    """dbutils.widgets"""

    def __init__(self, session):
        self._s = session
        self._defined = {}

    def _define(self, kind, name, defaultValue, choices, label):
        fn = "dbutils.widgets." + kind
        _need_str(fn, "name", name)
        if name == "":
            raise ValueError("%s: the widget name must not be empty" % fn)
        _need_str(fn, "defaultValue", defaultValue)
        if label is not None:
            _need_str(fn, "label", label)
        if choices is not None:
            if isinstance(choices, (str, bytes)) or not hasattr(choices, "__iter__"):
                raise TypeError("%s: choices must be a list of strings, not %s"
                                % (fn, type(choices).__name__))
            choices = list(choices)
            for c in choices:
                _need_str(fn, "each choice", c)
            if not choices:
                raise ValueError("%s: widget %r needs at least one choice" % (fn, name))
            ok = defaultValue in choices
            if kind == "multiselect" and not ok:
                ok = all(part in choices for part in defaultValue.split(","))
            if kind in ("dropdown", "multiselect") and not ok:
                raise ValueError("%s: the default value %r of widget %r is not one of its "
                                 "choices %r" % (fn, defaultValue, name, choices))
        self._defined[name] = _Widget(kind, defaultValue, choices, label)

    def text(self, name, defaultValue, label=None):
        self._define("text", name, defaultValue, None, label)

    def dropdown(self, name, defaultValue, choices, label=None):
        self._define("dropdown", name, defaultValue, choices, label)

    def combobox(self, name, defaultValue, choices, label=None):
        self._define("combobox", name, defaultValue, choices, label)

    def multiselect(self, name, defaultValue, choices, label=None):
        self._define("multiselect", name, defaultValue, choices, label)

    def get(self, name):
        _need_str("dbutils.widgets.get", "name", name)
        passed = self._s.ctx.widgets
        if name in passed:
            return passed[name]
        w = self._defined.get(name)
        if w is not None:
            return w.default
        raise InputWidgetNotDefined("No input widget named %s is defined" % name)

    _NO_DEFAULT = object()

    def getArgument(self, name, optional=_NO_DEFAULT):
        """Deprecated alias of get; returns `optional` when the widget is missing."""
        try:
            return self.get(name)
        except InputWidgetNotDefined:
            if optional is self._NO_DEFAULT:
                raise
            return optional

    def getAll(self):
        vals = {n: w.default for n, w in self._defined.items()}
        vals.update(self._s.ctx.widgets)
        return vals

    def remove(self, name):
        """Removes the widget's definition; a value passed by the job stays."""
        _need_str("dbutils.widgets.remove", "name", name)
        if name not in self._defined and name not in self._s.ctx.widgets:
            raise InputWidgetNotDefined("No input widget named %s is defined" % name)
        self._defined.pop(name, None)

    def removeAll(self):
        self._defined.clear()

    def help(self, method=None):
        print("dbutils.widgets (jobsd): text, dropdown, combobox, multiselect, get, "
              "getArgument, getAll, remove, removeAll")

    def __repr__(self):
        return "<dbutils.widgets (jobsd)>"


class NotebookUtil:
    """dbutils.notebook"""

    def __init__(self, session):
        self._s = session

    def exit(self, value):
        text = str(value)
        s = self._s
        s.outputs.write_exit_value(text)
        s.exit_value = text
        s.exited = True
        raise NotebookExit(text)

    def run(self, path, timeout_seconds=0, arguments=None, *args, **kwargs):
        raise NotImplementedError("dbutils.notebook.run is not supported by jobsd yet")

    def help(self, method=None):
        print("dbutils.notebook (jobsd): exit(value); run is not supported yet")

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise AttributeError("dbutils.notebook.%s is not available in jobsd "
                             "(there is no Databricks notebook context)" % attr)

    def __repr__(self):
        return "<dbutils.notebook (jobsd)>"


class TaskValuesUtil:
    """dbutils.jobs.taskValues"""

    def __init__(self, session):
        self._s = session

    def set(self, key, value):
        fn = "dbutils.jobs.taskValues.set"
        _need_str(fn, "key", key)
        if key == "":
            raise ValueError("%s: the key must not be empty" % fn)
        try:
            text = json.dumps(value, allow_nan=False)
        except TypeError as e:
            raise TypeError("%s: the value of task value %r is not JSON serializable: %s"
                            % (fn, key, e)) from None
        except ValueError as e:  # NaN/Infinity, circular references
            raise ValueError("%s: the value of task value %r cannot be JSON: %s"
                             % (fn, key, e)) from None
        size = len(text.encode("utf-8"))
        if size > TASK_VALUE_MAX_BYTES:
            raise ValueError("%s: task value %r is %d bytes of JSON; the limit is 48 KiB "
                             "(%d bytes)" % (fn, key, size, TASK_VALUE_MAX_BYTES))
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
            key.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("%s: task value %r holds text that is not valid Unicode "
                             "(a lone surrogate)" % (fn, key)) from None
        s = self._s
        with s.lock:
            s.own_values[key] = json.loads(text)  # a copy, as it will be read back
            s.outputs.write_task_values(s.own_values)

    def get(self, taskKey, key, default=None, debugValue=None):
        fn = "dbutils.jobs.taskValues.get"
        _need_str(fn, "taskKey", taskKey)
        _need_str(fn, "key", key)
        s = self._s
        if not s.ctx.in_job:
            if debugValue is None:
                raise TypeError("%s: outside a job run debugValue must be given "
                                "(it cannot be None)" % fn)
            return debugValue
        values = s.ctx.task_values.get(taskKey)
        if taskKey == s.ctx.task_key:
            with s.lock:
                values = dict(values or {}, **s.own_values)
        if values is not None and key in values:
            return values[key]
        if default is not None:
            return default
        if values is None:
            known = sorted(s.ctx.task_values)
            raise ValueError(
                "%s: task %r has set no task values in this job run, so there is no "
                "value %r (tasks with values: %s). It must be a finished upstream task "
                "of this one; pass default= to fall back"
                % (fn, taskKey, key, ", ".join(known) if known else "none"))
        raise ValueError("%s: task %r did not set a task value %r (it set: %s); pass "
                         "default= to fall back"
                         % (fn, taskKey, key, ", ".join(sorted(values)) or "nothing"))

    def help(self, method=None):
        print("dbutils.jobs.taskValues (jobsd): set(key, value), "
              "get(taskKey, key, default=None, debugValue=None)")

    def __repr__(self):
        return "<dbutils.jobs.taskValues (jobsd)>"


class JobsUtil:
    """dbutils.jobs"""

    def __init__(self, session):
        self.taskValues = TaskValuesUtil(session)

    def help(self, method=None):
        print("dbutils.jobs (jobsd): taskValues")

    def __repr__(self):
        return "<dbutils.jobs (jobsd)>"


class _Unavailable:
    """A dbutils utility jobsd does not have: any use raises, naming it."""

    def __init__(self, name):
        self._name = name

    def _fail(self):
        raise NotImplementedError("dbutils.%s is not available in jobsd" % self._name)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        self._fail()

    def __call__(self, *args, **kwargs):
        self._fail()

    def __repr__(self):
        return "<dbutils.%s: not available in jobsd>" % self._name


UNAVAILABLE = ("fs", "secrets", "library", "credentials", "data", "preview", "meta", "api")


class DBUtils:
    """The dbutils object."""

    def __init__(self, session):
        self.widgets = WidgetsUtil(session)
        self.notebook = NotebookUtil(session)
        self.jobs = JobsUtil(session)
        for name in UNAVAILABLE:
            setattr(self, name, _Unavailable(name))

    def help(self, method=None):
        print("dbutils (jobsd): widgets, notebook.exit, jobs.taskValues. Not available: "
              + ", ".join(UNAVAILABLE) + ", notebook.run")

    def __repr__(self):
        return "<dbutils (jobsd)>"


def display(input=None, *args, **kwargs):
    """Prints its argument: jobsd has no DataFrames to render."""
    if input is not None:
        print(input)


def displayHTML(html):
    """Prints the HTML text."""
    print(html)


dbutils = None  # set by install()


def install(session):
    """Builds dbutils for the session and makes it, display and displayHTML
    builtins (and attributes of this module). Returns the dbutils object."""
    global dbutils
    dbutils = session.dbutils = DBUtils(session)
    for name, obj in (("dbutils", dbutils), ("display", display),
                      ("displayHTML", displayHTML)):
        setattr(builtins, name, obj)
    return dbutils
