// Falsy payloads survive the round trip: 0, "", false, null stay themselves; no input gives no output.
import { runScenario, assert, assertStatus, parse, OrchestrationStatus } from "./common.mjs";

async function* echo_direct(_ctx, input) {
  return input;
}
async function* echo_via_activity(ctx, input) {
  return yield ctx.callActivity("echo", input);
}
const echo = (_ctx, input) => input;

const cases = [
  ["zero", 0],
  ["empty", ""],
  ["false", false],
  ["null", null],
  ["undefined", undefined],
];

await runScenario({
  name: "falsy",
  orchestrators: { echo_direct, echo_via_activity },
  activities: { echo },
  async run({ client, step, newId }) {
    step("schedule 10 orchestrations");
    const runs = [];
    for (const orchestrator of ["echo_direct", "echo_via_activity"]) {
      for (const [label, value] of cases) {
        const id = await client.scheduleNewOrchestration(orchestrator, value, newId(`falsy-${label}`));
        runs.push({ orchestrator, label, value, id });
      }
    }
    const seen = {};
    for (const r of runs) {
      step(`${r.orchestrator}(${r.label})`);
      const s = await client.waitForOrchestrationCompletion(r.id, true, 30);
      assertStatus(s, OrchestrationStatus.COMPLETED, `${r.orchestrator}(${r.label})`);
      if (r.value === undefined) {
        // No input: the output is unset (or an empty string), never "null".
        assert.ok(s.serializedOutput === undefined || s.serializedOutput === "", `output ${JSON.stringify(s.serializedOutput)}`);
        assert.ok(s.serializedInput === undefined || s.serializedInput === "", `input ${JSON.stringify(s.serializedInput)}`);
      } else {
        assert.equal(s.serializedOutput, JSON.stringify(r.value), `${r.orchestrator}(${r.label}) raw output`);
        assert.equal(s.serializedInput, JSON.stringify(r.value), `${r.orchestrator}(${r.label}) raw input`);
        assert.deepEqual(parse(s.serializedOutput), r.value);
      }
      const raw = (v) => (v === undefined ? "<unset>" : v);
      if (r.orchestrator === "echo_direct") seen[r.label] = { input: raw(s.serializedInput), output: raw(s.serializedOutput) };
    }
    return { checked: runs.length, raw: seen };
  },
});
