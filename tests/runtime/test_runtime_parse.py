"""Cell parsing of Python source notebooks (pure; no subprocess)."""
import sys

import rt_helpers  # noqa: F401 - puts runtime/ on sys.path

_saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
from jobsd_runtime import notebook  # noqa: E402
sys.dont_write_bytecode = _saved


def cells(text):
    return [(c.kind, c.source, c.magic) for c in notebook.parse_source(text)]


def test_header_separators_and_trimming():
    text = ("# Databricks notebook source\n\nx = 1\n\n\n# COMMAND ----------\n\n"
            "  \ny = 2\n  z = 3\n\n# COMMAND ----------\t \nw\n")
    assert cells(text) == [("code", "x = 1", None), ("code", "y = 2\n  z = 3", None),
                           ("code", "w", None)]


def test_no_header_keeps_the_first_line():
    assert cells("print(1)\n") == [("code", "print(1)", None)]


def test_empty_and_blank_notebooks_have_no_cells():
    assert cells("# Databricks notebook source\n") == []
    assert cells("# Databricks notebook source\n\n  \n") == []
    assert cells("") == []


def test_empty_cells_are_kept():
    text = "# Databricks notebook source\na\n# COMMAND ----------\n\n# COMMAND ----------\nb"
    assert cells(text) == [("code", "a", None), ("code", "", None), ("code", "b", None)]


def test_magic_cells():
    text = "\n# COMMAND ----------\n".join([
        "# Databricks notebook source\n# MAGIC %md\n# MAGIC # T\n\n# MAGIC body",
        "# MAGIC %md-sandbox <i>x</i>",
        "# MAGIC %sh\n# MAGIC ls -l",
        "# MAGIC %python\n# MAGIC print(1)",
        "# MAGIC %run ./other",
        "# MAGIC %sql SELECT 1",
    ])
    assert cells(text) == [
        ("markdown", "# T\n\nbody", "md"),
        ("markdown", "<i>x</i>", "md-sandbox"),
        ("magic", "%sh\nls -l", "sh"),
        ("code", "%python\nprint(1)", "python"),
        ("magic", "%run ./other", "run"),
        ("magic", "%sql SELECT 1", "sql"),
    ]
    parsed = notebook.parse_source(text)
    assert parsed[2].code == "\nls -l"
    assert parsed[3].code == "\nprint(1)"  # the magic line blanked: line numbers kept
    assert parsed[5].code == "SELECT 1"


def test_magic_comments_inside_code_stay_code():
    text = "# Databricks notebook source\nx = 1\n# MAGIC %sql\n"
    assert cells(text) == [("code", "x = 1\n# MAGIC %sql", None)]
    # All lines MAGIC, but the first is not a magic command: plain (comment) code.
    text = "# Databricks notebook source\n# MAGIC just a comment\n"
    assert cells(text) == [("code", "# MAGIC just a comment", None)]


def test_dbtitle():
    parsed = notebook.parse_source(
        "# Databricks notebook source\n# DBTITLE 1,Read the input, carefully\n"
        "# MAGIC %md\n# MAGIC hello\n")
    assert [(c.kind, c.source, c.title) for c in parsed] == \
        [("markdown", "hello", "Read the input, carefully")]


def test_crlf_and_bom():
    text = "\ufeff# Databricks notebook source\r\na = 1\r\n# COMMAND ----------\r\nb = 2\r\n"
    assert cells(text) == [("code", "a = 1", None), ("code", "b = 2", None)]


def test_cell_records():
    c = notebook.parse_source("# Databricks notebook source\n# MAGIC %sh\n# MAGIC ls\n")[0]
    assert c.record() == {"source": "%sh\nls", "kind": "magic", "output": "", "error": None,
                          "skipped": True, "magic": "sh"}
