"""jobsd_runtime - the Python side of jobsd's task runtime.

jobsd's engine writes ATTEMPT_DIR/context.json and runs

    /usr/bin/python3 <repo>/runtime/jobsd_task.py ATTEMPT_DIR/context.json

under its supervisor. This package reads the context, runs the notebook or
Python file it names with a `dbutils` object, and leaves the outputs the
engine reads back (exit_value, task_values.json, error.json, cells.json) in
the attempt folder. docs/internals/runtime.md describes the protocol.

Standard library only: the runtime must work on a bare Debian python3. The
optional Jupyter path imports nbclient/nbformat lazily.

Modules:
  context   - loads and validates context.json (bad context: exit 2)
  outputs   - atomic writes of the output files
  dbutils   - the dbutils object (widgets, notebook, jobs.taskValues), display
  errors    - error/error_trace text for error.json, runtime frames trimmed
  capture   - the stdout/stderr tee that records each cell's output
  notebook  - Databricks source notebooks: cell parsing and execution
  pyfile    - spark_python_task files run as __main__
  jupyter   - .ipynb notebooks through nbclient and an ipykernel kernel
  main      - the entry: dispatch, exit codes, internal-failure reporting
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_CONTEXT = 2
