// sdk_test.mjs - the official Databricks JavaScript SDK (@databricks/sdk-experimental)
// against a real jobsd: create, get, list (all pages), update, reset and delete a
// multi-task job, exactly as an application would call them; then notebooks imported
// through the SDK's Workspace API run for real: a multi-task job (task values passed
// downstream) run now and awaited with the SDK's own waiter, each task's output read
// back, and the runs/submit of the blog in ../shared/seeds/002 (key -> notebook.exit).
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

// --- running notebooks ------------------------------------------------------------------

const NB_HEADER = "# Databricks notebook source\n";
const CELL = "\n\n# COMMAND ----------\n\n";
const b64 = (text) => Buffer.from(text, "utf8").toString("base64");

// Imports a Python source notebook made of cells through the SDK's Workspace API.
async function importNotebook(w, path, ...cells) {
  await w.workspace.mkdirs({ path: path.slice(0, path.lastIndexOf("/")) });
  await w.workspace.import({ path, format: "SOURCE", language: "PYTHON", overwrite: true,
    content: b64(NB_HEADER + cells.join(CELL) + "\n") });
  const st = await w.workspace.getStatus({ path });
  assert.equal(st.object_type, "NOTEBOOK");
  assert.equal(st.language, "PYTHON");
}

// The notebook of the blog (seeds/002), as written there.
const BLOG_NOTEBOOK = `import json;

key = dbutils.widgets.get("key")
dbutils.notebook.exit(json.dumps({
    "status": "ok",
    "params": key
}))`;
const BLOG_RESULT = '{"status": "ok", "params": "test_key"}';

const ETL = "/Users/admin/sdk-etl";

async function importEtl(w) {
  await importNotebook(w, `${ETL}/ingest`,
    'day = dbutils.widgets.get("day")\nrows = [{"day": day, "n": i} for i in range(3)]',
    'dbutils.jobs.taskValues.set(key="row_count", value=len(rows))\n' +
      'dbutils.jobs.taskValues.set(key="meta", value={"day": day, "source": "ingest"})',
    'dbutils.notebook.exit(f"ingested {len(rows)} rows for {day}")');
  await importNotebook(w, `${ETL}/transform`,
    "import json\n" +
      'count = dbutils.jobs.taskValues.get(taskKey="ingest", key="row_count", default=-1)\n' +
      'meta = dbutils.jobs.taskValues.get(taskKey="ingest", key="meta")',
    'dbutils.notebook.exit(json.dumps({"count": count, "meta": meta, ' +
      '"factor": dbutils.widgets.get("factor")}))');
  await importNotebook(w, `${ETL}/report`,
    'dbutils.notebook.exit("report: rows=%s run=%s" % (dbutils.widgets.get("rows"), ' +
      'dbutils.widgets.get("run")))');
}

function etlJob(name) {
  return {
    name,
    tasks: [
      { task_key: "ingest", existing_cluster_id: "0923-164208-meows279",
        notebook_task: { notebook_path: `${ETL}/ingest`, base_parameters: { day: "today" } } },
      { task_key: "transform", depends_on: [{ task_key: "ingest" }],
        notebook_task: { notebook_path: `${ETL}/transform`, base_parameters: { factor: "2" } } },
      { task_key: "report", depends_on: [{ task_key: "ingest" }, { task_key: "transform" }],
        notebook_task: { notebook_path: `${ETL}/report`, base_parameters: {
          rows: "{{tasks.ingest.values.row_count}}", run: "{{job.run_id}}" } } },
    ],
  };
}

test("run a multi-task notebook job now and wait with the SDK's waiter", async (w) => {
  await importEtl(w);
  const { job_id } = await w.jobs.create(etlJob("sdk-run-now"));
  const waiter = await w.jobs.runNow({ job_id, notebook_params: { day: "2024-05-01" } });
  assert.ok(waiter.run_id > 0);
  assert.equal(typeof waiter.wait, "function");
  const run = await waiter.wait();
  assert.equal(run.run_id, waiter.run_id);
  assert.equal(run.job_id, job_id);
  assert.equal(run.state.life_cycle_state, "TERMINATED");
  assert.equal(run.state.result_state, "SUCCESS", JSON.stringify(run.state));
  assert.deepEqual(run.tasks.map((t) => t.task_key).sort(), ["ingest", "report", "transform"]);
  const byKey = Object.fromEntries(run.tasks.map((t) => [t.task_key, t]));
  for (const t of run.tasks) {
    assert.equal(t.state.result_state, "SUCCESS", `${t.task_key}: ${JSON.stringify(t.state)}`);
    assert.notEqual(t.run_id, run.run_id);
  }
  // Dependencies ran in order.
  assert.ok(byKey.ingest.end_time <= byKey.transform.start_time);
  assert.ok(byKey.transform.end_time <= byKey.report.start_time);

  const output = async (key) => {
    const out = await w.jobs.getRunOutput({ run_id: byKey[key].run_id });
    assert.equal(out.metadata.run_id, byKey[key].run_id);
    assert.equal(out.metadata.task_key, key);
    assert.equal(out.error, undefined, `${key}: ${out.error}`);
    return out.notebook_output.result;
  };
  assert.equal(await output("ingest"), "ingested 3 rows for 2024-05-01");
  assert.deepEqual(JSON.parse(await output("transform")),
    { count: 3, meta: { day: "2024-05-01", source: "ingest" }, factor: "2" });
  assert.equal(await output("report"), `report: rows=3 run=${run.run_id}`);

  // get-output of the job run itself is refused, as the real service does.
  await assert.rejects(() => w.jobs.getRunOutput({ run_id: run.run_id }), (e) => {
    assert.equal(e.errorCode, "INVALID_PARAMETER_VALUE");
    assert.match(e.message, /multiple tasks is not supported/);
    return true;
  });

  // runs/export of a task run: the notebook as HTML.
  const exported = await w.jobs.exportRun({ run_id: byKey.transform.run_id,
    views_to_export: "CODE" });
  assert.equal(exported.views.length, 1);
  assert.equal(exported.views[0].type, "NOTEBOOK");
  assert.equal(exported.views[0].name, "transform");
  assert.match(exported.views[0].content, /^<!DOCTYPE html>/);
  assert.ok(exported.views[0].content.includes(
    "dbutils.jobs.taskValues.get(taskKey=&quot;ingest&quot;, key=&quot;row_count&quot;"));
  assert.deepEqual(await w.jobs.exportRun({ run_id: byKey.transform.run_id,
    views_to_export: "DASHBOARDS" }), { views: [] });
});

