// Issue 18 through the JS SDK's client: rewindInstance, restartOrchestration,
// recursive terminateOrchestration and purgeOrchestration.
import {
  runScenario, assert, assertStatus, parse, waitFor, OrchestrationStatus, terminateOptions,
} from "./common.mjs";

let flakyCalls = 0;
function flaky_step() {
  flakyCalls += 1;
  if (flakyCalls === 1) throw new Error("flaky_step: first call fails");
  return "recovered";
}
async function* flaky(ctx) {
  return yield ctx.callActivity("flaky_step");
}
async function* quick(_ctx, input) {
  return input;
}
async function* level(ctx, depth) {
  if (depth <= 1) return yield ctx.waitForExternalEvent("never");
  return yield ctx.callSubOrchestrator("level", depth - 1, { instanceId: `${ctx.instanceId}:c` });
}

async function rejects(promise, pattern, what) {
  try {
    await promise;
  } catch (e) {
    assert.match(String(e.message) + " " + String(e.cause?.details ?? ""), pattern, what);
    return;
  }
  assert.fail(`${what}: no error`);
}

await runScenario({
  name: "rewind_restart",
  orchestrators: { flaky, quick, level },
  activities: { flaky_step },
  async run({ client, step, newId }) {
    const status = async (id) => (await client.getOrchestrationState(id, false))?.runtimeStatus;

    step("rewind: errors");
    await rejects(client.rewindInstance(newId("nobody"), "why"), /was not found/, "unknown id");
    const done = await client.scheduleNewOrchestration("quick", 1, newId("done"));
    assertStatus(await client.waitForOrchestrationCompletion(done, false, 30), OrchestrationStatus.COMPLETED, "quick");
    await rejects(client.rewindInstance(done, "why"), /is Completed; only a Failed instance can be rewound/, "completed");

    step("rewind a failed orchestration");
    const failing = await client.scheduleNewOrchestration("flaky", undefined, newId("flaky"));
    assertStatus(await client.waitForOrchestrationCompletion(failing, false, 30), OrchestrationStatus.FAILED, "flaky");
    await client.rewindInstance(failing, "try again");
    const rewound = await client.waitForOrchestrationCompletion(failing, true, 30);
    assertStatus(rewound, OrchestrationStatus.COMPLETED, "rewound");
    assert.equal(parse(rewound.serializedOutput), "recovered");

    step("restart under the same id and under a new one");
    const same = await client.restartOrchestration(done);
    assert.equal(same, done);
    const again = await client.waitForOrchestrationCompletion(done, true, 30);
    assertStatus(again, OrchestrationStatus.COMPLETED, "restarted");
    assert.equal(parse(again.serializedOutput), 1, "with the original input");
    const other = await client.restartOrchestration(done, true);
    assert.notEqual(other, done);
    assert.equal(parse((await client.waitForOrchestrationCompletion(other, true, 30)).serializedOutput), 1);
    await rejects(client.restartOrchestration(newId("nobody")), /was not found/, "restart unknown");

    step("recursive terminate of a 3-level tree");
    const root = newId("tree");
    await client.scheduleNewOrchestration("level", 3, root);
    await waitFor("the grandchild runs", async () => (await status(`${root}:c:c`)) === OrchestrationStatus.RUNNING);
    await rejects(client.restartOrchestration(root), /cannot be restarted/, "restart a running one");
    await client.terminateOrchestration(root, terminateOptions({ output: "stop", recursive: true }));
    for (const id of [root, `${root}:c`, `${root}:c:c`]) {
      await waitFor(`${id} terminated`, async () => (await status(id)) === OrchestrationStatus.TERMINATED);
    }

    step("recursive purge");
    const purged = await client.purgeOrchestration(root, { recursive: true });
    assert.equal(purged?.deletedInstanceCount, 3, "the whole tree");
    for (const id of [root, `${root}:c`, `${root}:c:c`]) assert.equal(await client.getOrchestrationState(id), undefined);

    return { rewound: failing, restarted: other, purged: purged.deletedInstanceCount };
  },
});
