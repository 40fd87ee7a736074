"""Helpers for the task runtime's tests (runtime/jobsd_task.py).

Each test gets an attempt folder (pytest's tmp_path), writes the task's file
and context.json there, and runs the entry point as jobsd's engine does:
`/usr/bin/python3 -I runtime/jobsd_task.py ATTEMPT_DIR/context.json` with the
attempt folder as cwd. `-I` checks that the entry finds its package itself.
"""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime"
ENTRY = RUNTIME / "jobsd_task.py"
PYTHON = "/usr/bin/python3"

# For the unit tests of pure helpers (notebook.parse_source...).
if str(RUNTIME) not in sys.path:
    sys.path.insert(0, str(RUNTIME))

HEADER = "# Databricks notebook source\n"
SEP = "\n# COMMAND ----------\n\n"


def source_notebook(*cells):
    """The text of a Python source notebook with these cells."""
    return HEADER + SEP.join(c.strip("\n") + "\n" for c in cells)


class Result:
    def __init__(self, proc, folder):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.dir = folder

    def _read(self, name):
        p = self.dir / name
        return p.read_bytes().decode("utf-8") if p.exists() else None

    @property
    def exit_value(self):
        return self._read("exit_value")

    def _json(self, name):
        text = self._read(name)
        return None if text is None else json.loads(text)

    @property
    def task_values(self):
        return self._json("task_values.json")

    @property
    def error(self):
        return self._json("error.json")

    @property
    def cells(self):
        return self._json("cells.json")

    def leftovers(self):
        """Temp files and folders the runtime left behind (there must be none)."""
        return [p.name for p in self.dir.iterdir() if p.name.startswith(".jobsd-")]

    def __repr__(self):
        return "<Result rc=%s stdout=%r stderr=%r>" % (self.rc, self.stdout, self.stderr)


class Attempt:
    """An attempt folder and ways to run a task in it."""

    def __init__(self, folder):
        self.dir = folder

    def context(self, **fields):
        ctx = {"output_dir": str(self.dir), "job_id": 1, "job_run_id": 4, "task_run_id": 5,
               "task_key": "this_task", "widgets": {}, "task_values": {}}
        ctx.update(fields)
        return ctx

    def run_context(self, ctx, python_args=("-I",), timeout=60, env=None):
        path = self.dir / "context.json"
        if isinstance(ctx, (bytes, str)):
            path.write_bytes(ctx if isinstance(ctx, bytes) else ctx.encode())
        else:
            path.write_text(json.dumps(ctx))
        return self.run_entry([str(path)], python_args, timeout, env)

    def run_entry(self, args, python_args=("-I",), timeout=60, env=None, entry=None):
        cmd = [PYTHON, *python_args] + ([] if entry == "" else [str(entry or ENTRY)]) + list(args)
        e = dict(os.environ, **(env or {}))
        proc = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True,
                              timeout=timeout, env=e)
        return Result(proc, self.dir)

    def write(self, rel, text):
        p = self.dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p

    def notebook(self, *cells, raw=None, **ctx):
        """Runs a source notebook made of `cells` (or the text `raw`)."""
        p = self.write("ws/Users/a@b.c/nb.py", raw if raw is not None else source_notebook(*cells))
        c = self.context(kind="notebook", path=str(p), workspace_path="/Users/a@b.c/nb",
                         format="SOURCE", language="PYTHON")
        c.update(ctx)
        return self.run_context(c)

    def pyfile(self, source, argv=(), **ctx):
        p = self.write("ws/Users/a@b.c/job.py", source)
        c = self.context(kind="python_file", path=str(p), workspace_path="/Users/a@b.c/job.py",
                         argv=list(argv))
        c.update(ctx)
        return self.run_context(c)
