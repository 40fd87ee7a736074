"""context - loads and checks ATTEMPT_DIR/context.json.

The engine writes the file; anything wrong with it is a bug on jobsd's side,
not the user's, so the runtime refuses it with exit status 2 (ContextError)
before running any user code. Unknown keys are ignored so that a newer
engine can add fields.
"""
import json
import os

KINDS = ("notebook", "python_file")
FORMATS = ("SOURCE", "JUPYTER")

# The most a context file may hold: widgets and task values are capped well
# below this by the API (parameters <= 1 MB, task values 48 KiB each).
MAX_CONTEXT_BYTES = 256 << 20


class ContextError(Exception):
    """context.json is missing, unreadable or malformed."""


class Context:
    """The checked contents of context.json (attributes named as its keys)."""

    def __init__(self, raw, context_path):
        self.context_path = context_path
        self.kind = raw["kind"]
        self.path = raw["path"]
        self.workspace_path = raw.get("workspace_path") or raw["path"]
        self.format = raw.get("format")
        self.language = raw.get("language") or "PYTHON"
        self.widgets = dict(raw.get("widgets") or {})
        self.argv = list(raw.get("argv") or [])
        self.task_values = {k: dict(v) for k, v in (raw.get("task_values") or {}).items()}
        self.output_dir = raw["output_dir"]
        self.job_id = raw.get("job_id")
        self.job_run_id = raw.get("job_run_id")
        self.task_run_id = raw.get("task_run_id")
        self.task_key = raw.get("task_key")
        self.sys_path = list(raw.get("sys_path") or [])
        if self.format is None:
            self.format = "JUPYTER" if self.path.lower().endswith(".ipynb") else "SOURCE"

    @property
    def in_job(self):
        """False when no job run is named (taskValues.get then returns debugValue)."""
        return self.job_run_id is not None


def _check(cond, msg):
    if not cond:
        raise ContextError(msg)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def validate(raw):
    """Raises ContextError naming the first problem in the decoded JSON."""
    _check(isinstance(raw, dict), "the top level is not a JSON object")
    kind = raw.get("kind")
    _check(kind in KINDS, "\"kind\" must be one of %s, not %r" % (", ".join(KINDS), kind))
    for key in ("path", "output_dir"):
        v = raw.get(key)
        _check(isinstance(v, str) and v != "", "\"%s\" must be a non-empty string" % key)
        _check(os.path.isabs(v), "\"%s\" must be an absolute path, not %r" % (key, v))
        _check("\0" not in v, "\"%s\" holds a NUL byte" % key)
    _check(os.path.isdir(raw["output_dir"]),
           "\"output_dir\" %r is not an existing folder" % raw["output_dir"])
    for key in ("workspace_path", "task_key", "language"):
        v = raw.get(key)
        _check(v is None or isinstance(v, str), "\"%s\" must be a string" % key)
    fmt = raw.get("format")
    _check(fmt is None or fmt in FORMATS,
           "\"format\" must be one of %s, not %r" % (", ".join(FORMATS), fmt))
    widgets = raw.get("widgets")
    if widgets is not None:
        _check(isinstance(widgets, dict), "\"widgets\" must be an object")
        for k, v in widgets.items():
            _check(isinstance(v, str), "widget %r must have a string value, not %s"
                   % (k, type(v).__name__))
    argv = raw.get("argv")
    if argv is not None:
        _check(isinstance(argv, list), "\"argv\" must be an array")
        for i, a in enumerate(argv):
            _check(isinstance(a, str), "argv[%d] must be a string, not %s"
                   % (i, type(a).__name__))
    tv = raw.get("task_values")
    if tv is not None:
        _check(isinstance(tv, dict), "\"task_values\" must be an object")
        for k, v in tv.items():
            _check(isinstance(v, dict), "task_values[%r] must be an object" % k)
    extra = raw.get("sys_path")
    if extra is not None:
        _check(isinstance(extra, list), "\"sys_path\" must be an array")
        for i, d in enumerate(extra):
            _check(isinstance(d, str) and os.path.isabs(d),
                   "sys_path[%d] must be an absolute path" % i)
    for key in ("job_id", "job_run_id", "task_run_id"):
        v = raw.get(key)
        _check(v is None or _is_int(v), "\"%s\" must be an integer" % key)


def load(path):
    """Reads, decodes and checks the context file; returns a Context."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CONTEXT_BYTES + 1)
    except OSError as e:
        raise ContextError("cannot read it: %s" % (e.strerror or e)) from e
    _check(len(data) <= MAX_CONTEXT_BYTES, "it is larger than %d bytes" % MAX_CONTEXT_BYTES)
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ContextError("it is not UTF-8: %s" % e) from e
    except ValueError as e:
        raise ContextError("it is not valid JSON: %s" % e) from e
    validate(raw)
    return Context(raw, os.path.abspath(path))
