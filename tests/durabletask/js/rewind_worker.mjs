// Rewind of orchestrations this worker hosts: the node hands the worker the rewind
// ([orchestratorStarted, executionRewound] after the failed history), the SDK answers with its
// rewindOrchestration action, and the failed activity runs again while the one that succeeded
// keeps its result. A failed child is rewound in turn.
import { runScenario, assert, assertStatus, parse, waitFor, OrchestrationStatus } from "./common.mjs";

let healthy = false;
const calls = { steady: 0, flaky: 0 };

async function* stepThenFlaky(ctx, tag) {
  const a = yield ctx.callActivity("steady", tag);
  const b = yield ctx.callActivity("flaky", tag);
  return `${a}, ${b}`;
}
async function* parentOfFlaky(ctx) {
  return yield ctx.callSubOrchestrator("stepThenFlaky", "child", { instanceId: `${ctx.instanceId}:child` });
}
const steady = (_ctx, tag) => {
  calls.steady++;
  return `steady ${tag}`;
};
const flaky = (_ctx, tag) => {
  calls.flaky++;
  if (!healthy) throw new Error(`flaky: not yet (${tag})`);
  return `ok ${tag}`;
};

await runScenario({
  name: "rewind_worker",
  orchestrators: { stepThenFlaky, parentOfFlaky },
  activities: { steady, flaky },
  async run({ client, step, newId }) {
    step("start and fail");
    const id = await client.scheduleNewOrchestration("stepThenFlaky", "top", newId("rewind"));
    let s = await client.waitForOrchestrationCompletion(id, true, 30);
    assertStatus(s, OrchestrationStatus.FAILED, "before the rewind");
    const parent = await client.scheduleNewOrchestration("parentOfFlaky", null, newId("rewind-parent"));
    s = await client.waitForOrchestrationCompletion(parent, true, 30);
    assertStatus(s, OrchestrationStatus.FAILED, "parent before the rewind");

    healthy = true;
    step("rewind both");
    await client.rewindInstance(id, "the service is back");
    await client.rewindInstance(parent, "the child's service is back");
    step("wait for both");
    s = await waitFor("the rewound instance to complete", async () => {
      const st = await client.getOrchestrationState(id, true);
      return st && st.runtimeStatus === OrchestrationStatus.COMPLETED ? st : undefined;
    });
    assert.equal(parse(s.serializedOutput), "steady top, ok top");
    const p = await waitFor("the rewound parent to complete", async () => {
      const st = await client.getOrchestrationState(parent, true);
      return st && st.runtimeStatus === OrchestrationStatus.COMPLETED ? st : undefined;
    });
    assert.equal(parse(p.serializedOutput), "steady child, ok child");

    step("a completed instance cannot be rewound");
    let refused = "";
    try {
      await client.rewindInstance(id, "again");
    } catch (e) {
      refused = String(e.message ?? e);
    }
    assert.match(refused, /Completed/, "the refusal names the status");
    return { instanceId: id, parentId: parent, steadyCalls: calls.steady, flakyCalls: calls.flaky, refused };
  },
});
