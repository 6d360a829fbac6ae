// Long-running JS worker with a slow activity, for "worker killed mid-run" tests.
// usage: node slow_worker.mjs HOST:PORT [delayMs=1000]
//   activity     slow_step(x)     -> waits delayMs, returns x * 2
//   orchestrator slow_sequence(x) -> slow_step(x)
// stdout: {"ready":true} once the work-item stream is up; then one line per activity start,
// {"started":"slow_step","input":x,"pid":...}, so a test can kill the worker while one is running.
import { runScenario, emit, sleep } from "./common.mjs";

const delayMs = Number(process.argv[3] ?? 1000);

async function* slow_sequence(ctx, input) {
  return yield ctx.callActivity("slow_step", input);
}
async function slow_step(_ctx, input) {
  emit({ started: "slow_step", input, pid: process.pid });
  await sleep(delayMs);
  return input * 2;
}

await runScenario({
  name: "slow_worker",
  orchestrators: { slow_sequence },
  activities: { slow_step },
  client: false,
  longRunning: true,
});
