// The Durable Task protocol under load: a JavaScript worker and client (@microsoft/durabletask-js,
// as tests/durabletask/js installs it) against a running node's gRPC port, beside the same
// workloads with the node's C++ functions, started by the same JS client. Prints one JSON line.
//
//   node bench/sdk_bench.mjs [--addr 127.0.0.1:4001] [--seq-runs 200] [--bulk 2000] [--conc 200]
//                            [--fan-runs 5] [--fan 1000] [--role both|worker|client]
//
// --role worker serves the JS functions until killed; --role client drives the load against a
// worker in another process (so that the driver's CPU is not the worker's); both (the default)
// does both in one process.
//
// Workloads, each run for "js" (orchestrator and activities in this worker) and "cpp"
// (HelloSequence / FanOutFanIn, the node's samples; only the client is here):
//   seq:  hello-5 (a sequence of 5 activity calls), one at a time: p50, p99 (start to completion
//         seen by waitForOrchestrationCompletion);
//   bulk: --bulk hello-5s, --conc in flight: completed per second;
//   fan:  one fan-out of --fan activities and the sum of their results: p50;
//   signals: --signals one-way "add 1" signals from the client over --keys counters (a JS class
//         entity, or the node's C++ Counter), --conc in flight: applied per second, counted until
//         every counter reads its exact total.
import { createRequire } from "node:module";

const require = createRequire(new URL("../tests/durabletask/js/package.json", import.meta.url));
const dt = require("@microsoft/durabletask-js");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, arr) => (a.startsWith("--") ? [...acc, [a.slice(2), arr[i + 1]]] : acc), [])
);
const num = (k, d) => (args[k] !== undefined ? Number(args[k]) : d);
const ADDR = args.addr ?? "127.0.0.1:4001";
const SEQ_RUNS = num("seq-runs", 200), BULK = num("bulk", 2000), CONC = num("conc", 200);
const FAN_RUNS = num("fan-runs", 5), FAN = num("fan", 1000);
const ROLE = args.role ?? "both";
const SIGNALS = num("signals", 5000), KEYS = num("keys", 100);
setTimeout(() => { process.stderr.write("watchdog: exceeded 900 s, exiting\n"); process.exit(3); }, 900000).unref();

const quiet = { error: (...a) => process.stderr.write(a.join(" ") + "\n"), warn: () => {}, info: () => {}, debug: () => {} };
console.log = console.info = console.debug = () => {};

const cities = ["Tokyo", "Seattle", "London", "Oslo", "Lima"];
async function* js_hello5(ctx, names) {
  const out = [];
  for (const n of names) out.push(yield ctx.callActivity("js_say_hello", n));
  return out;
}
const js_say_hello = (_ctx, name) => `Hello ${name}!`;
async function* js_fan(ctx, n) {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ctx.callActivity("js_double", i));
  const results = yield dt.whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
}
const js_double = (_ctx, i) => i * 2;
class JsBenchCounter extends dt.TaskEntity {
  initializeState() { return 0; }
  add(n) { this.state += n; return this.state; }
}

const worker = new dt.TaskHubGrpcWorker({ hostAddress: ADDR, logger: quiet });
if (ROLE !== "client") {
  worker.addOrchestrator(js_hello5);
  worker.addOrchestrator(js_fan);
  worker.addActivity(js_say_hello);
  worker.addActivity(js_double);
  worker.addNamedEntity("jsbenchcounter", () => new JsBenchCounter());
  await worker.start();
  if (ROLE === "worker") {
    process.stderr.write("worker ready\n");
    await new Promise((resolve) => process.on("SIGTERM", resolve));
    await worker.stop();
    process.exit(0);
  }
}
const client = new dt.TaskHubGrpcClient({ hostAddress: ADDR, logger: quiet });

const { COMPLETED } = dt.OrchestrationStatus;
async function run(name, input, timeoutS = 120) {
  const id = await client.scheduleNewOrchestration(name, input);
  const s = await client.waitForOrchestrationCompletion(id, true, timeoutS);
  if (!s || s.runtimeStatus !== COMPLETED) {
    throw new Error(`${name} ${id}: ${s ? s.runtimeStatus : "gone"} ${s?.failureDetails?.message ?? ""}`);
  }
  return JSON.parse(s.serializedOutput);
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x) => Math.round(x * 100) / 100;

async function seq(name, expect) {
  const ms = [];
  for (let i = 0; i < SEQ_RUNS; i++) {
    const t = performance.now();
    const out = await run(name, cities);
    ms.push(performance.now() - t);
    if (out.length !== 5 || out[0] !== expect) throw new Error(`${name}: unexpected output ${JSON.stringify(out)}`);
  }
  return { p50_ms: round(pct(ms, 50)), p99_ms: round(pct(ms, 99)) };
}
async function bulk(name) {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < BULK) {
      next++;
      await run(name, cities);
    }
  }));
  return { per_s: Math.round(BULK / ((performance.now() - t) / 1000)) };
}
async function fan(name) {
  const ms = [];
  const sum = FAN * (FAN - 1);
  for (let i = 0; i < FAN_RUNS; i++) {
    const t = performance.now();
    const out = await run(name, FAN);
    ms.push(performance.now() - t);
    if (out !== sum) throw new Error(`${name}: sum ${out}, expected ${sum}`);
  }
  return { p50_ms: round(pct(ms, 50)) };
}

async function signals(entityName, tag) {
  const ids = Array.from({ length: KEYS }, (_, k) => new dt.EntityInstanceId(entityName, `${tag}-${k}`));
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < SIGNALS) await client.signalEntity(ids[next++ % KEYS], "add", 1);
  }));
  const expect = (k) => Math.floor(SIGNALS / KEYS) + (k < SIGNALS % KEYS ? 1 : 0);
  for (let k = 0; k < KEYS; k++) {
    for (let tries = 0; ; tries++) {
      const e = await client.getEntity(ids[k]);
      const v = e?.includesState ? Number(e.state) : 0;
      if (v === expect(k)) break;
      if (v > expect(k) || tries > 6000) throw new Error(`${ids[k]}: ${v}, expected ${expect(k)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  return { applied_per_s: Math.round(SIGNALS / ((performance.now() - t) / 1000)) };
}

await run("js_hello5", cities);  // warm-up: connections, the worker's stream
await run("HelloSequence", cities);
const result = {
  addr: ADDR,
  js: { seq: await seq("js_hello5", "Hello Tokyo!"), bulk: await bulk("js_hello5"), fan: await fan("js_fan"),
        signals: await signals("jsbenchcounter", `run${Date.now()}`) },
  cpp: { seq: await seq("HelloSequence", "Hello Tokyo!"), bulk: await bulk("HelloSequence"), fan: await fan("FanOutFanIn"),
         signals: await signals("Counter", `run${Date.now()}`) },
};
process.stdout.write(JSON.stringify({ role: ROLE, ...result }) + "\n");
if (ROLE === "both") await worker.stop();
process.exit(0);
