"""Workspace API (/api/2.0/workspace/*) against a real jobsd: every endpoint,
both import encodings (JSON + base64 and the SDKs' multipart upload), the
format rules, the /Workspace prefix, every error path with the service's
error_code and a message naming the path, symlinks that stay inside the
workspace or leave it, the size limit, and durability across kill -9.

The on-disk layout is checked directly under server.data_dir / "workspace"
(docs/internals/workspace.md)."""
import base64
import os
import time

import pytest

WS = "/api/2.0/workspace"
HDR = "# Databricks notebook source\n"
RETRY_PHRASES = ("Unexpected error", "Please try again later", "RPC token bucket",
                 "ClusterNotReadyException", "Timed out after", "deadline exceeded",
                 "connection refused", "i/o timeout")


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def root(server):
    return server.data_dir / "workspace"


def imp(server, path, content, **kw):
    return server.api("POST", f"{WS}/import", json={"path": path, "content": b64(content), **kw})


def imp_ok(server, path, content, **kw):
    r = imp(server, path, content, **kw)
    assert r.status_code == 200, r.text
    assert r.json() == {}
    return r


def upload(server, path, content, **fields):
    """What the Python SDK's workspace.upload() sends: multipart/form-data with
    the raw bytes in a file part named content."""
    data = {"path": path, **{k: v for k, v in fields.items()}}
    return server.api("POST", f"{WS}/import", data=data,
                      files={"content": ("content", content, "application/octet-stream")})


def export(server, path, **params):
    return server.api("GET", f"{WS}/export", params={"path": path, **params})


def status(server, path):
    return server.ok("GET", f"{WS}/get-status", params={"path": path})


def ls(server, path, **params):
    return server.ok("GET", f"{WS}/list", params={"path": path, **params}).get("objects", [])


def mkdirs(server, path):
    assert server.ok("POST", f"{WS}/mkdirs", json={"path": path}) == {}


def err(r, status, code, *words):
    assert r.status_code == status, f"{r.status_code} {r.text}"
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["error_code"] == code, body
    for w in words:
        assert w in body["message"], (w, body)
    assert not any(p in body["message"] for p in RETRY_PHRASES), body
    return body


# --- import / export -----------------------------------------------------------------


def test_import_source_and_export_every_way(server):
    mkdirs(server, "/Users/ana@example.com")
    src = "print(1)\n\n# COMMAND ----------\n\n# MAGIC %md\n# MAGIC # Title\n"
    imp_ok(server, "/Users/ana@example.com/etl", src, language="PYTHON")
    # On disk: the source file with the header added.
    assert (root(server) / "Users/ana@example.com/etl.py").read_text() == HDR + src

    info = status(server, "/Users/ana@example.com/etl")
    assert info["object_type"] == "NOTEBOOK" and info["language"] == "PYTHON"
    assert info["path"] == "/Users/ana@example.com/etl"
    assert isinstance(info["object_id"], int) and info["object_id"] > 0
    assert info["created_at"] > 1_600_000_000_000 and info["modified_at"] >= info["created_at"] - 1000
    assert "size" not in info

    r = export(server, "/Users/ana@example.com/etl")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert base64.b64decode(body["content"]).decode() == HDR + src
    assert body["file_type"] == "py"

    raw = export(server, "/Users/ana@example.com/etl", direct_download="true")
    assert raw.status_code == 200
    assert raw.headers["Content-Type"] == "application/octet-stream"
    assert raw.content == (HDR + src).encode()

    nb = export(server, "/Users/ana@example.com/etl", format="JUPYTER").json()
    assert nb["file_type"] == "ipynb"
    doc = __import__("json").loads(base64.b64decode(nb["content"]))
    assert doc["nbformat"] == 4
    assert doc["metadata"]["kernelspec"]["name"] == "python3"
    assert [c["cell_type"] for c in doc["cells"]] == ["code", "markdown"]
    assert "".join(doc["cells"][0]["source"]) == "print(1)"
    assert "".join(doc["cells"][1]["source"]) == "# Title"

    auto = export(server, "/Users/ana@example.com/etl", format="AUTO").json()
    assert auto["file_type"] == "py"


