"""kernel - set-up run inside the Jupyter kernel before a notebook's cells.

jupyter.py executes, as a hidden first cell,

    import sys; sys.path.insert(0, RUNTIME_DIR)
    from jobsd_runtime import kernel; kernel.setup(CONTEXT_PATH)

which builds dbutils from the same context file (the kernel writes exit_value
and task_values.json itself), puts dbutils and displayHTML in the user
namespace (display is IPython's own), turns colours off so tracebacks are
plain text, lets dbutils.notebook.exit end a cell without a traceback, and
ties the kernel's life to the runtime process (PR_SET_PDEATHSIG): jupyter_client
starts kernels in their own session, out of reach of the supervisor's
process-group kill.
"""
import os
import signal
import sys
import warnings

from . import context, dbutils, outputs


def _exit_handler(shell, etype, value, tb, tb_offset=None):
    return []  # no traceback: the cell simply ends (the reply says NotebookExit)


def _die_with_parent():
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except Exception:
        return
    parent = os.environ.get("JPY_PARENT_PID")
    if parent and parent.isdigit() and os.getppid() != int(parent):
        os._exit(1)  # the runtime died before the prctl: do not outlive it


def setup(context_path):
    ctx = context.load(context_path)
    session = dbutils.Session(ctx, outputs.Outputs(ctx.output_dir))
    db = dbutils.install(session)
    sys.dont_write_bytecode = True  # no __pycache__ in the workspace (see main.py)
    for i, folder in enumerate([os.path.dirname(ctx.path)] + ctx.sys_path):
        if folder not in sys.path:
            sys.path.insert(i, folder)
    sys.argv = [ctx.path]
    _die_with_parent()
    try:
        ip = get_ipython()  # noqa: F821 - defined inside IPython
    except NameError:
        return
    ip.user_ns["dbutils"] = db
    ip.user_ns["displayHTML"] = dbutils.displayHTML
    ip.set_custom_exc((dbutils.NotebookExit,), _exit_handler)
    # IPython warns on sys.exit() that a shell is left with exit/quit: not here.
    warnings.filterwarnings("ignore", message="To exit: use", category=UserWarning)
    try:
        ip.run_line_magic("colors", "nocolor")
    except Exception:
        pass
