// Scheduled start: StartOrchestrationOptions.startAt 2 s ahead (CreateInstanceRequest.scheduledStartTimestamp);
// PENDING until then, then it runs and completes. The start's version reaches ctx.version.
import { runScenario, assert, assertStatus, parse, sleep, statusName, OrchestrationStatus } from "./common.mjs";

async function* scheduled(ctx, input) {
  return { input, ranAt: ctx.currentUtcDateTime.toISOString(), version: ctx.version };
}

await runScenario({
  name: "scheduled_start",
  orchestrators: { scheduled },
  async run({ client, step, newId }) {
    step("schedule 2 s ahead");
    const startAt = new Date(Date.now() + 2000);
    const id = await client.scheduleNewOrchestration("scheduled", "later", { instanceId: newId("scheduled"), startAt, version: "1.2" });

    step("PENDING before the start time");
    let polls = 0;
    while (Date.now() < startAt.getTime() - 250) {
      const s = await client.getOrchestrationState(id, false);
      assert.ok(s, "the scheduled instance exists before it starts");
      assert.equal(s.runtimeStatus, OrchestrationStatus.PENDING, `status ${statusName(s.runtimeStatus)} ${startAt - Date.now()} ms before the start time`);
      polls++;
      await sleep(200);
    }
    assert.ok(polls >= 3, `only ${polls} polls while pending`);

    step("completes after the start time");
    const done = await client.waitForOrchestrationCompletion(id, true, 30);
    const completedAt = Date.now();
    assertStatus(done, OrchestrationStatus.COMPLETED, "scheduled");
    assert.ok(completedAt >= startAt.getTime(), `completed ${startAt - completedAt} ms before startAt`);
    const out = parse(done.serializedOutput);
    assert.equal(out.input, "later");
    assert.ok(Date.parse(out.ranAt) >= startAt.getTime() - 10, `ctx.currentUtcDateTime ${out.ranAt} < startAt ${startAt.toISOString()}`);
    return { instanceId: id, pendingPolls: polls, lateByMs: completedAt - startAt.getTime(), ranAt: out.ranAt, version: out.version };
  },
});
