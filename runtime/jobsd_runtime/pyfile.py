"""pyfile - runs a spark_python_task file as __main__.

As `python3 FILE ARGS...` would: runpy.run_path(FILE, run_name="__main__"),
sys.argv = [FILE] + argv, the file's folder first on sys.path. dbutils,
display and displayHTML are builtins (no import needed).

Outcomes:
- the file returns, or calls dbutils.notebook.exit(v) (exit_value = str(v)),
  or raises SystemExit(0/None/False): success, status 0;
- SystemExit(n), n another int: failure "SystemExit: n", status n (1 when n
  is 2, the runtime's "bad context" status, or out of 1..255);
- SystemExit("text"): failure "SystemExit: text", status 1;
- any other exception: error.json, the traceback on stderr, status 1.
"""
import runpy
import sys

from . import errors
from .dbutils import NotebookExit

WHAT = "Python files"


def run(ctx, session):
    """Returns the exit status. Raises errors.Terminated after recording."""
    outs = session.outputs
    try:
        with open(ctx.path, "rb"):
            pass
    except OSError as e:
        msg = "cannot read Python file %s (%s): %s" % (ctx.workspace_path, ctx.path,
                                                       e.strerror or e)
        outs.write_error(msg, msg + "\n")
        print(msg, file=sys.stderr)
        return 1
    try:
        runpy.run_path(ctx.path, run_name="__main__")
        return 0
    except NotebookExit:
        return 0
    except SystemExit as e:
        code = errors.system_exit_code(e)
        if code == 0:
            return 0
        err, trace = errors.describe(e, WHAT)
        status = errors.exit_status(code)
        terminated = None
    except errors.Terminated as e:
        err, trace = errors.describe(e, WHAT)
        status, terminated = 1, e
    except BaseException as e:  # the user's exception, KeyboardInterrupt included
        err, trace = errors.describe(e, WHAT)
        status, terminated = 1, None
    outs.write_error(err, trace)
    sys.stderr.write(trace)
    sys.stderr.flush()
    if terminated is not None:
        raise terminated
    return status