def test_import_languages_and_extensions(server):
    imp_ok(server, "/q", "SELECT 1", language="SQL", format="SOURCE")
    assert (root(server) / "q.sql").read_text() == "-- Databricks notebook source\nSELECT 1"
    imp_ok(server, "/s", "val x = 1", language="SCALA")
    assert (root(server) / "s.scala").read_text().startswith("// Databricks notebook source\n")
    imp_ok(server, "/r", "x <- 1", language="R")
    assert status(server, "/r")["language"] == "R"
    # SOURCE without language: the extension names it and is stripped (the
    # Python SDK's upload() relies on this).
    imp_ok(server, "/etl.py", "x = 1")
    assert status(server, "/etl")["language"] == "PYTHON"
    imp_ok(server, "/rep.R", "1")
    assert status(server, "/rep")["language"] == "R"
    err(imp(server, "/notes", "x"), 400, "INVALID_PARAMETER_VALUE", "language is required for format SOURCE")
    err(imp(server, "/notes.txt", "x", format="SOURCE"), 400, "INVALID_PARAMETER_VALUE", "language")
    err(imp(server, "/n", "x", language="python"), 400, "INVALID_PARAMETER_VALUE", "python")
    err(imp(server, "/n", "x", language="JAVA"), 400, "INVALID_PARAMETER_VALUE", "JAVA")


def test_import_formats(server):
    # AUTO: .ipynb -> notebook without the extension
    ipynb = '{"cells":[{"cell_type":"code","source":["SELECT 1"]}],"metadata":{"language_info":{"name":"sql"}}}'
    imp_ok(server, "/j.ipynb", ipynb, format="AUTO")
    info = status(server, "/j")
    assert info["object_type"] == "NOTEBOOK" and info["language"] == "SQL"
    assert (root(server) / "j.ipynb").read_text() == ipynb
    src = export(server, "/j", format="SOURCE", direct_download="true")
    assert src.content == b"-- Databricks notebook source\nSELECT 1\n"
    assert export(server, "/j", format="AUTO").json()["file_type"] == "ipynb"
    # AUTO: .py with the header -> notebook; without -> file
    imp_ok(server, "/nb.py", HDR + "x = 1\n", format="AUTO")
    assert status(server, "/nb")["object_type"] == "NOTEBOOK"
    err(server.api("GET", f"{WS}/get-status", params={"path": "/nb.py"}), 404, "RESOURCE_DOES_NOT_EXIST", "/nb.py")
    imp_ok(server, "/lib.py", "def f(): pass\n", format="AUTO")
    info = status(server, "/lib.py")
    assert info["object_type"] == "FILE" and info["size"] == 14 and "language" not in info
    # JUPYTER -> stored as P.ipynb
    imp_ok(server, "/jj", '{"cells":[]}', format="JUPYTER")
    assert (root(server) / "jj.ipynb").exists()
    assert status(server, "/jj")["language"] == "PYTHON"
    err(imp(server, "/bad", "[1,2]", format="JUPYTER"), 400, "INVALID_PARAMETER_VALUE", "/bad", "cells")
    err(imp(server, "/bad.ipynb", "nope", format="AUTO"), 400, "INVALID_PARAMETER_VALUE", "JSON")
    # RAW -> a file, whatever its name
    imp_ok(server, "/data.csv", "a,b\n1,2\n", format="RAW")
    assert status(server, "/data.csv")["object_type"] == "FILE"
    r = export(server, "/data.csv").json()
    assert base64.b64decode(r["content"]) == b"a,b\n1,2\n" and r["file_type"] == "csv"
    for fmt in ("HTML", "DBC", "R_MARKDOWN"):
        err(imp(server, "/x", "x", format=fmt), 400, "INVALID_PARAMETER_VALUE",
            f"format {fmt} is not supported by jobsd")
    err(imp(server, "/x", "x", format="source"), 400, "INVALID_PARAMETER_VALUE", "source")
    assert not (root(server) / "x").exists()


