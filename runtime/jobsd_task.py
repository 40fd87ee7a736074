"""jobsd_task.py - runs one notebook or Python-file task attempt for jobsd.

    /usr/bin/python3 <repo>/runtime/jobsd_task.py ATTEMPT_DIR/context.json

jobsd's engine writes the context file and reads back the outputs this
leaves in the attempt folder; docs/internals/runtime.md has the protocol.
Works under `python3 -I` too: it puts its own folder on sys.path itself.
"""
import os
import sys


def _fallback_error(argv, msg, trace):
    """The runtime package could not even be imported: record that where the
    engine looks (the context's output_dir, else the context file's folder)."""
    import json
    folder = None
    if len(argv) == 1:
        folder = os.path.dirname(os.path.abspath(argv[0]))
        try:
            with open(argv[0], "rb") as f:
                out = json.loads(f.read().decode("utf-8")).get("output_dir")
            if isinstance(out, str) and os.path.isdir(out):
                folder = out
        except Exception:
            pass
    sys.stderr.write(trace)
    if folder and os.path.isdir(folder):
        tmp = os.path.join(folder, ".jobsd-tmp-error.json-%d" % os.getpid())
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"error": msg, "error_trace": trace}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(folder, "error.json"))
        except OSError:
            pass
    return 1


def _boot(argv):
    here = os.path.dirname(os.path.realpath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    # No __pycache__ in the runtime's folder (nor, later, in the workspace).
    sys.dont_write_bytecode = True
    try:
        from jobsd_runtime.main import main
    except BaseException as e:
        import traceback
        trace = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        return _fallback_error(argv, "jobsd runtime: cannot load the runtime package from "
                               "%s: %s: %s" % (here, type(e).__name__, e), trace)
    return main(argv)


if __name__ == "__main__":
    sys.exit(_boot(sys.argv[1:]))
