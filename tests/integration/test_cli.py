"""jobctl against a real jobsd: every command, text and JSON output, the
Databricks-CLI ways of finding host and token, and errors."""
import json
import os
import subprocess

from conftest import JOBCTL, SEEDS


def run(server, *args, env=None, check=True, home=None, stdin=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    e["HOME"] = str(home or server.data_dir.parent)
    if env is None:
        e.update(DATABRICKS_HOST=server.url, DATABRICKS_TOKEN=server.token)
    else:
        e.update(env)
    p = subprocess.run([JOBCTL, *args], capture_output=True, text=True, env=e, timeout=60,
                       input=stdin)
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p


def jrun(server, *args, **kw):
    return json.loads(run(server, *args, "-o", "json", **kw).stdout)


def test_jobs_commands(server):
    job_id = int(run(server, "jobs", "create", "--json",
                     f"@{SEEDS / 'multi-task-job.json'}").stdout.strip())
    assert jrun(server, "jobs", "get", str(job_id))["settings"]["name"] == "A multitask job"
    text = run(server, "jobs", "get", str(job_id)).stdout
    assert "Sessionize" in text and "Match" in text
    listed = run(server, "jobs", "list").stdout
    assert str(job_id) in listed and "A multitask job" in listed and "JOB_ID" in listed
    assert jrun(server, "jobs", "list")["jobs"][0]["job_id"] == job_id
    run(server, "jobs", "update", str(job_id), "--json",
        '{"new_settings": {"name": "renamed"}, "fields_to_remove": ["tags"]}')
    got = jrun(server, "jobs", "get", str(job_id))["settings"]
    assert got["name"] == "renamed" and "tags" not in got
    run(server, "jobs", "reset", str(job_id), "--json",
        '{"new_settings": {"name": "reset", "tasks": [{"task_key": "t", '
        '"notebook_task": {"notebook_path": "/Users/admin/n"}}]}}')
    assert [t["task_key"] for t in jrun(server, "jobs", "get", str(job_id))["settings"]
            ["tasks"]] == ["t"]
    run(server, "jobs", "delete", str(job_id))
    p = run(server, "jobs", "get", str(job_id), check=False)
    assert p.returncode == 1 and f"Job {job_id} does not exist." in p.stderr


def test_jobs_list_follows_pages_and_filters(server):
    for i in range(30):
        server.ok("POST", "/api/2.2/jobs/create", json={"name": f"j{i}"})
    assert len(jrun(server, "jobs", "list")["jobs"]) == 30
    assert [j["settings"]["name"] for j in jrun(server, "jobs", "list", "--name", "J7")["jobs"]] \
        == ["j7"]
    assert len(jrun(server, "jobs", "list", "--limit", "5")["jobs"]) == 5


def test_workspace_commands(server, tmp_path):
    src = tmp_path / "nb.py"
    src.write_text("print('hi')\n")
    run(server, "workspace", "mkdirs", "/Users/admin/proj")
    run(server, "workspace", "import", "/Users/admin/proj/nb", "--file", str(src),
        "--language", "PYTHON")
    listing = run(server, "workspace", "list", "/Users/admin/proj").stdout
    assert "NOTEBOOK" in listing and "/Users/admin/proj/nb" in listing
    status = jrun(server, "workspace", "get-status", "/Users/admin/proj/nb")
    assert status["object_type"] == "NOTEBOOK" and status["language"] == "PYTHON"
    out = tmp_path / "out.py"
    run(server, "workspace", "export", "/Users/admin/proj/nb", "--file", str(out))
    assert "print('hi')" in out.read_text()
    p = run(server, "workspace", "import", "/Users/admin/proj/nb", "--file", str(src),
            "--language", "PYTHON", check=False)
    assert p.returncode == 1 and "already exists" in p.stderr
    run(server, "workspace", "delete", "/Users/admin/proj", "--recursive")
    assert run(server, "workspace", "get-status", "/Users/admin/proj", check=False).returncode == 1


def test_tokens_and_users(server):
    uid = run(server, "users", "add", "ana@example.com").stdout.strip()
    assert uid.isdigit()
    assert "ana@example.com" in run(server, "users", "list").stdout
    value = run(server, "tokens", "create", "--user", "ana@example.com", "--comment",
                "cli").stdout.strip()
    assert value.startswith("dapi")
    me = jrun(server, "users", "me", env={"DATABRICKS_HOST": server.url,
                                          "DATABRICKS_TOKEN": value})
    assert me["userName"] == "ana@example.com"
    mine = run(server, "tokens", "create", "--comment", "mine", "--lifetime-seconds", "600")
    infos = jrun(server, "tokens", "list")["token_infos"]
    assert any(i["comment"] == "mine" for i in infos)
    assert mine.stdout.strip() not in run(server, "tokens", "list").stdout
    tid = next(i["token_id"] for i in infos if i["comment"] == "mine")
    run(server, "tokens", "delete", tid)
    assert all(i["token_id"] != tid for i in jrun(server, "tokens", "list")["token_infos"])


def test_host_and_token_from_databrickscfg(server, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".databrickscfg").write_text(
        f"[DEFAULT]\nhost = http://127.0.0.1:1\ntoken = wrong\n\n"
        f"[jobsd]\nhost = {server.url}\ntoken = {server.token}\n")
    assert run(server, "--profile", "jobsd", "users", "me", env={}, home=home).returncode == 0
    assert run(server, "users", "me", env={"DATABRICKS_CONFIG_PROFILE": "jobsd"},
               home=home).returncode == 0
    p = run(server, "users", "me", env={}, home=home, check=False)
    assert p.returncode == 1  # DEFAULT points nowhere
    # flags beat everything
    assert run(server, "--host", server.url, "--token", server.token, "users", "me",
               env={}, home=home).returncode == 0


def test_errors_exit_non_zero_with_the_server_message(server):
    p = run(server, "jobs", "create", "--json", '{"max_concurrent_runs": 5000}', check=False)
    assert p.returncode == 1 and "max_concurrent_runs" in p.stderr
    p = run(server, "jobs", "create", "--json", "{not json", check=False)
    assert p.returncode == 2
    p = run(server, "users", "me", env={"DATABRICKS_HOST": server.url,
                                        "DATABRICKS_TOKEN": "dapi" + "0" * 48}, check=False)
    assert p.returncode == 1 and "Invalid access token." in p.stderr
    p = run(server, "users", "me", env={}, check=False)
    assert p.returncode == 2
    p = run(server, "frobnicate", check=False)
    assert p.returncode == 2
