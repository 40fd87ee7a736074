"""runs/export: a notebook task run as one self-contained HTML page.

Notebooks are imported through the Workspace API, run with runs/submit and
waited for by polling runs/get; the page is then checked for what it must
show (every cell's source, output and error, escaped; the run's header) and
for what it must not hold (markup from the notebook, external resources).
A few tests write the attempt folder's cells.json themselves, as a hostile
or broken runtime would, to check that nothing in it is trusted."""
import base64
import html
import json
import re
import time
from html.parser import HTMLParser

EXPORT = "/api/2.0/jobs/runs/export"  # the path prefect-databricks calls
WS = "/api/2.0/workspace"
TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
HEADER = "# Databricks notebook source\n"
SEP = "\n# COMMAND ----------\n\n"

# A notebook whose text is full of markup: every cell must come back escaped.
CELLS = [
    "print('<script>alert(\"x\")</script> & <b>done</b>')",
    "# MAGIC %md\n# MAGIC # Title <i>it's</i> & more",
    "x = 41\nx + 1",
    "raise ValueError('bad <value> & \"quotes\"')",
    "print('never runs')",
]


# --- helpers ----------------------------------------------------------------------------

def b64(text):
    return base64.b64encode(text.encode()).decode()


def import_notebook(server, path, cells, fmt="SOURCE"):
    server.ok("POST", f"{WS}/mkdirs", json={"path": path.rsplit("/", 1)[0]})
    content = HEADER + SEP.join(c + "\n" for c in cells) if fmt == "SOURCE" else cells
    body = {"path": path, "content": b64(content), "format": fmt, "overwrite": True}
    if fmt == "SOURCE":
        body["language"] = "PYTHON"
    server.ok("POST", f"{WS}/import", json=body)


def submit(server, *tasks, version="2.1"):
    return server.ok("POST", f"/api/{version}/jobs/runs/submit",
                     json={"run_name": "export", "tasks": list(tasks)})["run_id"]


def nb_task(key, path, **extra):
    return {"task_key": key, "notebook_task": {"notebook_path": path}, **extra}


def wait_run(server, run_id, timeout=60):
    deadline = time.time() + timeout
    while True:
        run = server.ok("GET", "/api/2.1/jobs/runs/get", params={"run_id": run_id})
        if run["state"]["life_cycle_state"] in TERMINAL:
            return run
        assert time.time() < deadline, f"run {run_id} not terminal: {run['state']}"
        time.sleep(0.05)


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = pred()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def export(server, run_id, views=None, path=EXPORT):
    params = {"run_id": run_id}
    if views is not None:
        params["views_to_export"] = views
    return server.ok("GET", path, params=params)


def page_of(server, run_id, **kw):
    body = export(server, run_id, **kw)
    assert list(body) == ["views"], body.keys()
    assert len(body["views"]) == 1, body
    view = body["views"][0]
    assert view["type"] == "NOTEBOOK"
    return view


def attempt_dir(server, task_run_id):
    return server.data_dir / "runs" / str(task_run_id)


def run_notebook(server, path, cells, key="nb"):
    """Imports and runs a notebook; returns (job run, its one task run)."""
    import_notebook(server, path, cells)
    run = wait_run(server, submit(server, nb_task(key, path)))
    return run, run["tasks"][0]