test("a failing notebook task: the waiter ends, get-output has the error", async (w) => {
  await importNotebook(w, "/Users/admin/sdk-fail/boom", "print('before')",
    "raise ValueError('boom from the notebook')", "print('never')");
  const run = await (await w.jobs.submit({ run_name: "sdk-fail", tasks: [{ task_key: "boom",
    notebook_task: { notebook_path: "/Users/admin/sdk-fail/boom" } }] })).wait();
  assert.equal(run.state.life_cycle_state, "TERMINATED");
  assert.equal(run.state.result_state, "FAILED");
  const out = await w.jobs.getRunOutput({ run_id: run.tasks[0].run_id });
  assert.match(out.error, /ValueError: boom from the notebook/);
  assert.match(out.error_trace, /Traceback/);
});

test("runs/submit of the blog's notebook through the SDK, waited on", async (w) => {
  await importNotebook(w, "/Users/admin/blog/Test_Notebook", BLOG_NOTEBOOK);
  // The SDK's submit sends tasks[] (SubmitRun has no top-level notebook_task): the
  // blog's run as one task.
  const waiter = await w.jobs.submit({
    run_name: "Test_Run_postman",
    timeout_seconds: 30,
    tasks: [{ task_key: "Test_Run_postman", existing_cluster_id: "0923-164208-meows279",
      notebook_task: { notebook_path: "/Users/admin/blog/Test_Notebook",
        base_parameters: { key: "test_key" } }, timeout_seconds: 30 }],
  });
  const run = await waiter.wait();
  assert.equal(run.run_id, waiter.run_id);
  assert.equal(run.run_type, "SUBMIT_RUN");
  assert.equal(run.state.result_state, "SUCCESS", JSON.stringify(run.state));
  const out = await w.jobs.getRunOutput({ run_id: run.tasks[0].run_id });
  assert.equal(out.notebook_output.result, BLOG_RESULT);
  assert.equal(out.notebook_output.truncated, false);
  assert.equal(out.metadata.state.life_cycle_state, "TERMINATED");
  assert.equal(out.metadata.state.result_state, "SUCCESS");
  assert.equal(out.metadata.job_id, run.job_id);
});

// The blog's exact request (2.0 single-task shape, sent to /api/2.1), through the SDK's
// own HTTP client: the typed submit cannot send a top-level notebook_task.
async function submitBlogBody(w) {
  const { run_id } = await w.apiClient.request({
    path: "/api/2.1/jobs/runs/submit", method: "POST", raw: false, query: {},
    headers: new Headers({ "Accept": "application/json", "Content-Type": "application/json" }),
    payload: { run_name: "Test_Run_postman", existing_cluster_id: "0923-164208-meows279",
      notebook_task: { notebook_path: "/Users/admin/blog/Test_Notebook",
        base_parameters: { key: "test_key" } }, timeout_seconds: 30 },
  });
  assert.ok(run_id > 0);
  const deadline = Date.now() + 60000;
  for (;;) {
    const run = await w.jobs.getRun({ run_id });
    if (["TERMINATED", "SKIPPED", "INTERNAL_ERROR"].includes(run.state.life_cycle_state)) {
      assert.equal(run.state.result_state, "SUCCESS", JSON.stringify(run.state));
      return run_id;
    }
    assert.ok(Date.now() < deadline, `run ${run_id} did not end: ${JSON.stringify(run.state)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("the blog's runs/submit body: get-output of the run id it returned", async (w) => {
  await importNotebook(w, "/Users/admin/blog/Test_Notebook", BLOG_NOTEBOOK);
  const run_id = await submitBlogBody(w);
  // As in the blog: the run_id from runs/submit goes straight to get-output.
  const out = await w.jobs.getRunOutput({ run_id });
  assert.equal(out.notebook_output.result, BLOG_RESULT);
  assert.equal(out.metadata.state.life_cycle_state, "TERMINATED");
  assert.equal(out.metadata.state.result_state, "SUCCESS");
  assert.ok(out.metadata.job_id > 0);
});

test("the blog's runs/submit body: get-output metadata is the submitted run", async (w) => {
  await importNotebook(w, "/Users/admin/blog/Test_Notebook", BLOG_NOTEBOOK);
  const run_id = await submitBlogBody(w);
  const out = await w.jobs.getRunOutput({ run_id });
  // The blog's response: "metadata": {"job_id": ..., "run_id": 5455, ...} for the
  // run_id 5455 that runs/submit returned.
  assert.equal(out.metadata.run_id, run_id);
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