def test_multipart_upload(server):
    mkdirs(server, "/Users/u")
    r = upload(server, "/Users/u/nb.py", (HDR + "print(2)\n").encode(), format="AUTO", overwrite="true")
    assert r.status_code == 200, r.text
    assert status(server, "/Users/u/nb")["object_type"] == "NOTEBOOK"
    r = upload(server, "/Users/u/bin.dat", bytes(range(256)) * 4, format="RAW")
    assert r.status_code == 200, r.text
    got = export(server, "/Users/u/bin.dat", direct_download="true")
    assert got.content == bytes(range(256)) * 4
    # Binary data holding the boundary-like bytes and CRLFs survives.
    tricky = b"\r\n--\r\n--boundary\r\n\x00\xff"
    assert upload(server, "/Users/u/t", tricky, format="RAW").status_code == 200
    assert export(server, "/Users/u/t", direct_download="true").content == tricky
    # overwrite travels as text
    err(upload(server, "/Users/u/t", b"x", format="RAW", overwrite="false"), 400,
        "RESOURCE_ALREADY_EXISTS", "Path (/Users/u/t) already exists.")
    assert upload(server, "/Users/u/t", b"y", format="RAW", overwrite="true").status_code == 200
    assert export(server, "/Users/u/t", direct_download="true").content == b"y"
    # language as a field
    assert upload(server, "/Users/u/q", b"SELECT 1", format="SOURCE", language="SQL").status_code == 200
    assert status(server, "/Users/u/q")["language"] == "SQL"
    # A broken multipart body is refused and changes nothing.
    r = server.api("POST", f"{WS}/import", data=b"--x\r\nno headers",
                   headers={"Content-Type": "multipart/form-data; boundary=x"})
    err(r, 400, "MALFORMED_REQUEST", "multipart")
    r = server.api("POST", f"{WS}/import", data=b"--x--",
                   headers={"Content-Type": "multipart/form-data"})
    err(r, 400, "MALFORMED_REQUEST", "boundary")
    r = server.api("POST", f"{WS}/import", data=b"--x\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nx\r\n--x--",
                   headers={"Content-Type": "multipart/form-data; boundary=x"})
    err(r, 400, "INVALID_PARAMETER_VALUE", "path")


def test_import_json_body_errors(server):
    r = server.api("POST", f"{WS}/import", data=b"{not json", headers={"Content-Type": "application/json"})
    err(r, 400, "MALFORMED_REQUEST", "Invalid JSON")
    err(server.api("POST", f"{WS}/import", json=[1]), 400, "MALFORMED_REQUEST", "object")
    err(server.api("POST", f"{WS}/import", json={"path": "/x", "content": "!!notbase64"}), 400,
        "INVALID_PARAMETER_VALUE", "base64")
    err(server.api("POST", f"{WS}/import", json={"path": "/x", "content": 5}), 400,
        "MALFORMED_REQUEST", "content")
    err(server.api("POST", f"{WS}/import", json={"path": 5, "content": ""}), 400, "MALFORMED_REQUEST", "path")
    err(server.api("POST", f"{WS}/import", json={"content": ""}), 400, "INVALID_PARAMETER_VALUE", "path")
    err(server.api("POST", f"{WS}/import", json={"path": "/x", "overwrite": "maybe", "format": "RAW"}),
        400, "MALFORMED_REQUEST", "overwrite")
    # No content: an empty file.
    assert server.api("POST", f"{WS}/import", json={"path": "/empty", "format": "RAW"}).status_code == 200
    assert status(server, "/empty")["size"] == 0
    assert ls(server, "/") == [status(server, "/empty")]


def test_overwrite_rules(server):
    imp_ok(server, "/nb", "a", language="PYTHON")
    err(imp(server, "/nb", "b", language="PYTHON"), 400, "RESOURCE_ALREADY_EXISTS", "Path (/nb) already exists.")
    # same object in another language: still exists
    err(imp(server, "/nb", "b", language="SQL"), 400, "RESOURCE_ALREADY_EXISTS", "(/nb)")
    imp_ok(server, "/nb", "SELECT 2", language="SQL", overwrite=True)
    assert not (root(server) / "nb.py").exists()
    assert (root(server) / "nb.sql").exists()
    assert status(server, "/nb")["language"] == "SQL"
    imp_ok(server, "/nb", "plain", format="RAW", overwrite=True)
    assert status(server, "/nb")["object_type"] == "FILE"
    assert not (root(server) / "nb.sql").exists()
    # folders are never replaced
    mkdirs(server, "/dir")
    err(imp(server, "/dir", "x", format="RAW", overwrite=True), 400, "RESOURCE_ALREADY_EXISTS", "(/dir)")
    assert (root(server) / "dir").is_dir()
    # file /t.py and notebook /t would be the same file on disk
    imp_ok(server, "/t.py", "print(1)", format="RAW")
    err(imp(server, "/t", "x", language="PYTHON", overwrite=True), 400, "RESOURCE_ALREADY_EXISTS",
        "Path (/t.py) already exists.")
    assert (root(server) / "t.py").read_text() == "print(1)"


