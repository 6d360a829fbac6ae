// Activity chain: hello(Tokyo) -> hello(Seattle) -> hello(London); plus GetInstance with/without payloads.
import { runScenario, assert, assertStatus, parse, OrchestrationStatus } from "./common.mjs";

async function* chain(ctx, cities) {
  const out = [];
  for (const city of cities) out.push(yield ctx.callActivity("hello", city));
  return out;
}
const hello = (_ctx, city) => `Hello, ${city}!`;

await runScenario({
  name: "chain",
  orchestrators: { chain },
  activities: { hello },
  async run({ client, step, newId }) {
    const cities = ["Tokyo", "Seattle", "London"];
    const chosen = newId("chain");

    step("schedule with a caller-chosen instance id");
    const id = await client.scheduleNewOrchestration("chain", cities, chosen);
    assert.equal(id, chosen, "the caller's instance id is used");

    step("wait for completion");
    const done = await client.waitForOrchestrationCompletion(id, true, 30);
    assertStatus(done, OrchestrationStatus.COMPLETED, "chain");
    assert.deepEqual(parse(done.serializedOutput), ["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);

    step("GetInstance with inputs and outputs");
    const full = await client.getOrchestrationState(id, true);
    assertStatus(full, OrchestrationStatus.COMPLETED, "GetInstance(fetch)");
    assert.equal(full.instanceId, id);
    assert.equal(full.name, "chain");
    assert.deepEqual(parse(full.serializedInput), cities);
    assert.deepEqual(parse(full.serializedOutput), parse(done.serializedOutput));
    assert.ok(full.createdAt.getTime() > Date.parse("2020-01-01"), `createdAt ${full.createdAt.toISOString()}`);
    assert.ok(full.lastUpdatedAt >= full.createdAt, "lastUpdatedAt >= createdAt");

    step("GetInstance without inputs and outputs");
    const bare = await client.getOrchestrationState(id, false);
    assertStatus(bare, OrchestrationStatus.COMPLETED, "GetInstance(no fetch)");
    assert.equal(bare.instanceId, id);
    assert.equal(bare.name, "chain");
    assert.equal(bare.serializedInput, undefined, "no input unless fetched");
    assert.equal(bare.serializedOutput, undefined, "no output unless fetched");

    step("GetInstance of an unknown id");
    assert.equal(await client.getOrchestrationState(`${id}-missing`), undefined);

    return { instanceId: id, output: parse(done.serializedOutput), createdAt: full.createdAt.toISOString() };
  },
});
