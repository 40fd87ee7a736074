"""outputs - the files the runtime leaves in the attempt folder.

Every file is written atomically: a temp file in the same folder (so the
rename never crosses file systems), flushed and fsynced, renamed over the
target with os.replace, then the folder fsynced. A reader (jobsd's engine,
maybe after a crash of this process or of the machine) sees the old complete
file or the new complete file, never a torn one.

cells.json is rewritten after every cell so that a run killed mid-way (cancel,
timeout, SIGKILL) still shows what ran; those intermediate writes skip the
fsyncs (a killed process loses no page cache) and the final write does them.
"""
import json
import os

EXIT_VALUE = "exit_value"
TASK_VALUES = "task_values.json"
ERROR = "error.json"
CELLS = "cells.json"

_TMP_PREFIX = ".jobsd-tmp-"


class OutputError(Exception):
    """An output file could not be written (disk full, folder gone...)."""


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # some file systems refuse to open folders: best effort
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(folder, name, data, durable=True):
    """Writes bytes `data` to folder/name atomically (see the module doc)."""
    target = os.path.join(folder, name)
    tmp = os.path.join(folder, "%s%s-%d-%s" % (_TMP_PREFIX, name, os.getpid(),
                                               os.urandom(4).hex()))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError("cannot write %s: %s" % (target, e.strerror or e)) from e
    if durable:
        _fsync_dir(folder)


def dumps(obj):
    """JSON as jobsd's C side reads it: UTF-8, no NaN/Infinity. Text with
    lone surrogates raises UnicodeEncodeError: callers clean or refuse it."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False).encode("utf-8")


class Outputs:
    """The output files of one attempt, in output_dir."""

    def __init__(self, folder):
        self.folder = folder

    def path(self, name):
        return os.path.join(self.folder, name)

    def write_exit_value(self, text):
        # Lone surrogates (from undecodable input) cannot be UTF-8: replace them.
        write_atomic(self.folder, EXIT_VALUE, text.encode("utf-8", "replace"))

    def has_exit_value(self):
        return os.path.exists(self.path(EXIT_VALUE))

    def write_task_values(self, values):
        write_atomic(self.folder, TASK_VALUES, dumps(values))

    def write_error(self, error, trace):
        body = {"error": _clean(error), "error_trace": _clean(trace)}
        write_atomic(self.folder, ERROR, dumps(body))

    def write_cells(self, cells, durable=True):
        clean = []
        for c in cells:
            c = dict(c)
            for k in ("source", "output", "error"):
                if isinstance(c.get(k), str):
                    c[k] = _clean(c[k])
            clean.append(c)
        write_atomic(self.folder, CELLS, dumps(clean), durable=durable)


def _clean(s):
    """Text safe for UTF-8 JSON: lone surrogates become U+FFFD."""
    if s is None:
        return None
    return s.encode("utf-8", "replace").decode("utf-8")
