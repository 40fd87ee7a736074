"""Authentication, tokens and users: the bootstrap admin, bearer tokens,
the token and token-management APIs, SCIM Me and Users."""
import os
import sqlite3
import stat
import time

import requests


def test_admin_token_file_and_start_message(server):
    f = server.data_dir / "admin.token"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert server.token.startswith("dapi")
    log = server.log_text()
    assert "created user 'admin'" in log
    assert server.token not in log  # never log secrets


def test_missing_token_is_401(server):
    r = requests.get(server.url + "/api/2.2/jobs/list", timeout=5)
    assert r.status_code == 401
    assert r.json()["error_code"] == "UNAUTHENTICATED" and r.json()["message"]


def test_bad_tokens_are_403_with_numeric_code(server):
    good = server.token
    for bad in ("nope", good[:-1] + ("0" if good[-1] != "0" else "1"), good + "x",
                "dapi" + "0" * 48, ""):
        r = requests.get(server.url + "/api/2.2/jobs/list",
                         headers={"Authorization": f"Bearer {bad}"}, timeout=5)
        expected = 401 if bad == "" else 403
        assert r.status_code == expected, (bad, r.text)
        if expected == 403:
            assert r.json() == {"error_code": 403, "message": "Invalid access token."}
    r = requests.get(server.url + "/api/2.2/jobs/list",
                     headers={"Authorization": f"Basic {good}"}, timeout=5)
    assert r.status_code == 401


def test_token_lifecycle(server):
    created = server.ok("POST", "/api/2.0/token/create",
                        json={"comment": "ci", "lifetime_seconds": 3600})
    value, info = created["token_value"], created["token_info"]
    assert value.startswith("dapi") and info["comment"] == "ci"
    assert info["expiry_time"] - info["creation_time"] == 3600 * 1000
    # it works
    assert server.api("GET", "/api/2.2/jobs/list", token=value).status_code == 200
    # list shows it, never its value
    infos = server.ok("GET", "/api/2.0/token/list")["token_infos"]
    assert info["token_id"] in [i["token_id"] for i in infos]
    assert value not in str(infos)
    # stored only as a hash
    db = sqlite3.connect(f"file:{server.data_dir / 'jobsd.db'}?mode=ro", uri=True)
    dump = "\n".join(str(row) for row in db.execute("SELECT * FROM tokens"))
    db.close()
    assert value not in dump and value[4:] not in dump
    # delete revokes it at once
    assert server.ok("POST", "/api/2.0/token/delete", json={"token_id": info["token_id"]}) == {}
    r = server.api("GET", "/api/2.2/jobs/list", token=value)
    assert r.status_code == 403 and r.json()["message"] == "Invalid access token."
    server.error("POST", "/api/2.0/token/delete", 404, "RESOURCE_DOES_NOT_EXIST",
                 json={"token_id": info["token_id"]})


def test_token_without_lifetime_never_expires(server):
    info = server.ok("POST", "/api/2.0/token/create", json={})["token_info"]
    assert info["expiry_time"] == -1


def test_expired_token_is_403(server):
    value = server.ok("POST", "/api/2.0/token/create",
                      json={"lifetime_seconds": 1})["token_value"]
    assert server.api("GET", "/api/2.2/jobs/list", token=value).status_code == 200
    time.sleep(1.2)
    assert server.api("GET", "/api/2.2/jobs/list", token=value).status_code == 403


def test_token_create_validation(server):
    server.error("POST", "/api/2.0/token/create", 400, "MALFORMED_REQUEST",
                 json={"lifetime_seconds": "soon"})
    server.error("POST", "/api/2.0/token/create", 400, "INVALID_PARAMETER_VALUE",
                 json={"lifetime_seconds": 10 ** 15})
    server.error("POST", "/api/2.0/token/create", 400, "INVALID_PARAMETER_VALUE",
                 json={"comment": "x" * 2000})


def test_scim_me(server):
    me = server.ok("GET", "/api/2.0/preview/scim/v2/Me")
    assert me["userName"] == "admin" and me["active"] is True
    assert me["id"] and me["displayName"]
    assert me["emails"][0]["value"] == "admin" and me["emails"][0]["primary"] is True