def test_parent_folders(server):
    # As the service: a missing parent is 404 naming it, nothing is created
    # (clients call mkdirs and retry).
    err(imp(server, "/Users/new@example.com/nb", "x", language="PYTHON"), 404,
        "RESOURCE_DOES_NOT_EXIST", "Path (/Users/new@example.com) doesn't exist.")
    assert not (root(server) / "Users").exists()
    mkdirs(server, "/Users/new@example.com")
    imp_ok(server, "/Users/new@example.com/nb", "x", language="PYTHON")
    # a parent that is a file or a notebook
    imp_ok(server, "/f", "x", format="RAW")
    err(imp(server, "/f/g", "x", format="RAW"), 400, "RESOURCE_ALREADY_EXISTS", "Path (/f) already exists.")
    err(imp(server, "/Users/new@example.com/nb/x", "x", format="RAW"), 400, "RESOURCE_ALREADY_EXISTS",
        "(/Users/new@example.com/nb)")


# --- get-status / list -------------------------------------------------------------------


def test_workspace_prefix(server):
    mkdirs(server, "/Workspace/Shared/team")
    assert (root(server) / "Shared/team").is_dir()
    imp_ok(server, "/Workspace/Shared/team/nb", "1", language="PYTHON")
    assert status(server, "/Shared/team/nb")["path"] == "/Shared/team/nb"
    assert status(server, "/Workspace/Shared/team/nb")["path"] == "/Shared/team/nb"
    assert [o["path"] for o in ls(server, "/Workspace")] == ["/Shared"]
    assert ls(server, "/Workspace/") == ls(server, "/")
    assert status(server, "/Workspace")["object_type"] == "DIRECTORY"
    assert status(server, "/")["path"] == "/"
    err(server.api("POST", f"{WS}/delete", json={"path": "/Workspace"}), 400, "INVALID_PARAMETER_VALUE", "root")
    assert export(server, "/Workspace/Shared/team/nb", direct_download="true").content == (HDR + "1").encode()
    assert server.ok("POST", f"{WS}/delete", json={"path": "/Workspace/Shared", "recursive": True}) == {}
    assert ls(server, "/") == []


def test_list(server):
    r = server.api("GET", f"{WS}/list", params={"path": "/"})
    assert r.status_code == 200 and r.json() == {}  # the key is omitted when empty
    mkdirs(server, "/d/sub")
    imp_ok(server, "/d/nb", "1", language="PYTHON")
    imp_ok(server, "/d/a.txt", "x", format="RAW")
    imp_ok(server, "/d/j.ipynb", '{"cells":[]}', format="AUTO")
    # An operator's files show up; our temp files never do.
    (root(server) / "d/hand.scala").write_text("// Databricks notebook source\nval x = 1\n")
    (root(server) / "d/readme").write_text("hi")
    (root(server) / "d/.jobsd-tmp-0123456789abcdef").write_text("in flight")
    objs = ls(server, "/d")
    assert [o["path"] for o in objs] == ["/d/a.txt", "/d/hand", "/d/j", "/d/nb", "/d/readme", "/d/sub"]
    by = {o["path"]: o for o in objs}
    assert by["/d/hand"]["language"] == "SCALA"
    assert by["/d/sub"]["object_type"] == "DIRECTORY"
    assert by["/d/a.txt"]["object_type"] == "FILE" and by["/d/a.txt"]["size"] == 1
    assert by["/d/nb"] == status(server, "/d/nb")
    # A non-folder lists as itself.
    assert ls(server, "/d/nb") == [status(server, "/d/nb")]
    # notebooks_modified_after leaves out older notebooks only.
    later = max(o["modified_at"] for o in objs) + 1
    assert [o["path"] for o in ls(server, "/d", notebooks_modified_after=later)] == [
        "/d/a.txt", "/d/readme", "/d/sub"]
    assert len(ls(server, "/d", notebooks_modified_after=0)) == 6
    err(server.api("GET", f"{WS}/list", params={"path": "/d", "notebooks_modified_after": "soon"}),
        400, "INVALID_PARAMETER_VALUE", "notebooks_modified_after")
    err(server.api("GET", f"{WS}/list", params={"path": "/nope"}), 404, "RESOURCE_DOES_NOT_EXIST",
        "Path (/nope) doesn't exist.")
    err(server.api("GET", f"{WS}/list"), 400, "INVALID_PARAMETER_VALUE", "path")


