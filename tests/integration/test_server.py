"""The server process: health, durability across kill -9, the data dir lock,
graceful shutdown, TLS, configuration, request logging."""
import concurrent.futures
import os
import signal
import subprocess
import time

import requests

from conftest import JOBSD, Server


def test_healthz_and_request_log(server):
    r = requests.get(server.url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    server.api("GET", "/api/2.2/jobs/list")
    time.sleep(0.1)
    log = server.log_text()
    assert "request method=GET path=/api/2.2/jobs/list status=200 duration_ms=" in log


def test_writes_answered_200_survive_kill_9(server):
    ids = [server.ok("POST", "/api/2.1/jobs/create", json={"name": f"durable-{i}"})["job_id"]
           for i in range(20)]
    server.ok("POST", "/api/2.1/jobs/update", json={"job_id": ids[0],
                                                   "new_settings": {"name": "renamed"}})
    server.ok("POST", "/api/2.1/jobs/delete", json={"job_id": ids[1]})
    token = server.ok("POST", "/api/2.0/token/create", json={})["token_value"]
    assert server.kill() == -signal.SIGKILL
    server.start()
    names = {j["job_id"]: j["settings"]["name"]
             for j in server.ok("GET", "/api/2.1/jobs/list", params={"limit": 100})["jobs"]}
    assert names[ids[0]] == "renamed"
    assert ids[1] not in names
    assert all(names[i] == f"durable-{n}" for n, i in enumerate(ids) if n > 1)
    assert server.api("GET", "/api/2.2/jobs/list", token=token).status_code == 200


def test_concurrent_writes_all_acknowledged_all_durable(server):
    def make(i):
        return server.ok("POST", "/api/2.2/jobs/create", json={"name": f"c{i}"})["job_id"]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(make, range(200)))
    assert len(set(ids)) == 200
    server.kill()
    server.start()
    listed, token = [], None
    while True:
        page = server.ok("GET", "/api/2.2/jobs/list",
                         params={"limit": 100, **({"page_token": token} if token else {})})
        listed += [j["job_id"] for j in page.get("jobs", [])]
        token = page.get("next_page_token")
        if not token:
            break
    assert sorted(listed) == sorted(ids)


def test_second_jobsd_on_the_same_data_dir_is_refused(server):
    p = subprocess.run([JOBSD, "serve", "--data-dir", str(server.data_dir), "--listen",
                        "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "in use by another jobsd" in p.stderr
    assert server.get_raw("/healthz").status_code == 200


def test_sigterm_exits_zero_after_answering_in_flight_requests(server):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(server.api, "POST", "/api/2.2/jobs/create",
                               json={"name": f"f{i}"}) for i in range(40)]
        time.sleep(0.01)
        os.killpg(server.proc.pid, signal.SIGTERM)
        answered = []
        for f in futures:
            try:
                r = f.result()
                answered.append(r.status_code)
                if r.status_code == 503:  # arrived while stopping: SDKs retry it
                    assert r.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
            except requests.ConnectionError:
                pass  # sent after the listener closed: refused, never half-done
    assert server.proc.wait(30) == 0
    assert set(answered) <= {200, 503}
    server.start()
    n = len(server.ok("GET", "/api/2.1/jobs/list", params={"limit": 100}).get("jobs", []))
    assert n == answered.count(200)  # every 200 is durable, every 503 changed nothing


def test_tls(make_server, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server = make_server(tls=(cert, key)).start()
    assert server.url.startswith("https://")
    assert server.ok("GET", "/api/2.2/jobs/list") == {"has_more": False}
    job_id = server.ok("POST", "/api/2.1/jobs/create", json={"name": "tls"})["job_id"]
    assert job_id == 1
    with requests.Session() as s:
        r = s.get(server.url + "/healthz", verify=str(cert), timeout=5)
        assert r.status_code == 200
    # plain HTTP to the TLS port does not get an answer in clear text
    plain = server.url.replace("https://", "http://")
    try:
        r = requests.get(plain + "/healthz", timeout=5)
        assert r.status_code != 200
    except requests.RequestException:
        pass


def test_bad_tls_files_fail_clearly(tmp_path):
    p = subprocess.run([JOBSD, "serve", "--data-dir", str(tmp_path / "d"), "--listen",
                        "127.0.0.1:0", "--tls-cert", str(tmp_path / "none.pem"),
                        "--tls-key", str(tmp_path / "none.key")],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "none.pem" in p.stderr


def test_config_file_env_and_flags(tmp_path):
    conf = tmp_path / "jobsd.conf"
    conf.write_text("# test config\nmax_saved_jobs = 1\nlog_level = debug\n")
    s = Server(tmp_path / "d", extra_args=["--config", str(conf)],
               env={"JOBSD_MAX_SAVED_JOBS": "2"}).start()
    try:
        s.ok("POST", "/api/2.1/jobs/create", json={})
        s.ok("POST", "/api/2.1/jobs/create", json={})  # env (2) beats the file (1)
        s.error("POST", "/api/2.1/jobs/create", 400, "RESOURCE_LIMIT_EXCEEDED", json={})
        assert " debug " in s.log_text()
    finally:
        s.stop()
    bad = subprocess.run([JOBSD, "serve", "--data-dir", str(tmp_path / "e"), "--no-such-flag",
                          "1"], capture_output=True, text=True, timeout=20)
    assert bad.returncode == 2 and "no-such-flag" in bad.stderr
    bad = subprocess.run([JOBSD, "serve", "--data-dir", str(tmp_path / "e"), "--log-level",
                          "loud"], capture_output=True, text=True, timeout=20)
    assert bad.returncode == 2 and "loud" in bad.stderr


def test_listens_on_loopback_by_default(tmp_path):
    help_text = subprocess.run([JOBSD, "--help"], capture_output=True, text=True).stdout
    assert "127.0.0.1:8080" in help_text


def test_sigint_stops_gracefully_too(server):
    job_id = server.ok("POST", "/api/2.1/jobs/create", json={"name": "before-sigint"})["job_id"]
    assert server.stop(signal.SIGINT) == 0
    assert "received SIGINT" in server.log_text()
    server.start()
    assert server.ok("GET", "/api/2.1/jobs/get", params={"job_id": job_id})["job_id"] == job_id


def test_unauthenticated_bodies_are_never_read(server):
    """A request without a valid token is refused on its headers: jobsd does
    not buffer its body (an unauthenticated client cannot make it hold
    memory), and answers before the client has sent it."""
    import socket
    s = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    s.sendall(b"POST /api/2.2/jobs/create HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{")
    s.settimeout(10)
    head = s.recv(4096).decode(errors="replace")
    s.close()
    assert head.startswith("HTTP/1.1 401"), head
    assert "UNAUTHENTICATED" in head
    assert server.get_raw("/healthz").status_code == 200


def test_clients_leaving_while_their_write_waits_do_not_block_shutdown(server):
    """A write's request is suspended until its commit; a client that hangs
    up meanwhile must not leave the server waiting for it at shutdown."""
    import socket
    port = int(server.url.rsplit(":", 1)[1])
    body = b'{"name": "gone"}'
    req = (b"POST /api/2.2/jobs/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
           server.token.encode() + b"\r\nContent-Type: application/json\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        s.close()  # gone before the answer
    t0 = time.time()
    assert server.stop() == 0
    assert time.time() - t0 < 10
    assert "waiting for" not in server.log_text()
