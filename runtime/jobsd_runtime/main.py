"""main - the runtime's entry: context, dispatch, exit status.

Exit status: 0 success (notebook.exit included); 1 the task failed (error.json
says why) or the runtime itself failed (error.json's error starts with
"jobsd runtime:"); 2 the context file is bad (nothing of the user's ran);
or death by SIGTERM when jobsd's supervisor stopped the task (see term.py).
A failing sys.exit(n) in user code exits n (1..255, but 1 for 2).
"""
import os
import sys

from . import EXIT_BAD_CONTEXT, EXIT_FAILED, capture, context, dbutils, errors, outputs, term

USAGE = "usage: jobsd_task.py ATTEMPT_DIR/context.json\n"


def _say(msg):
    try:
        sys.stderr.write(msg if msg.endswith("\n") else msg + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def report_internal(outs, error, trace):
    """Records a failure of the runtime itself; returns EXIT_FAILED."""
    _say(trace)
    if outs is not None:
        try:
            outs.write_error(error, trace)
        except Exception as e:
            _say("jobsd runtime: cannot record the failure: %s" % e)
    return EXIT_FAILED


def _bad_context(path, err):
    msg = "jobsd runtime: bad context file %s: %s" % (path, err)
    folder = os.path.dirname(os.path.abspath(path))
    outs = outputs.Outputs(folder) if os.path.isdir(folder) else None
    report_internal(outs, msg, msg + "\n")
    return EXIT_BAD_CONTEXT


def _prepare_process(ctx):
    """sys.argv and sys.path as `python3 FILE ARGS` has them (then the
    context's extra sys_path folders, e.g. the notebook's workspace folder,
    whose Python files a notebook may import). No bytecode is
    written, for the runtime nor for the user's modules: a __pycache__ folder
    in the workspace would show up in workspace listings."""
    sys.argv = [ctx.path] + (ctx.argv if ctx.kind == "python_file" else [])
    for i, folder in enumerate([os.path.dirname(ctx.path)] + ctx.sys_path):
        if folder not in sys.path:
            sys.path.insert(i, folder)
    sys.dont_write_bytecode = True


def _dispatch(ctx, outs):
    session = dbutils.Session(ctx, outs)
    dbutils.install(session)
    _prepare_process(ctx)
    term.install()
    if ctx.kind == "python_file":
        from . import pyfile
        return pyfile.run(ctx, session)
    if ctx.language.upper() != "PYTHON":
        msg = ("notebook %s is a %s notebook: jobsd's Python runtime runs Python notebooks "
               "only" % (ctx.workspace_path, ctx.language))
        outs.write_error(msg, msg + "\n")
        _say(msg)
        return EXIT_FAILED
    if ctx.format == "JUPYTER":
        from . import jupyter
        return jupyter.run(ctx, session)
    from . import notebook
    cap = capture.CellCapture()
    real = capture.install_tee(cap)
    try:
        return notebook.run(ctx, session, cap)
    finally:
        sys.stdout, sys.stderr = real


def main(argv):
    if len(argv) != 1:
        _say(USAGE)
        return EXIT_BAD_CONTEXT
    capture.prepare_std_streams()
    try:
        ctx = context.load(argv[0])
    except context.ContextError as e:
        return _bad_context(argv[0], e)
    except Exception as e:  # a bug in the checks themselves: still a bad context
        return _bad_context(argv[0], "%s: %s" % (type(e).__name__, e))
    outs = outputs.Outputs(ctx.output_dir)
    try:
        return _dispatch(ctx, outs)
    except errors.Terminated:
        return term.die()
    except outputs.OutputError as e:
        msg = "jobsd runtime: %s" % e
        return report_internal(outs, msg, msg + "\n")
    except BaseException as e:
        import traceback
        trace = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        short = errors.type_name(type(e)) + (": %s" % e if str(e) else "")
        return report_internal(outs, "jobsd runtime: internal error: %s" % short,
                               "jobsd runtime: internal error\n" + trace)