class Page(HTMLParser):
    """Parses a page: checks that tags nest and collects the text of each
    <pre>/<div> by class, and the attributes that could load something."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.stack, self.blocks, self.loads, self.errors = [], [], [], []
        self.current = None
        self.feed(text)
        self.close()
        assert not self.stack, f"unclosed tags: {self.stack}"
        assert not self.errors, self.errors

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.loads += [(tag, k) for k in a if k in ("src", "href", "action", "srcset")]
        if tag in self.VOID:
            return
        self.stack.append(tag)
        if tag in ("pre", "div") and a.get("class") in ("src", "out", "err", "md"):
            self.current = [a["class"], "", tag == "pre"]
            self.blocks.append(self.current)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag in ("pre", "div"):
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current[1] += data

    def texts(self, cls):
        # Browsers drop one newline right after <pre> (html.parser does not):
        # the page writes one there so that the text's own first line stays.
        out = []
        for c, t, pre in self.blocks:
            if c == cls:
                if pre:
                    assert t.startswith("\n"), t[:80]
                    t = t[1:]
                out.append(t)
        return out


def check_self_contained(content):
    assert content.startswith("<!DOCTYPE html>\n")
    assert content.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in content
    page = Page(content)
    assert page.loads == [], f"the page loads resources: {page.loads}"
    assert "<script" not in content.lower()
    assert "url(" not in content and "@import" not in content
    return page


# --- the page of a run ------------------------------------------------------------------------

def test_export_shows_each_cell_escaped(server):
    run, task = run_notebook(server, "/Users/admin/exports/report <1>", CELLS)
    assert task["state"]["result_state"] == "FAILED"
    view = page_of(server, task["run_id"])
    assert view["name"] == "report <1>"
    content = view["content"]
    page = check_self_contained(content)

    # Each code cell's source, exactly, and escaped in the text of the page.
    assert page.texts("src") == [CELLS[0], "x = 41\nx + 1", CELLS[3], CELLS[4]]
    assert ("print(&#39;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
            "&lt;b&gt;done&lt;/b&gt;&#39;)") in content
    # The markdown cell as text, not rendered.
    assert page.texts("md") == ["# Title <i>it's</i> & more"]
    assert "# Title &lt;i&gt;it&#39;s&lt;/i&gt; &amp; more" in content
    # Outputs: the print, and the value of the last expression.
    assert page.texts("out") == ['<script>alert("x")</script> & <b>done</b>\n', "42\n"]
    # The failing cell's error, with its traceback.
    (err,) = page.texts("err")
    assert "ValueError: bad <value> & \"quotes\"" in err
    assert "Traceback" in err and "<notebook cell 4>" in err
    assert "ValueError: bad &lt;value&gt; &amp; &quot;quotes&quot;" in content
    # The cell after the failure is marked as skipped, and has no output.
    cell5 = content[content.index('id="cell-5"'):]
    assert "skipped" in cell5[:300]
    assert "never runs" not in "".join(page.texts("out"))

    # The header: notebook path, the run ids, the result.
    header = content[:content.index("</header>")]
    assert "/Users/admin/exports/report &lt;1&gt;" in header
    assert f"<th>Run</th><td>{task['run_id']}</td>" in header
    assert f"<th>Job run</th><td>{run['run_id']} " in header
    assert "FAILED" in header and "ValueError" in header
    assert "<title>report &lt;1&gt; - run" in header


def test_export_of_a_successful_run_and_its_output(server):
    cells = ["import json\nkey = dbutils.widgets.get('key')",
             "print('key is', key)",
             "dbutils.notebook.exit(json.dumps({'status': 'ok', 'params': key}))",
             "print('after exit')"]
    import_notebook(server, "/Users/admin/blog", cells)
    run_id = submit(server, nb_task("t", "/Users/admin/blog",
                                    notebook_task={"notebook_path": "/Users/admin/blog",
                                                   "base_parameters": {"key": "<k&y>"}}))
    run = wait_run(server, run_id)
    task = run["tasks"][0]
    assert task["state"]["result_state"] == "SUCCESS", task["state"]
    page = check_self_contained(page_of(server, task["run_id"])["content"])
    assert page.texts("out") == ["key is <k&y>\n"]
    assert page.texts("err") == []
    content = page_of(server, task["run_id"])["content"]
    assert "key is &lt;k&amp;y&gt;" in content
    header = content[:content.index("</header>")]
    assert "SUCCESS" in header
    assert "skipped" in content[content.index('id="cell-4"'):]


def test_views_to_export(server):
    _, task = run_notebook(server, "/Users/admin/views", ["print('hello views')"])
    rid = task["run_id"]
    code = page_of(server, rid)
    assert "hello views" in code["content"]
    for v in ("CODE", "ALL"):
        view = page_of(server, rid, views=v)
        assert view["name"] == "views"
        assert "hello views" in view["content"]
    # jobsd has no dashboards.
    assert export(server, rid, views="DASHBOARDS") == {"views": []}
    body = server.error("GET", EXPORT, 400, "INVALID_PARAMETER_VALUE",
                        params={"run_id": rid, "views_to_export": "PDF"})
    assert "views_to_export" in body["message"]
    # Every version serves it.
    for version in ("2.1", "2.2"):
        view = page_of(server, rid, path=f"/api/{version}/jobs/runs/export")
        assert "hello views" in view["content"]


def test_export_of_a_single_task_job_run(server):
    """A 2.0-shaped submit (seeds/002) is a single-task run: its job run id
    stands for its one task, as with get-output."""
    import_notebook(server, "/Users/admin/single", ["print('one task <only>')"])
    run_id = server.ok("POST", "/api/2.1/jobs/runs/submit", json={
        "run_name": "single", "existing_cluster_id": "x",
        "notebook_task": {"notebook_path": "/Users/admin/single"}})["run_id"]
    run = wait_run(server, run_id)
    by_job_run = page_of(server, run_id)
    by_task_run = page_of(server, run["tasks"][0]["run_id"])
    assert by_job_run["name"] == "single"
    assert "one task &lt;only&gt;" in by_job_run["content"]
    assert by_job_run["content"] == by_task_run["content"]


def test_export_refuses_a_multi_task_job_run(server):
    import_notebook(server, "/Users/admin/m", ["print(1)"])
    two = submit(server, nb_task("a", "/Users/admin/m"),
                 nb_task("b", "/Users/admin/m", depends_on=[{"task_key": "a"}]))
    one = submit(server, nb_task("a", "/Users/admin/m"))  # tasks[]: multi-task format
    for run_id in (two, one):
        wait_run(server, run_id)
        body = server.error("GET", EXPORT, 400, "INVALID_PARAMETER_VALUE",
                            params={"run_id": run_id})
        assert "multiple tasks" in body["message"], body
        assert str(run_id) in body["message"]


def test_export_refuses_other_task_kinds(server):
    run_id = submit(server, {"task_key": "py",
                             "spark_python_task": {"python_file": "/Users/admin/none.py"}})
    run = wait_run(server, run_id)
    tid = run["tasks"][0]["run_id"]
    body = server.error("GET", EXPORT, 400, "INVALID_PARAMETER_VALUE", params={"run_id": tid})
    assert "spark_python_task" in body["message"] and "notebook" in body["message"]


def test_export_of_unknown_or_missing_run_id(server):
    body = server.error("GET", EXPORT, 400, "INVALID_PARAMETER_VALUE",
                        params={"run_id": 987654})
    assert body["message"] == "Run 987654 does not exist."
    body = server.error("GET", EXPORT, 400, "INVALID_PARAMETER_VALUE")
    assert "run_id" in body["message"]
    server.error("GET", EXPORT, 400, params={"run_id": "abc"})
    r = server.api("GET", EXPORT, token="not-a-token", params={"run_id": 1})
    assert r.status_code in (401, 403)


def test_export_when_the_notebook_never_started(server):
    """A notebook that does not exist: the task fails before anything is
    copied into its folder, so there is nothing to export."""
    run = wait_run(server, submit(server, nb_task("gone", "/Users/admin/missing")))
    tid = run["tasks"][0]["run_id"]
    assert run["tasks"][0]["state"]["result_state"] == "FAILED"
    body = server.error("GET", EXPORT, 400, params={"run_id": tid})
    assert str(tid) in body["message"] and "nothing to export" in body["message"]


def test_export_while_running(server):
    """Before the first cell ends there is no cells.json: the snapshot's
    source is shown without outputs. After it, the record, with the cells
    still to run marked as such."""
    import_notebook(server, "/Users/admin/slow_first", ["import time\ntime.sleep(60)",
                                                        "print('<late>')"])
    import_notebook(server, "/Users/admin/slow_second", ["print('<early>')",
                                                         "import time\ntime.sleep(60)",
                                                         "print('<late>')"])
    first = submit(server, nb_task("a", "/Users/admin/slow_first"))
    second = submit(server, nb_task("b", "/Users/admin/slow_second"))
    try:
        def running_task(run_id):
            run = server.ok("GET", "/api/2.1/jobs/runs/get", params={"run_id": run_id})
            t = run["tasks"][0]
            ok = t["state"]["life_cycle_state"] == "RUNNING" and \
                (attempt_dir(server, t["run_id"]) / "notebook.py").exists()
            return t if ok else None

        t1 = wait_for(lambda: running_task(first), what="the first run to start")
        content = page_of(server, t1["run_id"])["content"]
        page = check_self_contained(content)
        assert page.texts("src") == ["import time\ntime.sleep(60)", "print('<late>')"]
        assert page.texts("out") == [] and page.texts("err") == []
        assert "without outputs" in content
        assert "RUNNING" in content[:content.index("</header>")]
        assert str(t1["run_id"]) in content

        t2 = wait_for(lambda: running_task(second), what="the second run to start")
        cells = attempt_dir(server, t2["run_id"]) / "cells.json"
        wait_for(cells.exists, what="the first cell of the second run to end")
        content = page_of(server, t2["run_id"])["content"]
        page = check_self_contained(content)
        assert page.texts("out") == ["<early>\n"]
        assert "not run yet" in content[content.index('id="cell-3"'):]
        assert "without outputs" not in content
    finally:
        for run_id in (first, second):
            server.ok("POST", "/api/2.1/jobs/runs/cancel", json={"run_id": run_id})
        for run_id in (first, second):
            wait_run(server, run_id)


def test_export_of_a_jupyter_notebook(server):
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Jupyter <notes>\n", "two"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "print('from <jupyter>')"}],
        "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                    "display_name": "Python 3"}},
        "nbformat": 4, "nbformat_minor": 5}
    import_notebook(server, "/Users/admin/jup", json.dumps(nb), fmt="JUPYTER")
    run = wait_run(server, submit(server, nb_task("j", "/Users/admin/jup")))
    tid = run["tasks"][0]["run_id"]
    content = page_of(server, tid)["content"]
    page = check_self_contained(content)
    assert "print(&#39;from &lt;jupyter&gt;&#39;)" in content
    assert "# Jupyter &lt;notes&gt;" in content
    # Whether it ran (nbclient installed) or not, the snapshot alone must show
    # the cells too.
    (attempt_dir(server, tid) / "cells.json").unlink(missing_ok=True)
    content = page_of(server, tid)["content"]
    page = check_self_contained(content)
    assert page.texts("src") == ["print('from <jupyter>')"]
    assert page.texts("md") == ["# Jupyter <notes>\ntwo"]
    assert "without outputs" in content


# --- a record that cannot be trusted ------------------------------------------------------------

def test_export_escapes_a_hostile_record(server):
    _, task = run_notebook(server, "/Users/admin/hostile", ["print(1)"])
    tid = task["run_id"]
    record = [
        {"source": "</pre><script>alert(1)</script>", "kind": "code",
         "output": "<img src=x onerror=alert(1)>\u0001\u007f", "error": "</section><a href='//x'>",
         "skipped": False, "title": "<iframe src=//evil>", "magic": "\"><script>"},
        {"source": 5, "kind": ["code"], "output": {"a": 1}, "error": 7, "skipped": "yes"},
        {"source": "# <h1>md</h1>", "kind": "markdown"},
        ["not", "an", "object"],
        "a string",
        {"source": "ok \u00e9\u4e2d\U0001f600", "kind": "code", "output": "", "error": None,
         "skipped": True, "truncated": True},
    ]
    (attempt_dir(server, tid) / "cells.json").write_text(json.dumps(record))
    content = page_of(server, tid)["content"]
    page = check_self_contained(content)
    assert "<img" not in content and "<iframe" not in content and "<a " not in content
    assert page.texts("src")[0] == "</pre><script>alert(1)</script>"
    assert page.texts("out")[0] == "<img src=x onerror=alert(1)>\ufffd\ufffd"
    assert page.texts("err")[0] == "</section><a href='//x'>"
    assert page.texts("md") == ["# <h1>md</h1>"]
    assert "ok \u00e9\u4e2d\U0001f600" in page.texts("src")
    assert "output truncated" in content
    assert 'id="cell-6"' in content


def test_export_of_an_unreadable_record_falls_back_to_the_source(server):
    _, task = run_notebook(server, "/Users/admin/broken", ["print('<src>')"])
    tid = task["run_id"]
    for text in ("not json at all", '[{"source": "a\\u0000b"}]', '{"cells": []}',
                 '[{"source": "unterminated'):
        (attempt_dir(server, tid) / "cells.json").write_text(text)
        content = page_of(server, tid)["content"]
        page = check_self_contained(content)
        assert page.texts("src") == ["print('<src>')"], text
        assert "cannot be read" in content, text


def test_export_of_a_huge_record_is_truncated(server):
    """A record past the 16 MB read limit and a page past its 32 MB budget:
    the cells that fit are shown, the page says "truncated" and stays whole."""
    _, task = run_notebook(server, "/Users/admin/huge", ["print(1)"])
    tid = task["run_id"]
    chunk = "<&>" * 170_000  # 510 kB, escaped to ~2.2 MB
    record = [{"source": f"print({i})", "kind": "code", "output": chunk, "error": None,
               "skipped": False} for i in range(40)]
    path = attempt_dir(server, tid) / "cells.json"
    path.write_text(json.dumps(record))
    assert path.stat().st_size > 16 << 20
    content = page_of(server, tid)["content"]
    assert len(content.encode()) < 33 << 20
    page = check_self_contained(content)
    assert "Truncated" in content
    assert page.texts("src")[:3] == ["print(0)", "print(1)", "print(2)"]
    assert "print(39)" not in content
    # Only the record was cut (not the page): it says so for the record.
    record = record[:3] + [{"source": "x" * (17 << 20), "kind": "code"}]
    path.write_text(json.dumps(record))
    content = page_of(server, tid)["content"]
    page = check_self_contained(content)
    assert page.texts("src") == ["print(0)", "print(1)", "print(2)"]
    assert "16 MB" in content and "Truncated" in content