def test_get_status_errors(server):
    err(server.api("GET", f"{WS}/get-status", params={"path": "/missing"}), 404,
        "RESOURCE_DOES_NOT_EXIST", "Path (/missing) doesn't exist.")
    err(server.api("GET", f"{WS}/get-status"), 400, "INVALID_PARAMETER_VALUE", "path")


# --- mkdirs / delete ----------------------------------------------------------------------


def test_mkdirs(server):
    mkdirs(server, "/a/b/c")
    for p in ("/a", "/a/b", "/a/b/c"):
        assert status(server, p)["object_type"] == "DIRECTORY"
    mkdirs(server, "/a/b/c")  # existing: fine
    mkdirs(server, "/a/b/")
    mkdirs(server, "/")
    imp_ok(server, "/a/nb", "x", language="PYTHON")
    err(server.api("POST", f"{WS}/mkdirs", json={"path": "/a/nb/x/y"}), 400, "RESOURCE_ALREADY_EXISTS",
        "Path (/a/nb) already exists.")
    imp_ok(server, "/a/file", "x", format="RAW")
    err(server.api("POST", f"{WS}/mkdirs", json={"path": "/a/file"}), 400, "RESOURCE_ALREADY_EXISTS", "(/a/file)")
    err(server.api("POST", f"{WS}/mkdirs", json={}), 400, "INVALID_PARAMETER_VALUE", "path")


def test_delete(server):
    mkdirs(server, "/d/e/f")
    imp_ok(server, "/d/nb", "x", language="PYTHON")
    imp_ok(server, "/d/e/file", "x", format="RAW")
    assert server.ok("POST", f"{WS}/delete", json={"path": "/d/nb"}) == {}
    assert not (root(server) / "d/nb.py").exists()
    err(server.api("POST", f"{WS}/delete", json={"path": "/d/nb"}), 404, "RESOURCE_DOES_NOT_EXIST",
        "Path (/d/nb) doesn't exist.")
    err(server.api("POST", f"{WS}/delete", json={"path": "/d"}), 400, "DIRECTORY_NOT_EMPTY", "/d")
    err(server.api("POST", f"{WS}/delete", json={"path": "/d", "recursive": False}), 400, "DIRECTORY_NOT_EMPTY")
    assert server.ok("POST", f"{WS}/delete", json={"path": "/d/e/f"}) == {}  # empty folder
    assert server.ok("POST", f"{WS}/delete", json={"path": "/d", "recursive": True}) == {}
    assert not (root(server) / "d").exists()
    err(server.api("POST", f"{WS}/delete", json={"path": "/", "recursive": True}), 400,
        "INVALID_PARAMETER_VALUE", "root")
    err(server.api("POST", f"{WS}/delete", json={"path": "/x", "recursive": "yes"}), 400,
        "MALFORMED_REQUEST", "recursive")


# --- export errors --------------------------------------------------------------------------


def test_export_errors(server):
    mkdirs(server, "/dir")
    imp_ok(server, "/file.txt", "x", format="RAW")
    err(export(server, "/dir"), 400, "INVALID_PARAMETER_VALUE", "DBC", "/dir")
    err(export(server, "/file.txt", format="JUPYTER"), 400, "INVALID_PARAMETER_VALUE", "/file.txt")
    err(export(server, "/file.txt", format="RAW"), 400, "INVALID_PARAMETER_VALUE", "RAW")
    err(export(server, "/file.txt", format="HTML"), 400, "INVALID_PARAMETER_VALUE", "not supported by jobsd")
    err(export(server, "/nope"), 404, "RESOURCE_DOES_NOT_EXIST", "Path (/nope) doesn't exist.")
    err(export(server, "/nope", direct_download="true"), 404, "RESOURCE_DOES_NOT_EXIST")
    # An operator's file over 10 MB: listed, not exported.
    (root(server) / "huge.bin").write_bytes(b"\0" * (10 * 1024 * 1024 + 1))
    assert status(server, "/huge.bin")["size"] == 10 * 1024 * 1024 + 1
    err(export(server, "/huge.bin"), 400, "MAX_NOTEBOOK_SIZE_EXCEEDED", "/huge.bin")


# --- paths ------------------------------------------------------------------------------------

BAD_PATHS = [
    ("/a/../b", "'..'"),
    ("/..", "'..'"),
    ("/a/./b", "'.'"),
    ("relative/path", "absolute"),
    ("", "empty"),
    ("/a//b", "empty segments"),
    ("/.jobsd-tmp-0011", "reserved"),
    ("/" + "x" * 256, "255 bytes"),
    (("/" + "y" * 99) * 41, "4000 bytes"),
]


