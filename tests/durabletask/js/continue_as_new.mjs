// continue-as-new: a counter that restarts itself until its input reaches 5, and an orchestration
// whose unconsumed event is carried into the next generation (saveEvents = true).
import { runScenario, assert, assertStatus, parse, OrchestrationStatus } from "./common.mjs";

async function* counter(ctx, n) {
  if (n >= 5) return n;
  const next = yield ctx.callActivity("increment", n); // an activity per generation: ids restart at 0
  ctx.continueAsNew(next, false);
}
const increment = (_ctx, n) => n + 1;

// Generation 0 waits only for "go"; "data", raised before "go", stays unconsumed and must be carried
// over. Generation 1 then reads "data" (it raises nothing itself).
async function* carry(ctx, generation) {
  if (generation === 0) {
    yield ctx.waitForExternalEvent("go");
    ctx.continueAsNew(1, true);
    return;
  }
  const data = yield ctx.waitForExternalEvent("data");
  return { generation, data };
}

await runScenario({
  name: "continue_as_new",
  orchestrators: { counter, carry },
  activities: { increment },
  async run({ client, step, newId }) {
    step("counter 0 -> 5");
    const id = await client.scheduleNewOrchestration("counter", 0, newId("counter"));
    const s = await client.waitForOrchestrationCompletion(id, true, 30);
    assertStatus(s, OrchestrationStatus.COMPLETED, "counter");
    assert.equal(parse(s.serializedOutput), 5);
    assert.equal(parse(s.serializedInput), 5, "the last generation's input");
    assert.equal(s.name, "counter");

    step("carry-over of an unconsumed event");
    const cid = await client.scheduleNewOrchestration("carry", 0, newId("carry"));
    await client.waitForOrchestrationStart(cid, false, 30);
    await client.raiseOrchestrationEvent(cid, "data", { payload: "kept" });
    await client.raiseOrchestrationEvent(cid, "go", null);
    const c = await client.waitForOrchestrationCompletion(cid, true, 30);
    assertStatus(c, OrchestrationStatus.COMPLETED, "carry");
    assert.deepEqual(parse(c.serializedOutput), { generation: 1, data: { payload: "kept" } });

    return { counter: parse(s.serializedOutput), carried: parse(c.serializedOutput) };
  },
});
