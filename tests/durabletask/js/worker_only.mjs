// Long-running JS worker for the C++ tests (no client): prints {"ready":true} once its work-item
// stream is up, then serves until SIGTERM/SIGINT (clean stop, exit 0).
//   activity     js_echo(x)     -> "js:" + x
//   orchestrator js_sequence(x) -> "js+" + SayHello(x)   (SayHello is a C++ activity on the node)
//   entity       jscounter      add(n) -> the new count, get() -> the count
import { runScenario, dt } from "./common.mjs";

class JsCounter extends dt.TaskEntity {
  initializeState() {
    return 0;
  }
  add(n) {
    this.state += n;
    return this.state;
  }
  get() {
    return this.state;
  }
}

async function* js_sequence(ctx, input) {
  const hello = yield ctx.callActivity("SayHello", input);
  return "js+" + hello;
}
const js_echo = (_ctx, input) => "js:" + input;

await runScenario({
  name: "worker_only",
  orchestrators: { js_sequence },
  activities: { js_echo },
  entities: { jscounter: () => new JsCounter() },
  client: false,
  longRunning: true,
});
