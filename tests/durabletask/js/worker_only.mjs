// Long-running JS worker for the C++ tests (no client): prints {"ready":true} once its work-item
// stream is up, then serves until SIGTERM/SIGINT (clean stop, exit 0).
//   activity     js_echo(x)     -> "js:" + x
//   orchestrator js_sequence(x) -> "js+" + SayHello(x)   (SayHello is a C++ activity on the node)
import { runScenario } from "./common.mjs";

async function* js_sequence(ctx, input) {
  const hello = yield ctx.callActivity("SayHello", input);
  return "js+" + hello;
}
const js_echo = (_ctx, input) => "js:" + input;

await runScenario({
  name: "worker_only",
  orchestrators: { js_sequence },
  activities: { js_echo },
  client: false,
  longRunning: true,
});
