"""jupyter - runs an .ipynb notebook through nbclient and an ipykernel kernel.

Needs, for /usr/bin/python3, the modules nbformat, nbclient (with
jupyter_client) and ipykernel: Debian packages python3-nbformat,
python3-nbclient and python3-ipykernel. Without them the task fails (exit
1) with an error naming what is missing and the packages to install.

How a run goes:
- a hidden first cell (kernel.py) builds dbutils in the kernel from the same
  context file; the kernel itself writes exit_value and task_values.json;
- cells run one by one, in order. Databricks magics are handled as in source
  notebooks: a code cell starting with %md is markdown, %sh runs here with
  /bin/sh, %python is plain code, and %pip, %conda, %run, %sql, %scala, %r
  and %fs fail the notebook. Other magics (IPython's %time, %%timeit, !cmd...)
  go to the kernel, which knows them;
- each cell's stream output and the text/plain form of its results and
  displays are copied to this process's stdout/stderr (the task's log) and
  recorded in cells.json;
- the first error stops the run; dbutils.notebook.exit and sys.exit(0) end it
  successfully (the cells after are skipped).
The kernel runs in the attempt folder (the runtime's cwd); its connection
files and IPython's profile go to a folder .jobsd-jupyter-* in the attempt
folder, removed at the end.
"""
import os
import re
import shutil
import signal
import sys
import tempfile
import warnings

from . import capture, errors, notebook, term

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = "python3"

# module -> the Debian package that provides it
REQUIRED = (("nbformat", "python3-nbformat"), ("nbclient", "python3-nbclient"),
            ("jupyter_client", "python3-jupyter-client"), ("ipykernel", "python3-ipykernel"))

# Databricks magics the kernel must not see (IPython would run some of them
# with another meaning, e.g. %run of a .py file, %pip into the system).
DATABRICKS_ONLY = ("pip", "conda", "run", "sql", "scala", "r", "fs")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_SPARK_NAME_ERROR = re.compile(r"name '(%s)' is not defined" % "|".join(errors.SPARK_NAMES))

STARTUP_TIMEOUT = 120  # seconds for the kernel to answer; cells have no timeout


def missing_modules():
    """[(module, package, reason)] of what cannot be found. Found, not
    imported: ipykernel runs in the kernel, not here (and importing it here
    would start its debugger's warnings)."""
    import importlib.util
    out = []
    for mod, pkg in REQUIRED:
        try:
            if importlib.util.find_spec(mod) is None:
                out.append((mod, pkg, "not found"))
        except ImportError as e:
            out.append((mod, pkg, str(e)))
        except Exception as e:  # installed but broken
            out.append((mod, pkg, "%s: %s" % (type(e).__name__, e)))
    return out


def _missing_message(miss):
    mods = ", ".join(m for m, _, _ in miss)
    pkgs = " ".join(p for _, p, _ in miss)
    return ("Jupyter notebooks need the Python modules %s, which cannot be imported by %s: "
            "install the Debian packages %s (apt-get install %s)"
            % (mods, sys.executable or "python3", pkgs, pkgs))


def _fail(outs, msg):
    outs.write_error(msg, msg + "\n")
    sys.stderr.write(msg + "\n")
    return 1


def _strip_ansi(s):
    return _ANSI.sub("", s)


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else (src or "")


def _classify(index, cell):
    """A notebook.Cell for an nbformat cell (kind, shown source, code)."""
    src = _source(cell)
    ctype = cell.get("cell_type")
    if ctype != "code":
        return notebook.Cell(index, "markdown", src)
    body = notebook.split_lines(src)
    while body and not body[0].strip():
        body.pop(0)
    if body and body[0].startswith("%") and not body[0].startswith("%%"):
        name, _ = notebook.magic_name(body[0])
        if name in ("md", "md-sandbox", "python", "sh") or name.lower() in DATABRICKS_ONLY:
            c = notebook.classify(index, body, True)
            if c.kind == "markdown" or c.magic == "python":
                return c
            c.source = src
            return c
    return notebook.Cell(index, "code", src, code=src)


