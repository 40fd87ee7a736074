"""notebook - runs a Databricks Python source notebook.

The file (as src/workspace stores it) starts with "# Databricks notebook
source"; cells are separated by "# COMMAND ----------" lines; a cell whose
lines all start with "# MAGIC" (blank lines aside) and whose first line, the
prefix stripped, starts with "%" runs a magic command. Cells are cut and
trimmed exactly as src/workspace/nbconvert.c cuts them, so cells.json lines
up with the Jupyter export of the same notebook. A "# DBTITLE 1,<title>"
first line gives the cell its title.

Cell kinds:
- code: Python, executed with exec() in one namespace shared by all cells
  (a fresh __main__ module holding dbutils, display and displayHTML), compiled
  as "<notebook cell N>" so tracebacks name the cell. A cell ending in an
  expression prints its repr() unless None or the cell ends with ";", as a
  notebook shows it. Top-level await works (one event loop per notebook).
- markdown (%md, %md-sandbox): not executed.
- magic: %sh runs the cell with /bin/sh (output captured; a non-zero exit
  fails the notebook); %python is plain code (kind "code"); any other magic
  (%pip, %run, %sql, %scala, %r, %fs...) fails the notebook at that cell
  with a message naming it. A code cell whose first line starts with "%"
  (no "# MAGIC" prefix) is treated the same way.

The run stops at the first failing cell, at dbutils.notebook.exit and at
sys.exit(); the cells after it are recorded with "skipped": true.
"""
import ast
import builtins
import codecs
import inspect
import linecache
import os
import re
import signal
import subprocess
import sys
import types

from . import errors
from .dbutils import NotebookExit, display, displayHTML

HEADER = "# Databricks notebook source"
_SEPARATOR = re.compile(r"# COMMAND ----------[ \t]*\Z")
_MAGIC = "# MAGIC"
_TITLE = "# DBTITLE"
_BLANK = re.compile(r"[ \t\r]*\Z")

SH = "/bin/sh"
SH_TAIL_LINES = 20  # lines of a failing %sh cell's output kept in error_trace

# Why each magic jobsd does not run cannot run (the message names the magic).
_MAGIC_HINTS = {
    "pip": "notebook-scoped libraries cannot be installed; install the packages for "
           "/usr/bin/python3 on the machine that runs jobsd",
    "conda": "notebook-scoped libraries cannot be installed; install the packages for "
             "/usr/bin/python3 on the machine that runs jobsd",
    "run": "running another notebook inline is not supported yet; a Python file next to "
           "the notebook in the workspace can be imported instead",
    "sql": "SQL cells need Spark or a SQL warehouse, and this runtime runs Python only",
    "scala": "only Python cells run",
    "r": "only Python cells run",
    "fs": "there is no DBFS (dbutils.fs is not available either)",
}


class Cell:
    """One notebook cell as parsed."""

    __slots__ = ("index", "kind", "source", "code", "magic", "title")

    def __init__(self, index, kind, source, code=None, magic=None, title=None):
        self.index = index      # 1-based position in the notebook
        self.kind = kind        # "code" | "markdown" | "magic"
        self.source = source    # the text shown for the cell (cells.json "source")
        self.code = code        # Python for code cells, the script for %sh
        self.magic = magic      # magic name without "%" ("sh", "sql", "python"...)
        self.title = title

    def record(self):
        r = {"source": self.source, "kind": self.kind, "output": "", "error": None,
             "skipped": True}
        if self.magic:
            r["magic"] = self.magic
        if self.title is not None:
            r["title"] = self.title
        return r


def _is_blank(line):
    return _BLANK.match(line) is not None


def _is_magic_line(line):
    return line == _MAGIC or line.startswith(_MAGIC + " ")


def _strip_magic(line):
    return line[len(_MAGIC) + 1:] if len(line) > len(_MAGIC) else ""


def _trim(lines):
    a, b = 0, len(lines)
    while a < b and _is_blank(lines[a]):
        a += 1
    while b > a and _is_blank(lines[b - 1]):
        b -= 1
    return lines[a:b]


