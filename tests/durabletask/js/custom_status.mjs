// Custom status: set an object, observe it through GetInstance while the orchestration waits,
// then release it with an event; the final custom status is set in the completing episode.
import { runScenario, assert, assertStatus, parse, waitFor, OrchestrationStatus } from "./common.mjs";

async function* status_waiter(ctx) {
  ctx.setCustomStatus({ stage: "waiting", progress: 0.5, tags: ["a", "b"] });
  const go = yield ctx.waitForExternalEvent("go");
  ctx.setCustomStatus({ stage: "done" });
  return go;
}

await runScenario({
  name: "custom_status",
  orchestrators: { status_waiter },
  async run({ client, step, newId }) {
    step("schedule");
    const id = await client.scheduleNewOrchestration("status_waiter", undefined, newId("status"));
    const expected = { stage: "waiting", progress: 0.5, tags: ["a", "b"] };

    step("poll for the custom status");
    const seen = await waitFor("custom status {stage: waiting}", async () => {
      const s = await client.getOrchestrationState(id, true);
      if (s?.serializedCustomStatus && JSON.stringify(parse(s.serializedCustomStatus)) === JSON.stringify(expected)) return s;
    });
    assertStatus(seen, OrchestrationStatus.RUNNING, "while waiting");
    assert.deepEqual(parse(seen.serializedCustomStatus), expected);

    step("custom status is a payload: absent without fetch");
    const bare = await client.getOrchestrationState(id, false);
    assert.equal(bare.serializedCustomStatus, undefined);

    step("release and complete");
    await client.raiseOrchestrationEvent(id, "go", "went");
    const done = await client.waitForOrchestrationCompletion(id, true, 30);
    assertStatus(done, OrchestrationStatus.COMPLETED, "status_waiter");
    assert.equal(parse(done.serializedOutput), "went");
    assert.deepEqual(parse(done.serializedCustomStatus), { stage: "done" });

    return { instanceId: id, whileWaiting: parse(seen.serializedCustomStatus), final: parse(done.serializedCustomStatus) };
  },
});