@pytest.mark.parametrize("path,why", BAD_PATHS)
def test_bad_paths_refused_everywhere(server, path, why):
    calls = [
        ("POST", "import", {"json": {"path": path, "content": b64("x"), "format": "RAW"}}),
        ("POST", "mkdirs", {"json": {"path": path}}),
        ("POST", "delete", {"json": {"path": path, "recursive": True}}),
        ("GET", "get-status", {"json": {"path": path}}),
        ("GET", "list", {"json": {"path": path}}),
        ("GET", "export", {"json": {"path": path}}),
    ]
    for method, ep, kw in calls:
        err(server.api(method, f"{WS}/{ep}", **kw), 400, "INVALID_PARAMETER_VALUE", why, "path")
    assert sorted(os.listdir(root(server))) == []


def test_nul_in_path(server):
    err(server.api("POST", f"{WS}/import", json={"path": "/a\u0000b", "content": "", "format": "RAW"}),
        400, "INVALID_PARAMETER_VALUE", "NUL")
    r = server.api("POST", f"{WS}/import", data={"path": "/a\x00b", "format": "RAW"},
                   files={"content": ("content", b"x")})
    err(r, 400, "INVALID_PARAMETER_VALUE", "NUL")
    # The other endpoints take their JSON from the shared parser, which
    # refuses a NUL escape as malformed JSON: refused either way.
    for ep in ("mkdirs", "delete"):
        r = server.api("POST", f"{WS}/{ep}", json={"path": "/a\u0000b"})
        assert r.status_code == 400 and r.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST")
    assert os.listdir(root(server)) == []


def test_dotdot_in_query_string(server):
    imp_ok(server, "/x", "1", format="RAW")
    for p in ("/x/../x", "/../etc/passwd", "/Workspace/../../etc/passwd"):
        err(server.api("GET", f"{WS}/get-status", params={"path": p}), 400, "INVALID_PARAMETER_VALUE", "'..'")
        err(export(server, p, direct_download="true"), 400, "INVALID_PARAMETER_VALUE", "'..'")


# --- symlinks ----------------------------------------------------------------------------------


def test_symlinks(server, tmp_path):
    ws = root(server)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("top secret")
    (ws / "real").mkdir()
    (ws / "real" / "f.txt").write_text("inside")
    os.symlink("/etc", ws / "etc")                        # absolute: leaves
    os.symlink(os.path.relpath(outside, ws), ws / "out")  # relative: leaves
    os.symlink("real", ws / "sib")                        # sibling folder inside: fine
    # followed inside
    assert status(server, "/sib")["object_type"] == "DIRECTORY"
    assert [o["path"] for o in ls(server, "/sib")] == ["/sib/f.txt"]
    assert export(server, "/sib/f.txt", direct_download="true").content == b"inside"
    imp_ok(server, "/sib/new", "via link", format="RAW")
    assert (ws / "real" / "new").read_text() == "via link"
    # refused outside, for every endpoint
    for p in ("/etc", "/etc/passwd", "/out", "/out/secret", "/Workspace/etc/hostname"):
        err(server.api("GET", f"{WS}/get-status", params={"path": p}), 400, "INVALID_PARAMETER_VALUE",
            "resolves outside the workspace", p.replace("/Workspace", ""))
    err(export(server, "/etc/passwd", direct_download="true"), 400, "INVALID_PARAMETER_VALUE", "outside")
    err(server.api("GET", f"{WS}/list", params={"path": "/out"}), 400, "INVALID_PARAMETER_VALUE", "outside")
    err(imp(server, "/out/planted", "x", format="RAW"), 400, "INVALID_PARAMETER_VALUE", "outside")
    err(server.api("POST", f"{WS}/mkdirs", json={"path": "/out/d"}), 400, "INVALID_PARAMETER_VALUE", "outside")
    err(server.api("POST", f"{WS}/delete", json={"path": "/out/secret"}), 400, "INVALID_PARAMETER_VALUE", "outside")
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_text() == "top secret"
    # the listing shows what resolves inside only
    assert [o["path"] for o in ls(server, "/")] == ["/real", "/sib"]
    # a recursive delete removes a link inside the tree, never its target
    mkdirs(server, "/tree")
    os.symlink(os.path.relpath(outside, ws / "tree"), ws / "tree" / "link")
    assert server.ok("POST", f"{WS}/delete", json={"path": "/tree", "recursive": True}) == {}
    assert not (ws / "tree").exists()
    assert (outside / "secret").read_text() == "top secret"