def split_lines(text):
    """Lines without "\\n"/"\\r\\n"; a final newline starts no empty line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "" and text.endswith("\n"):
        lines.pop()
    return [ln.rstrip("\r") for ln in lines]


def magic_name(first):
    """'%sh ls' -> ('sh', 'ls'); first is a line starting with '%'."""
    m = re.match(r"%+([^\s]*)[ \t]?(.*)\Z", first)
    return (m.group(1), m.group(2)) if m else ("", "")


def classify(index, lines, magic_prefixed, title=None):
    """A Cell from its (trimmed, non-empty) lines. magic_prefixed: the lines
    had their "# MAGIC" prefixes stripped."""
    first = lines[0]
    if not first.startswith("%"):
        text = "\n".join(lines)
        return Cell(index, "code", text, code=text, title=title)
    name, rest = magic_name(first)
    if name in ("md", "md-sandbox"):
        body = lines[1:] if _is_blank(rest) else [rest] + lines[1:]
        return Cell(index, "markdown", "\n".join(body), magic=name, title=title)
    text = "\n".join(lines)
    # The magic line becomes the rest of that line (usually empty), so line
    # numbers in tracebacks and in the shown source stay the same.
    code = "\n".join([rest] + lines[1:])
    if name == "python":
        return Cell(index, "code", text, code=code, magic=name, title=title)
    return Cell(index, "magic", text, code=code, magic=name, title=title)


def parse_source(text):
    """The cells of a source notebook's text (see the module doc)."""
    lines = split_lines(text)
    if lines and lines[0].rstrip() == HEADER:
        lines = lines[1:]
    if all(_is_blank(ln) for ln in lines):
        return []
    groups, cur = [], []
    for ln in lines:
        if _SEPARATOR.match(ln):
            groups.append(cur)
            cur = []
        else:
            cur.append(ln)
    groups.append(cur)
    cells = []
    for i, g in enumerate(groups, 1):
        g = _trim(g)
        title = None
        if g and g[0].startswith(_TITLE):
            t = g[0][len(_TITLE):]
            title = t.split(",", 1)[1].strip() if "," in t else t.strip()
            g = _trim(g[1:])
        if not g:
            cells.append(Cell(i, "code", "", code="", title=title))
            continue
        magic = all(_is_magic_line(ln) or ln == "" for ln in g) and \
            _strip_magic(g[0]).startswith("%")
        if magic:
            g = [_strip_magic(ln) if ln else ln for ln in g]
        cells.append(classify(i, g, magic, title))
    return cells


def unsupported_magic_message(name, index):
    hint = _MAGIC_HINTS.get(name.lower(), "only %python, %md and %sh cells can run")
    return ("jobsd cannot run %%%s cells (notebook cell %d): %s. jobsd runs notebooks with "
            "plain Python" % (name, index, hint))


# --- running ------------------------------------------------------------------------------

class CellFailure(Exception):
    """A cell failed in a way that is not a Python exception of the user's
    (%sh exit status, unsupported magic): carries error and trace."""

    def __init__(self, error, trace):
        super().__init__(error)
        self.error, self.trace = error, trace


