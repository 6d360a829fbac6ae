// Terminate, suspend/resume, purge by id, purge by filter (created-time range + statuses).
import {
  runScenario, assert, assertStatus, parse, sleep, statusName, waitFor, OrchestrationStatus, PurgeInstanceCriteria,
} from "./common.mjs";

async function* wait_for_continue(ctx) {
  return yield ctx.waitForExternalEvent("continue");
}
async function* quick(_ctx, input) {
  return input;
}

await runScenario({
  name: "lifecycle",
  orchestrators: { wait_for_continue, quick },
  async run({ client, step, newId }) {
    const status = async (id) => (await client.getOrchestrationState(id, false))?.runtimeStatus;

    step("terminate a running orchestration");
    const doomed = await client.scheduleNewOrchestration("wait_for_continue", undefined, newId("terminate"));
    await client.waitForOrchestrationStart(doomed, false, 30);
    await client.terminateOrchestration(doomed, "stopped by test");
    const t = await client.waitForOrchestrationCompletion(doomed, true, 30);
    assertStatus(t, OrchestrationStatus.TERMINATED, "terminated");
    assert.equal(parse(t.serializedOutput), "stopped by test", "the terminate reason is the output");

    step("suspend");
    const paused = await client.scheduleNewOrchestration("wait_for_continue", undefined, newId("suspend"));
    await client.waitForOrchestrationStart(paused, false, 30);
    await client.suspendOrchestration(paused);
    await waitFor("status SUSPENDED", async () => (await status(paused)) === OrchestrationStatus.SUSPENDED);

    step("an event raised while suspended is held back");
    await client.raiseOrchestrationEvent(paused, "continue", "after resume");
    await sleep(500);
    assert.equal(statusName(await status(paused)), "SUSPENDED", "still suspended 0.5 s after the event");

    step("resume");
    await client.resumeOrchestration(paused);
    const r = await client.waitForOrchestrationCompletion(paused, true, 30);
    assertStatus(r, OrchestrationStatus.COMPLETED, "resumed");
    assert.equal(parse(r.serializedOutput), "after resume");

    step("purge by id");
    const purged = await client.purgeOrchestration(doomed);
    assert.equal(purged?.deletedInstanceCount, 1, "one instance purged by id");
    assert.equal(await client.getOrchestrationState(doomed), undefined, "purged instance is gone");
    const again = await client.purgeOrchestration(doomed);
    assert.equal(again?.deletedInstanceCount ?? 0, 0, "purging it again deletes nothing");

    step("purge by filter");
    const from = new Date(Date.now() - 2);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await client.scheduleNewOrchestration("quick", i, newId(`purge-filter-${i}`)));
    const to = new Date(Date.now() + 2);
    for (const id of ids) assertStatus(await client.waitForOrchestrationCompletion(id, false, 30), OrchestrationStatus.COMPLETED, id);
    const criteria = new PurgeInstanceCriteria();
    criteria.setCreatedTimeFrom(from);
    criteria.setCreatedTimeTo(to);
    criteria.setRuntimeStatusList([OrchestrationStatus.COMPLETED, OrchestrationStatus.TERMINATED]);
    criteria.setTimeout(30000);
    const byFilter = await client.purgeOrchestration(criteria);
    assert.ok(byFilter?.deletedInstanceCount >= ids.length, `purged ${byFilter?.deletedInstanceCount} by filter, expected >= ${ids.length}`);
    for (const id of ids) assert.equal(await client.getOrchestrationState(id), undefined, `${id} purged by filter`);

    return { terminated: doomed, resumed: paused, purgedByFilter: byFilter.deletedInstanceCount };
  },
});