# --- limits and durability ------------------------------------------------------------------------


def test_size_limit_and_still_serving(server):
    mkdirs(server, "/big")
    content = b64(b"x" * (8 * 1024 * 1024 + 300 * 1024))  # ~11 MB of base64
    body = ('{"path": "/big/nb", "format": "RAW", "content": "%s"}' % content).encode()
    assert len(body) > 11 * 1000 * 1000
    r = server.api("POST", f"{WS}/import", data=body, headers={"Content-Type": "application/json"})
    err(r, 400, "MAX_NOTEBOOK_SIZE_EXCEEDED", "10 MB")
    assert not (root(server) / "big" / "nb").exists()
    # the server keeps serving
    assert server.get_raw("/healthz").status_code == 200
    imp_ok(server, "/big/small", "ok", format="RAW")
    assert [o["path"] for o in ls(server, "/big")] == ["/big/small"]
    # a multipart upload over the limit gets the same answer
    err(upload(server, "/big/up", b"y" * (11 * 1024 * 1024), format="RAW"), 400,
        "MAX_NOTEBOOK_SIZE_EXCEEDED")
    assert server.get_raw("/healthz").status_code == 200
    assert not (root(server) / "big" / "up").exists()


def test_durable_across_kill_9(server):
    mkdirs(server, "/Users/d")
    imp_ok(server, "/Users/d/nb", "print('durable')\n", language="PYTHON")
    assert upload(server, "/Users/d/f.bin", b"\x00\x01payload", format="RAW").status_code == 200
    server.kill()
    server.start()
    assert export(server, "/Users/d/nb", direct_download="true").content == (HDR + "print('durable')\n").encode()
    assert export(server, "/Users/d/f.bin", direct_download="true").content == b"\x00\x01payload"
    assert [o["path"] for o in ls(server, "/Users/d")] == ["/Users/d/f.bin", "/Users/d/nb"]


def test_stale_temp_file_removed_after_restart(server):
    mkdirs(server, "/t")
    stale = root(server) / "t" / ".jobsd-tmp-00112233aabbccdd"
    stale.write_text("left by a crash")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    server.kill()
    server.start()
    assert ls(server, "/t") == []
    assert not stale.exists()


def test_api_versions(server):
    # The Workspace API lives at 2.0 only, as on the service.
    r = server.api("GET", "/api/2.1/workspace/list", params={"path": "/"})
    assert r.status_code == 404
    assert server.api("GET", "/api/2.0/workspace/list", params={"path": "/"}).status_code == 200


def test_dot_dot_stem_is_never_a_notebook(server):
    server.ok("POST", "/api/2.0/workspace/mkdirs", json={"path": "/odd"})
    (server.data_dir / "workspace" / "odd" / "...py").write_text(
        "# Databricks notebook source\nprint(1)\n")
    listed = server.ok("GET", "/api/2.0/workspace/list", params={"path": "/odd"})["objects"]
    assert [(o["path"], o["object_type"]) for o in listed] == [("/odd/...py", "FILE")]


def test_ipynb_language_is_read_once_per_version(server):
    import base64
    import json as j
    nb = {"cells": [], "metadata": {"kernelspec": {"language": "R", "name": "ir"}},
          "nbformat": 4, "nbformat_minor": 5}
    server.ok("POST", "/api/2.0/workspace/mkdirs", json={"path": "/nb"})
    server.ok("POST", "/api/2.0/workspace/import",
              json={"path": "/nb/r", "format": "JUPYTER",
                    "content": base64.b64encode(j.dumps(nb).encode()).decode()})
    for _ in range(3):
        st = server.ok("GET", "/api/2.0/workspace/get-status", params={"path": "/nb/r"})
        assert st["language"] == "R"
    nb["metadata"]["kernelspec"]["language"] = "python"
    server.ok("POST", "/api/2.0/workspace/import",
              json={"path": "/nb/r", "format": "JUPYTER", "overwrite": True,
                    "content": base64.b64encode(j.dumps(nb).encode()).decode()})
    st = server.ok("GET", "/api/2.0/workspace/get-status", params={"path": "/nb/r"})
    assert st["language"] == "PYTHON"
