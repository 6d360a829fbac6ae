// listInstanceIds (ListInstanceIds) by pages and filters, and getOrchestrationHistory
// (StreamInstanceHistory) of a finished and of an unknown instance.
import { runScenario, assert, assertStatus, OrchestrationStatus } from "./common.mjs";

async function* greet(ctx, name) {
  return yield ctx.callActivity("hello", name);
}
async function* waiter(ctx) {
  return yield ctx.waitForExternalEvent("go");
}
const hello = (_ctx, name) => `Hello, ${name}!`;

// Every page of listInstanceIds with `options`: the ids of each.
async function pagesOf(client, options) {
  const pages = [];
  let lastInstanceKey;
  for (;;) {
    const page = await client.listInstanceIds({ ...options, lastInstanceKey });
    pages.push(page.values);
    if (!page.hasMoreResults) return pages;
    lastInstanceKey = page.continuationToken;
  }
}

await runScenario({
  name: "history",
  orchestrators: { greet, waiter },
  activities: { hello },
  async run({ client, step }) {
    step("five completed instances and one running");
    const before = new Date(Date.now() - 1000);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await client.scheduleNewOrchestration("greet", `n${i}`, `li-${i}`));
    for (const id of ids) assertStatus(await client.waitForOrchestrationCompletion(id, true, 30), OrchestrationStatus.COMPLETED, id);
    const running = await client.scheduleNewOrchestration("waiter", null, "li-running");
    await client.waitForOrchestrationStart(running, false, 30);

    step("listInstanceIds: completed ones, two a page");
    const completedPages = await pagesOf(client, { runtimeStatus: [OrchestrationStatus.COMPLETED], pageSize: 2 });
    step("listInstanceIds: every status, one page");
    const all = await pagesOf(client, { pageSize: 10 });
    step("listInstanceIds: completed in a window");
    const inWindow = await pagesOf(client, { completedTimeFrom: before, completedTimeTo: new Date(Date.now() + 1000) });
    const beforeWindow = await pagesOf(client, { completedTimeTo: before });

    step("getOrchestrationHistory");
    const history = await client.getOrchestrationHistory(ids[0]);
    const unknown = await client.getOrchestrationHistory("li-nobody");

    await client.terminateOrchestration(running, "done");
    return {
      completedPages,
      all: all.flat().sort(),
      inWindow: inWindow.flat().sort(),
      beforeWindow: beforeWindow.flat(),
      historyTypes: history.map((e) => e.type),
      scheduled: history.find((e) => e.type === "TaskScheduled")?.name,
      unknown: unknown.length,
    };
  },
});
