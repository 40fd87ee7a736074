// sdk_test.mjs - the official Databricks JavaScript SDK (@databricks/sdk-experimental)
// against a real jobsd: create, get, list (all pages), update, reset and delete a
// multi-task job, exactly as an application would call them.
//
// Starts its own jobsd ($JOBSD_BIN, default build/jobsd) on a free port with a
// temporary data dir, and prints "sdk tests: N passed, M failed".
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { WorkspaceClient } from "@databricks/sdk-experimental";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const jobsdBin = process.env.JOBSD_BIN || join(root, "build", "jobsd");

async function startJobsd() {
  const dir = mkdtempSync(join(tmpdir(), "jobsd-sdk-"));
  const proc = spawn(jobsdBin, ["serve", "--data-dir", join(dir, "data"), "--listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const host = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`jobsd did not start:\n${stderr}`)), 20000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/export DATABRICKS_HOST=(\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code) => reject(new Error(`jobsd exited ${code}:\n${stderr}`)));
  });
  const token = readFileSync(join(dir, "data", "admin.token"), "utf8").trim();
  return { proc, dir, host, token, stderr: () => stderr };
}

function multiTaskJob(name) {
  return {
    name,
    tags: { team: "sdk" },
    job_clusters: [{ job_cluster_key: "shared", new_cluster: { spark_version: "15.4.x-scala2.12",
      node_type_id: "i3.xlarge", num_workers: 2 } }],
    tasks: [
      { task_key: "ingest", job_cluster_key: "shared",
        notebook_task: { notebook_path: "/Users/admin/ingest", base_parameters: { day: "today" } } },
      { task_key: "transform", depends_on: [{ task_key: "ingest" }], job_cluster_key: "shared",
        spark_python_task: { python_file: "/Users/admin/transform.py", parameters: ["--fast"] } },
      { task_key: "report", depends_on: [{ task_key: "transform" }], run_if: "ALL_DONE",
        notebook_task: { notebook_path: "/Users/admin/report" }, max_retries: 2 },
    ],
    schedule: { quartz_cron_expression: "0 30 6 * * ?", timezone_id: "Europe/Amsterdam" },
    max_concurrent_runs: 2,
  };
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("currentUser.me", async (w) => {
  const me = await w.currentUser.me();
  assert.equal(me.userName, "admin");
  assert.equal(me.active, true);
});

test("create and get a multi-task job", async (w) => {
  const { job_id } = await w.jobs.create(multiTaskJob("sdk-etl"));
  assert.ok(job_id > 0);
  const job = await w.jobs.get({ job_id });
  assert.equal(job.job_id, job_id);
  assert.equal(job.creator_user_name, "admin");
  assert.equal(job.settings.name, "sdk-etl");
  assert.equal(job.settings.format, "MULTI_TASK");
  assert.deepEqual(job.settings.tasks.map((t) => t.task_key), ["ingest", "transform", "report"]);
  assert.deepEqual(job.settings.tasks[1].depends_on, [{ task_key: "ingest" }]);
  assert.equal(job.settings.schedule.pause_status, "UNPAUSED");
  assert.deepEqual(job.settings.queue, { enabled: true }); // created through 2.2
  assert.equal(job.settings.max_concurrent_runs, 2);
});

test("list follows every page", async (w) => {
  const created = [];
  for (let i = 0; i < 23; i++) {
    created.push((await w.jobs.create({ name: `page-${i}`,
      tasks: [{ task_key: "t", notebook_task: { notebook_path: "/Users/admin/p" } }] })).job_id);
  }
  const seen = [];
  for await (const job of w.jobs.list({ limit: 5 })) seen.push(job.job_id);
  for (const id of created) assert.ok(seen.includes(id), `job ${id} missing from list`);
  assert.equal(new Set(seen).size, seen.length, "a job was listed twice");
  const sorted = [...seen].sort((a, b) => b - a);
  assert.deepEqual(seen, sorted, "newest first");
  const named = [];
  for await (const job of w.jobs.list({ name: "PAGE-7" })) named.push(job.settings.name);
  assert.deepEqual(named, ["page-7"]);
  const expanded = [];
  for await (const job of w.jobs.list({ name: "page-7", expand_tasks: true })) expanded.push(job);
  assert.equal(expanded[0].settings.tasks[0].task_key, "t");
});

test("update merges tasks by key and removes fields", async (w) => {
  const { job_id } = await w.jobs.create(multiTaskJob("to-update"));
  await w.jobs.update({
    job_id,
    new_settings: {
      name: "updated",
      tasks: [{ task_key: "report", depends_on: [{ task_key: "transform" }],
                notebook_task: { notebook_path: "/Users/admin/report_v2" } },
              { task_key: "publish", depends_on: [{ task_key: "report" }],
                notebook_task: { notebook_path: "/Users/admin/publish" } }],
    },
    fields_to_remove: ["tags"],
  });
  const job = await w.jobs.get({ job_id });
  assert.equal(job.settings.name, "updated");
  assert.equal(job.settings.tags, undefined);
  assert.deepEqual(job.settings.tasks.map((t) => t.task_key),
    ["ingest", "transform", "report", "publish"]);
  assert.equal(job.settings.tasks[2].notebook_task.notebook_path, "/Users/admin/report_v2");
  assert.equal(job.settings.tasks[2].max_retries, undefined);
});

test("reset replaces all settings", async (w) => {
  const { job_id } = await w.jobs.create(multiTaskJob("to-reset"));
  await w.jobs.reset({ job_id, new_settings: { name: "reset",
    tasks: [{ task_key: "only", notebook_task: { notebook_path: "/Users/admin/only" } }] } });
  const job = await w.jobs.get({ job_id });
  assert.equal(job.settings.name, "reset");
  assert.deepEqual(job.settings.tasks.map((t) => t.task_key), ["only"]);
  assert.equal(job.settings.schedule, undefined);
  assert.equal(job.settings.job_clusters, undefined);
});

test("delete, then the job does not exist", async (w) => {
  const { job_id } = await w.jobs.create(multiTaskJob("to-delete"));
  await w.jobs.delete({ job_id });
  await assert.rejects(() => w.jobs.get({ job_id }), (e) => {
    assert.equal(e.errorCode, "INVALID_PARAMETER_VALUE");
    assert.equal(e.message, `Job ${job_id} does not exist.`);
    assert.equal(e.statusCode, 400);
    return true;
  });
  for await (const job of w.jobs.list({})) assert.notEqual(job.job_id, job_id);
});

test("validation errors reach the caller with the field named", async (w) => {
  await assert.rejects(() => w.jobs.create({ name: "bad",
    tasks: [{ task_key: "a", notebook_task: { notebook_path: "relative" } }] }), (e) => {
    assert.equal(e.errorCode, "INVALID_PARAMETER_VALUE");
    assert.match(e.message, /tasks\[0\]\.notebook_task\.notebook_path/);
    return true;
  });
});

async function main() {
  const srv = await startJobsd();
  const w = new WorkspaceClient({ host: srv.host, token: srv.token, authType: "pat" });
  let passed = 0, failed = 0;
  for (const t of tests) {
    try {
      await t.fn(w);
      passed++;
      console.log(`ok   ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}: ${e.stack || e}`);
    }
  }
  srv.proc.kill("SIGTERM");
  const code = await new Promise((resolve) => srv.proc.on("exit", (c) => resolve(c)));
  if (code !== 0) {
    failed++;
    console.log(`FAIL jobsd exited ${code} after SIGTERM:\n${srv.stderr().slice(-3000)}`);
  }
  rmSync(srv.dir, { recursive: true, force: true });
  console.log(`sdk tests: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