def run_sh(script, index):
    """Runs a %sh cell with /bin/sh; its output goes through sys.stdout (so
    into the log and the cell's record). Raises CellFailure on failure."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        proc = subprocess.Popen([SH, "-c", script], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        msg = "%%sh cell %d could not start %s: %s" % (index, SH, e.strerror or e)
        raise CellFailure(msg, msg + "\n") from None
    dec = codecs.getincrementaldecoder("utf-8")("replace")
    tail = []
    try:
        fd = proc.stdout.fileno()
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            text = dec.decode(data)
            sys.stdout.write(text)
            tail = (tail + text.splitlines(True))[-SH_TAIL_LINES - 1:]
        text = dec.decode(b"", final=True)
        if text:
            sys.stdout.write(text)
        rc = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
    if rc == 0:
        return
    if rc < 0:
        try:
            sig = signal.Signals(-rc).name
        except ValueError:
            sig = "signal %d" % -rc
        msg = "%%sh cell %d failed: %s was killed by %s" % (index, SH, sig)
    else:
        msg = "%%sh cell %d failed: %s exited with status %d" % (index, SH, rc)
    out = "".join(tail[-SH_TAIL_LINES:])
    trace = msg + "\n"
    if out.strip():
        trace += "Last output:\n" + out + ("" if out.endswith("\n") else "\n")
    raise CellFailure(msg, trace)


class Namespace:
    """The __main__ module the cells share, and how a cell runs in it."""

    def __init__(self, dbutils):
        self.module = types.ModuleType("__main__")
        self.globals = self.module.__dict__
        self.globals.update({"__builtins__": builtins, "dbutils": dbutils,
                             "display": display, "displayHTML": displayHTML})
        self._loop = None
        sys.modules["__main__"] = self.module

    def run(self, code, filename):
        # Source lines for tracebacks (mtime None: linecache never drops them).
        linecache.cache[filename] = (len(code), None, code.splitlines(True) or ["\n"], filename)
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        # compile(), not ast.parse(): a SyntaxError then has no stdlib frame.
        tree = compile(code, filename, "exec", flags | ast.PyCF_ONLY_AST)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr) and \
                not code.rstrip().endswith(";"):
            last = tree.body.pop()
        self._eval(compile(tree, filename, "exec", flags=flags))
        if last is not None:
            value = self._eval(compile(ast.Expression(last.value), filename, "eval", flags=flags))
            if value is not None:
                print(repr(value))

    def _eval(self, co):
        result = eval(co, self.globals)
        if co.co_flags & inspect.CO_COROUTINE:
            if self._loop is None:
                import asyncio  # only for top-level await: it is slow to import
                self._loop = asyncio.new_event_loop()
            result = self._loop.run_until_complete(result)
        return result

    def close(self):
        if self._loop is not None:
            self._loop.close()


def run(ctx, session, cap):
    """Runs the notebook at ctx.path. Returns the exit status; writes cells.json
    and, on failure, error.json. Raises errors.Terminated after recording."""
    outs = session.outputs
    try:
        with open(ctx.path, "rb") as f:
            raw = f.read()
    except OSError as e:
        msg = "cannot read notebook %s (%s): %s" % (
            ctx.workspace_path, ctx.path, e.strerror or e)
        outs.write_error(msg, msg + "\n")
        print(msg, file=sys.stderr)
        return 1
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        msg = "notebook %s is not UTF-8 text: %s" % (ctx.workspace_path, e)
        outs.write_error(msg, msg + "\n")
        print(msg, file=sys.stderr)
        return 1
    cells = parse_source(text)
    return run_cells(session, cap, cells)


def run_cells(session, cap, cells):
    outs = session.outputs
    records = [c.record() for c in cells]
    ns = Namespace(session.dbutils)
    failure = None  # (error, trace, status)
    terminated = None
    try:
        for cell, rec in zip(cells, records):
            rec["skipped"] = False
            if cell.kind == "markdown" or \
                    (cell.magic in (None, "python", "sh") and not cell.code.strip()):
                continue
            cap.start()
            stop = False
            try:
                if cell.kind == "code":
                    ns.run(cell.code, "<notebook cell %d>" % cell.index)
                elif cell.magic == "sh":
                    run_sh(cell.code, cell.index)
                else:
                    msg = unsupported_magic_message(cell.magic, cell.index)
                    raise CellFailure(msg, msg + "\n")
            except NotebookExit:
                stop = True
            except CellFailure as e:
                failure = (e.error, e.trace, 1)
            except errors.Terminated as e:
                err, trace = errors.describe(e)
                failure = (err, trace, 1)
                terminated = e
            except SystemExit as e:
                code = errors.system_exit_code(e)
                if code == 0:
                    stop = True
                else:
                    err, trace = errors.describe(e, "notebooks")
                    failure = (err, trace, errors.exit_status(code))
            except BaseException as e:  # the user's exception, KeyboardInterrupt included
                err, trace = errors.describe(e, "notebooks")
                failure = (err, trace, 1)
            finally:
                rec["output"], truncated = cap.stop()
                if truncated:
                    rec["truncated"] = True
            if failure:
                rec["error"] = failure[1]
                break
            outs.write_cells(records, durable=False)
            if stop or session.exited:
                break
        for rec in records:
            if rec["skipped"]:
                rec["output"] = ""
    finally:
        ns.close()
    outs.write_cells(records)
    if failure:
        outs.write_error(failure[0], failure[1])
        sys.stderr.write(failure[1])
        sys.stderr.flush()
        if terminated is not None:
            raise terminated
        return failure[2]
    return 0
