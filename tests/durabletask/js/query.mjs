// Query paging: 7 instances under a unique id prefix, read back with page size 3 (QueryInstances).
import { runScenario, assert, assertStatus, parse, OrchestrationStatus } from "./common.mjs";
import { randomUUID } from "node:crypto";

async function* query_item(_ctx, i) {
  return i * 10;
}

await runScenario({
  name: "query",
  orchestrators: { query_item },
  async run({ client, step }) {
    const prefix = `q${randomUUID().slice(0, 8)}-`;
    const ids = [];
    step("start 7 instances");
    for (let i = 0; i < 7; i++) ids.push(await client.scheduleNewOrchestration("query_item", i, `${prefix}${i}`));
    for (const id of ids) assertStatus(await client.waitForOrchestrationCompletion(id, false, 30), OrchestrationStatus.COMPLETED, id);

    step("page through with page size 3");
    const pageable = client.getAllInstances({ instanceIdPrefix: prefix, pageSize: 3, fetchInputsAndOutputs: true });
    const seen = [];
    const pageSizes = [];
    for await (const page of pageable.asPages()) {
      assert.ok(page.values.length <= 3, `page of ${page.values.length} > 3`);
      pageSizes.push(page.values.length);
      for (const s of page.values) {
        assert.ok(s.instanceId.startsWith(prefix), `foreign instance ${s.instanceId}`);
        assert.equal(s.name, "query_item");
        assertStatus(s, OrchestrationStatus.COMPLETED, s.instanceId);
        assert.equal(parse(s.serializedOutput), Number(s.instanceId.slice(prefix.length)) * 10, "payload with fetchInputsAndOutputs");
        seen.push(s.instanceId);
      }
      assert.ok(pageSizes.length <= 10, "too many pages");
    }
    assert.deepEqual([...seen].sort(), [...ids].sort(), "every instance exactly once");
    assert.ok(pageSizes.length >= 3, `7 instances in ${pageSizes.length} pages of <= 3`);

    step("item iteration, status filter, no payloads");
    const items = [];
    for await (const s of client.getAllInstances({ instanceIdPrefix: prefix, pageSize: 3, statuses: [OrchestrationStatus.COMPLETED] })) {
      assert.equal(s.serializedOutput, undefined, "no payload unless fetchInputsAndOutputs");
      items.push(s.instanceId);
    }
    assert.deepEqual(items.sort(), [...ids].sort());

    step("a status filter that matches nothing");
    let none = 0;
    for await (const _ of client.getAllInstances({ instanceIdPrefix: prefix, statuses: [OrchestrationStatus.FAILED] })) none++;
    assert.equal(none, 0);

    return { prefix, pages: pageSizes, seen: seen.length };
  },
});
