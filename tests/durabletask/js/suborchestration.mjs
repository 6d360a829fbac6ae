// A parent calls the child orchestrator twice (one with a default child id, one with an explicit id).
import { runScenario, assert, assertStatus, parse, OrchestrationStatus } from "./common.mjs";

async function* parent(ctx, x) {
  const first = yield ctx.callSubOrchestrator("child", x);
  const second = yield ctx.callSubOrchestrator("child", x + 1, { instanceId: `${ctx.instanceId}:explicit` });
  return { first, second, total: first.doubled + second.doubled };
}
async function* child(ctx, x) {
  const doubled = yield ctx.callActivity("double", x);
  return { doubled, instanceId: ctx.instanceId, parentId: ctx.parent?.instanceId ?? null, parentName: ctx.parent?.name ?? null };
}
const double = (_ctx, x) => x * 2;

await runScenario({
  name: "suborchestration",
  orchestrators: { parent, child },
  activities: { double },
  async run({ client, step, newId }) {
    step("schedule parent");
    const id = await client.scheduleNewOrchestration("parent", 20, newId("parent"));
    step("wait for parent");
    const s = await client.waitForOrchestrationCompletion(id, true, 30);
    assertStatus(s, OrchestrationStatus.COMPLETED, "parent");
    const out = parse(s.serializedOutput);
    assert.equal(out.total, 40 + 42);
    assert.equal(out.first.doubled, 40);
    assert.equal(out.second.doubled, 42);
    assert.equal(out.second.instanceId, `${id}:explicit`, "explicit child instance id");
    assert.notEqual(out.first.instanceId, id);
    assert.ok(out.first.instanceId, "default child instance id");
    for (const c of [out.first, out.second]) {
      assert.equal(c.parentId, id, "child sees its parent's instance id");
      assert.equal(c.parentName, "parent", "child sees its parent's name");
    }
    step("GetInstance of both children");
    for (const childId of [out.first.instanceId, out.second.instanceId]) {
      const cs = await client.getOrchestrationState(childId, true);
      assertStatus(cs, OrchestrationStatus.COMPLETED, `child ${childId}`);
      assert.equal(cs.name, "child");
    }
    return { instanceId: id, children: [out.first.instanceId, out.second.instanceId], total: out.total };
  },
});
