// A durable timer 1 s after ctx.currentUtcDateTime.
import { runScenario, assert, assertStatus, parse, OrchestrationStatus } from "./common.mjs";

async function* timer(ctx, ms) {
  const start = ctx.currentUtcDateTime;
  yield ctx.createTimer(new Date(start.getTime() + ms));
  return { start: start.toISOString(), resumedAt: ctx.currentUtcDateTime.toISOString() };
}

await runScenario({
  name: "timer",
  orchestrators: { timer },
  async run({ client, step, newId, memory }) {
    step("schedule");
    const t0 = Date.now();
    const id = await client.scheduleNewOrchestration("timer", 1000, newId("timer"));
    step("wait for the timer");
    const s = await client.waitForOrchestrationCompletion(id, true, 30);
    const wallMs = Date.now() - t0;
    assertStatus(s, OrchestrationStatus.COMPLETED, "timer");
    assert.ok(wallMs >= 950, `completed after only ${wallMs} ms`);
    const out = parse(s.serializedOutput);
    const ctxMs = Date.parse(out.resumedAt) - Date.parse(out.start);
    // The in-memory backend sends no orchestratorStarted per dispatch, so its clock does not advance.
    if (!memory) assert.ok(ctxMs >= 990, `ctx.currentUtcDateTime advanced only ${ctxMs} ms across the timer`);
    return { instanceId: id, wallMs, ctxMs };
  },
});
