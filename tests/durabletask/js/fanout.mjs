// Fan-out/fan-in: N activity calls square(i), i = 1..N, joined with whenAll; the sum is checked.
// usage: node fanout.mjs HOST:PORT [N=1000]
import { runScenario, assert, assertStatus, parse, whenAll, OrchestrationStatus } from "./common.mjs";

async function* fanout(ctx, n) {
  const tasks = [];
  for (let i = 1; i <= n; i++) tasks.push(ctx.callActivity("square", i));
  const squares = yield whenAll(tasks);
  return { count: squares.length, sum: squares.reduce((a, b) => a + b, 0) };
}
const square = (_ctx, i) => i * i;

await runScenario({
  name: "fanout",
  orchestrators: { fanout },
  activities: { square },
  timeoutSeconds: 120,
  async run({ client, step, newId, args }) {
    const n = Number(args[0] ?? 1000);
    assert.ok(Number.isInteger(n) && n > 0, `bad N ${args[0]}`);
    step(`schedule fan-out of ${n}`);
    const t0 = Date.now();
    const id = await client.scheduleNewOrchestration("fanout", n, newId("fanout"));
    step(`wait for ${n} activities`);
    const s = await client.waitForOrchestrationCompletion(id, true, 110);
    assertStatus(s, OrchestrationStatus.COMPLETED, "fanout");
    const out = parse(s.serializedOutput);
    const expected = (n * (n + 1) * (2 * n + 1)) / 6;
    assert.deepEqual(out, { count: n, sum: expected });
    return { instanceId: id, n, sum: out.sum, ms: Date.now() - t0 };
  },
});
