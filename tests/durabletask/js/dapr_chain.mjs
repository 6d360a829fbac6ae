// The chain scenario with @dapr/durabletask-js 1.0.0 (positional constructors, no metadata hook:
// DURABLE_KEY goes through a grpc-js interceptor; no in-memory backend: `memory` exits 77).
import { runScenario, assert, assertStatus, parse, OrchestrationStatus } from "./common.mjs";

async function* dapr_chain(ctx, cities) {
  const out = [];
  for (const city of cities) out.push(yield ctx.callActivity("dapr_hello", city));
  return out;
}
const dapr_hello = (_ctx, city) => `Hello, ${city}!`;

await runScenario({
  name: "dapr_chain",
  sdk: "dapr",
  orchestrators: { dapr_chain },
  activities: { dapr_hello },
  async run({ client, step, newId }) {
    const cities = ["Tokyo", "Seattle", "London"];
    const chosen = newId("dapr-chain");
    step("schedule");
    const id = await client.scheduleNewOrchestration("dapr_chain", cities, chosen);
    assert.equal(id, chosen, "the caller's instance id is used");
    step("wait for completion");
    const s = await client.waitForOrchestrationCompletion(id, true, 30);
    assertStatus(s, OrchestrationStatus.COMPLETED, "dapr_chain");
    assert.equal(s.name, "dapr_chain");
    assert.deepEqual(parse(s.serializedOutput), ["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);
    assert.deepEqual(parse(s.serializedInput), cities);
    step("GetInstance without payloads");
    const bare = await client.getOrchestrationState(id, false);
    assertStatus(bare, OrchestrationStatus.COMPLETED, "GetInstance(no fetch)");
    assert.equal(bare.serializedInput, undefined);
    return { instanceId: id, output: parse(s.serializedOutput) };
  },
});