def _output_text(out):
    t = out.get("output_type")
    if t == "stream":
        return out.get("name", "stdout"), out.get("text", "")
    if t in ("execute_result", "display_data"):
        text = (out.get("data") or {}).get("text/plain")
        if isinstance(text, list):
            text = "".join(text)
        if text:
            return "stdout", text if text.endswith("\n") else text + "\n"
    return None, ""


def _copy_outputs(cell):
    """Writes a kernel cell's outputs to sys.stdout/sys.stderr: the tees put
    them in the log and in the cell's record."""
    for out in cell.get("outputs", []):
        stream, text = _output_text(out)
        if text:
            (sys.stderr if stream == "stderr" else sys.stdout).write(text)


def _error_from_reply(content):
    """(error, trace) from an execute_reply in error; the Spark hint added."""
    ename = content.get("ename") or "Error"
    evalue = content.get("evalue") or ""
    trace = _strip_ansi("\n".join(content.get("traceback") or []))
    if ename == "NameError" and _SPARK_NAME_ERROR.fullmatch(evalue):
        better = "%s. %s" % (evalue, errors.spark_hint("notebooks"))
        trace = trace.replace("NameError: " + evalue, "NameError: " + better)
        evalue = better
    error = "%s: %s" % (ename, evalue) if evalue else ename
    if not trace.strip() or ename == "SystemExit":
        trace = error  # IPython's SystemExit text only says to use %tb
    return error, trace.rstrip("\n") + "\n"


def _exit_code(evalue):
    v = (evalue or "").strip()
    if v in ("", "None", "0", "False"):
        return 0
    if v == "True":
        return 1
    try:
        return int(v)
    except ValueError:
        return 1


class _Run:
    def __init__(self, ctx, session):
        self.ctx = ctx
        self.session = session
        self.outs = session.outputs
        self.terminated = False
        self.client = None
        self.reply = None

    def kill_kernel(self):
        """SIGTERM hook: kill the kernel's process group; the cell then ends
        with a dead kernel and the run records what it has."""
        self.terminated = True
        km = getattr(self.client, "km", None)
        proc = getattr(getattr(km, "provisioner", None), "process", None) or \
            getattr(km, "kernel", None)
        try:
            os.killpg(os.getpgid(proc.pid), signal.SIGKILL)
        except Exception:
            pass

    def on_executed(self, cell=None, cell_index=None, execute_reply=None, **kw):
        self.reply = execute_reply


def _setup_code(ctx):
    return ("import sys as _jobsd_sys\n"
            "_jobsd_sys.dont_write_bytecode = True\n"
            "_jobsd_sys.path.insert(0, %r)\n"
            "from jobsd_runtime import kernel as _jobsd_kernel\n"
            "_jobsd_kernel.setup(%r)\n"
            "del _jobsd_sys, _jobsd_kernel\n" % (RUNTIME_DIR, ctx.context_path))