def add_user(server, name, **extra):
    r = server.api("POST", "/api/2.0/preview/scim/v2/Users",
                   json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                         "userName": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_users_and_tokens_on_behalf(server):
    ana = add_user(server, "ana@example.com", displayName="Ana")
    assert ana["displayName"] == "Ana" and ana["active"] is True
    r = server.api("POST", "/api/2.0/preview/scim/v2/Users", json={"userName": "ANA@example.com"})
    assert r.status_code == 409
    listed = server.ok("GET", "/api/2.0/preview/scim/v2/Users")
    assert listed["totalResults"] == 2
    assert {u["userName"] for u in listed["Resources"]} == {"admin", "ana@example.com"}
    filtered = server.ok("GET", "/api/2.0/preview/scim/v2/Users",
                         params={"filter": 'userName eq "ana@example.com"'})
    assert [u["id"] for u in filtered["Resources"]] == [ana["id"]]
    assert server.ok("GET", f"/api/2.0/preview/scim/v2/Users/{ana['id']}")["userName"] == \
        "ana@example.com"

    tok = server.ok("POST", "/api/2.0/token-management/on-behalf-of/tokens",
                    json={"application_id": "ana@example.com", "comment": "for ana",
                          "lifetime_seconds": 600})
    ana_token = tok["token_value"]
    assert tok["token_info"]["owner_id"] == int(ana["id"])
    me = server.ok("GET", "/api/2.0/preview/scim/v2/Me", token=ana_token)
    assert me["userName"] == "ana@example.com"
    # ana can work with jobs, and the jobs are hers
    job_id = server.ok("POST", "/api/2.2/jobs/create", json={"name": "mine"},
                       token=ana_token)["job_id"]
    job = server.ok("GET", "/api/2.2/jobs/get", params={"job_id": job_id}, token=ana_token)
    assert job["creator_user_name"] == "ana@example.com"
    # but not administer users or others' tokens
    r = server.api("POST", "/api/2.0/preview/scim/v2/Users", json={"userName": "eve"},
                   token=ana_token)
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED"
    r = server.api("GET", "/api/2.0/token-management/tokens", token=ana_token)
    assert r.status_code == 403
    # admins see everyone's tokens
    infos = server.ok("GET", "/api/2.0/token-management/tokens")["token_infos"]
    assert tok["token_info"]["token_id"] in [i["token_id"] for i in infos]
    # token/delete only sees one's own tokens
    server.error("POST", "/api/2.0/token/delete", 404, "RESOURCE_DOES_NOT_EXIST",
                 json={"token_id": tok["token_info"]["token_id"]})
    # deactivating the user locks the token out
    r = server.api("PATCH", f"/api/2.0/preview/scim/v2/Users/{ana['id']}",
                   json={"Operations": [{"op": "replace", "path": "active", "value": False}]})
    assert r.status_code == 204
    assert server.api("GET", "/api/2.2/jobs/list", token=ana_token).status_code == 403
    # deleting the user deletes its tokens
    r = server.api("DELETE", f"/api/2.0/preview/scim/v2/Users/{ana['id']}")
    assert r.status_code == 204
    infos = server.ok("GET", "/api/2.0/token-management/tokens")["token_infos"]
    assert tok["token_info"]["token_id"] not in [i["token_id"] for i in infos]


def test_the_last_admin_cannot_be_removed(server):
    me = server.ok("GET", "/api/2.0/preview/scim/v2/Me")
    r = server.api("DELETE", f"/api/2.0/preview/scim/v2/Users/{me['id']}")
    assert r.status_code == 400
    assert server.api("GET", "/api/2.2/jobs/list").status_code == 200


def test_user_name_validation(server):
    for bad in ("", "a/b", "..", "x" * 300):
        r = server.api("POST", "/api/2.0/preview/scim/v2/Users", json={"userName": bad})
        assert r.status_code == 400, bad


def test_token_management_delete_and_get(server):
    add_user(server, "bob")
    tok = server.ok("POST", "/api/2.0/token-management/on-behalf-of/tokens",
                    json={"application_id": "bob"})
    tid = tok["token_info"]["token_id"]
    got = server.ok("GET", f"/api/2.0/token-management/tokens/{tid}")
    assert got["token_info"]["token_id"] == tid
    r = server.api("DELETE", f"/api/2.0/token-management/tokens/{tid}")
    assert r.status_code == 200
    assert server.api("GET", "/api/2.2/jobs/list", token=tok["token_value"]).status_code == 403
    server.error("GET", f"/api/2.0/token-management/tokens/{tid}", 404, "RESOURCE_DOES_NOT_EXIST")
    server.error("POST", "/api/2.0/token-management/on-behalf-of/tokens", 404,
                 "RESOURCE_DOES_NOT_EXIST", json={"application_id": "nobody"})


def test_admin_token_survives_restart_and_is_not_regenerated(server):
    before = server.token
    server.restart()
    assert server.token == before
    assert server.api("GET", "/api/2.2/jobs/list").status_code == 200
    assert "created user 'admin'" not in server.log_text().split("--- start 2")[1]
