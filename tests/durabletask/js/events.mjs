// External events: one raised while the orchestration waits, one raised before it started,
// and a wait with a 1 s timeout (whenAny of the event and a timer) that times out.
import { runScenario, assert, assertStatus, parse, whenAny, OrchestrationStatus } from "./common.mjs";

async function* wait_for_approval(ctx) {
  return yield ctx.waitForExternalEvent("approval");
}
async function* approval_with_timeout(ctx, seconds) {
  const event = ctx.waitForExternalEvent("approval");
  const timeout = ctx.createTimer(seconds);
  const winner = yield whenAny([event, timeout]);
  return winner === event ? { approved: event.getResult() } : "timed out";
}

await runScenario({
  name: "events",
  orchestrators: { wait_for_approval, approval_with_timeout },
  async run({ client, step, newId }) {
    const payload = { approved: true, by: "js", n: 7 };

    step("event raised while waiting");
    const waiting = await client.scheduleNewOrchestration("wait_for_approval", undefined, newId("approval"));
    await client.waitForOrchestrationStart(waiting, false, 30);
    await client.raiseOrchestrationEvent(waiting, "approval", payload);
    const s1 = await client.waitForOrchestrationCompletion(waiting, true, 30);
    assertStatus(s1, OrchestrationStatus.COMPLETED, "approval");
    assert.deepEqual(parse(s1.serializedOutput), payload);

    step("event raised right after scheduling (before the orchestration ran)");
    const early = await client.scheduleNewOrchestration("wait_for_approval", undefined, newId("approval-early"));
    await client.raiseOrchestrationEvent(early, "approval", "early bird");
    const s2 = await client.waitForOrchestrationCompletion(early, true, 30);
    assertStatus(s2, OrchestrationStatus.COMPLETED, "approval-early");
    assert.equal(parse(s2.serializedOutput), "early bird");

    step("event wait with a 1 s timeout");
    const t0 = Date.now();
    const timed = await client.scheduleNewOrchestration("approval_with_timeout", 1, newId("approval-timeout"));
    const s3 = await client.waitForOrchestrationCompletion(timed, true, 30);
    const ms = Date.now() - t0;
    assertStatus(s3, OrchestrationStatus.COMPLETED, "approval_with_timeout");
    assert.equal(parse(s3.serializedOutput), "timed out");
    assert.ok(ms >= 950, `timed out after only ${ms} ms`);

    step("event beats the timeout");
    const quick = await client.scheduleNewOrchestration("approval_with_timeout", 30, newId("approval-quick"));
    await client.raiseOrchestrationEvent(quick, "approval", 42);
    const s4 = await client.waitForOrchestrationCompletion(quick, true, 30);
    assertStatus(s4, OrchestrationStatus.COMPLETED, "approval_with_timeout (event)");
    assert.deepEqual(parse(s4.serializedOutput), { approved: 42 });

    return { waited: parse(s1.serializedOutput), early: parse(s2.serializedOutput), timeoutMs: ms, quick: parse(s4.serializedOutput) };
  },
});
