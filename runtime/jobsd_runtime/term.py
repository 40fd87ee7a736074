"""term - what the runtime does on SIGTERM.

jobsd's supervisor sends SIGTERM to the task's process group to cancel it or
at its timeout, and SIGKILL after a grace period. On the first SIGTERM the
runtime raises errors.Terminated in the main thread (or, while a Jupyter
kernel runs the cell, calls the hook that kills the kernel), records what ran
(cells.json, error.json), and then dies by SIGTERM itself so the supervisor
sees what it would have seen without the handler. Further SIGTERMs are
ignored while it records. A user handler installed later replaces this one.
"""
import os
import signal
import sys

from . import errors

_hook = None
MESSAGE = "the task received SIGTERM: jobsd canceled it or it timed out"


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if _hook is not None:
        _hook()
        return
    raise errors.Terminated(MESSAGE)


def install():
    signal.signal(signal.SIGTERM, _on_sigterm)


def set_hook(fn):
    """fn() runs instead of raising (None: raise again)."""
    global _hook
    _hook = fn


def die():
    """Ends the process by SIGTERM (after flushing what can be flushed)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
    return 128 + signal.SIGTERM  # not reached unless SIGTERM is blocked