def run(ctx, session):
    outs = session.outputs
    # ipykernel's debugger (imported by the kernel, and here by the kernel spec
    # lookup) otherwise warns on stderr about frozen modules.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    miss = missing_modules()
    if miss:
        return _fail(outs, _missing_message(miss))
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        return _fail(outs, "Jupyter notebooks need a Jupyter kernel named %s, and none is "
                           "installed: install the Debian package python3-ipykernel" % KERNEL)
    try:
        with open(ctx.path, "rb") as f:
            text = f.read().decode("utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except OSError as e:
        return _fail(outs, "cannot read notebook %s (%s): %s" % (ctx.workspace_path, ctx.path,
                                                                   e.strerror or e))
    except Exception as e:
        return _fail(outs, "notebook %s is not a Jupyter notebook jobsd can read: %s: %s"
                     % (ctx.workspace_path, type(e).__name__, e))

    # In the attempt folder, not /tmp: a run killed with SIGKILL leaves it with
    # the attempt's other files rather than in /tmp for good.
    tmp = tempfile.mkdtemp(prefix=".jobsd-jupyter-", dir=ctx.output_dir)
    for var, value in (("JUPYTER_RUNTIME_DIR", os.path.join(tmp, "runtime")),
                       ("IPYTHONDIR", os.path.join(tmp, "ipython"))):
        if not os.environ.get(var):
            os.environ[var] = value
    cap = capture.CellCapture()
    real = capture.install_tee(cap)
    try:
        return _run_notebook(ctx, session, nb, cap)
    finally:
        sys.stdout, sys.stderr = real
        term.set_hook(None)
        shutil.rmtree(tmp, ignore_errors=True)


def _run_notebook(ctx, session, nb, cap):
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError
    import nbformat

    outs = session.outputs
    cells = [_classify(i, c) for i, c in enumerate(nb.cells, 1)]
    records = [c.record() for c in cells]
    r = _Run(ctx, session)
    setup = nbformat.v4.new_code_cell(_setup_code(ctx))
    nb.cells.insert(0, setup)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=None, allow_errors=True,
                            startup_timeout=STARTUP_TIMEOUT, shutdown_kernel="immediate",
                            resources={"metadata": {"path": os.getcwd()}},
                            on_cell_executed=r.on_executed)
    r.client = client
    failure = None  # (error, trace, status)
    try:
        with client.setup_kernel():
            term.set_hook(r.kill_kernel)
            r.reply = None
            client.execute_cell(setup, 0, store_history=False)
            content = (r.reply or {}).get("content", {})
            if content.get("status") != "ok":
                err, trace = _error_from_reply(content)
                msg = "jobsd runtime: could not set up the Jupyter kernel: %s" % err
                outs.write_cells(records)
                outs.write_error(msg, msg + "\n" + trace)
                sys.stderr.write(msg + "\n" + trace)
                return 1
            for pos, (cell, rec) in enumerate(zip(cells, records), 1):
                rec["skipped"] = False
                if cell.kind == "markdown" or \
                        (cell.magic in (None, "python", "sh") and not (cell.code or "").strip()):
                    continue
                stop = False
                cap.start()
                try:
                    if cell.kind == "magic" and cell.magic == "sh":
                        notebook.run_sh(cell.code, cell.index)
                    elif cell.kind == "magic":
                        msg = notebook.unsupported_magic_message(cell.magic, cell.index)
                        raise notebook.CellFailure(msg, msg + "\n")
                    else:
                        nbcell = nb.cells[pos]
                        if cell.magic == "python":
                            nbcell = nbformat.v4.new_code_cell(cell.code)
                            nb.cells[pos] = nbcell
                        r.reply = None
                        try:
                            client.execute_cell(nbcell, pos)
                        finally:
                            _copy_outputs(nbcell)
                        content = (r.reply or {}).get("content", {})
                        if session.outputs.has_exit_value() or \
                                content.get("ename") == "NotebookExit":
                            stop = True
                        elif content.get("status") == "error":
                            if content.get("ename") == "SystemExit" and \
                                    _exit_code(content.get("evalue")) == 0:
                                stop = True
                            else:
                                err, trace = _error_from_reply(content)
                                status = 1
                                if content.get("ename") == "SystemExit":
                                    status = errors.exit_status(_exit_code(content.get("evalue")))
                                failure = (err, trace, status)
                except notebook.CellFailure as e:
                    failure = (e.error, e.trace, 1)
                except DeadKernelError:
                    if r.terminated:
                        failure = ("Terminated: " + term.MESSAGE, "Terminated: " + term.MESSAGE
                                   + "\n", 1)
                    else:
                        msg = "DeadKernelError: the Jupyter kernel died while running " \
                              "notebook cell %d" % cell.index
                        failure = (msg, msg + "\n", 1)
                finally:
                    rec["output"], truncated = cap.stop()
                    if truncated:
                        rec["truncated"] = True
                if r.terminated and not failure:
                    failure = ("Terminated: " + term.MESSAGE,
                               "Terminated: " + term.MESSAGE + "\n", 1)
                if failure:
                    rec["error"] = failure[1]
                    break
                outs.write_cells(records, durable=False)
                if stop:
                    break
    finally:
        term.set_hook(None)
    for rec in records:
        if rec["skipped"]:
            rec["output"] = ""
    outs.write_cells(records)
    if failure:
        outs.write_error(failure[0], failure[1])
        sys.stderr.write(failure[1])
        sys.stderr.flush()
        if r.terminated:
            raise errors.Terminated(term.MESSAGE)
        return failure[2]
    return 0
