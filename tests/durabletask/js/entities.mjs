// Entities run by the JS worker: a class entity (jscounter, and jsq for queries) and a function entity (jsrelay) that
// signals another entity and starts an orchestration; signalled from the client (exactly once each),
// read with getEntity; called, signalled and locked from JS orchestrations; a JS orchestration calling
// the node's C++ Counter entity; queryEntities paging; cleanEntityStorage.
//   args: [signals=100]
import { runScenario, assert, assertStatus, parse, dt, waitFor, OrchestrationStatus, whenAll } from "./common.mjs";

const { EntityInstanceId, TaskEntity } = dt;
const entity = (name, key) => new EntityInstanceId(name, key);

class JsCounter extends TaskEntity {
  initializeState() {
    return 0;
  }
  add(n) {
    this.state += n;
    return this.state;
  }
  get() {
    return this.state;
  }
  fail(message) {
    throw new Error(message);
  }
}

// A function entity: `forward` signals jscounter@<input.key> add <input.n>; `spawn` starts
// orchestration `js_spawned` as instance <input>; every operation counts itself in the state.
const jsRelay = () => ({
  run(op) {
    const seen = op.state.getState() ?? 0;
    op.state.setState(seen + 1);
    const input = op.getInput();
    if (op.name === "forward") op.context.signalEntity(entity("jscounter", input.key), "add", input.n);
    else if (op.name === "spawn") return op.context.scheduleNewOrchestration("js_spawned", "from relay", { instanceId: input });
    else if (op.name !== "touch") throw new Error(`jsrelay has no operation '${op.name}'`);
    return seen + 1;
  },
});

async function* js_calls(ctx, key) {
  const id = entity("jscounter", key);
  const first = yield ctx.entities.callEntity(id, "add", 5);
  ctx.entities.signalEntity(id, "add", 2);
  const after = yield ctx.entities.callEntity(id, "get");
  let failed;
  try {
    yield ctx.entities.callEntity(id, "fail", "no such luck");
  } catch (e) {
    failed = { type: e.constructor.name, errorType: e.failureDetails?.errorType, message: e.failureDetails?.errorMessage };
  }
  const still = yield ctx.entities.callEntity(id, "get");
  return { first, after, failed, still };
}

// Moves `amount` from jscounter@<from> to jscounter@<to> inside a critical section over both.
async function* js_transfer(ctx, { from, to, amount }) {
  const a = entity("jscounter", from);
  const b = entity("jscounter", to);
  const lock = yield ctx.entities.lockEntities(a, b);
  const inside = ctx.entities.isInCriticalSection().inSection;
  const [x, y] = yield whenAll([ctx.entities.callEntity(a, "add", -amount), ctx.entities.callEntity(b, "add", amount)]);
  lock.release();
  return { inside, sum: x + y };
}

// The node's C++ sample Counter (add, reset, get).
async function* js_cpp_counter(ctx, key) {
  const id = entity("Counter", key);
  yield ctx.entities.callEntity(id, "add", 4);
  yield ctx.entities.callEntity(id, "add", 6);
  return yield ctx.entities.callEntity(id, "get");
}

async function* js_spawned(_ctx, input) {
  return `spawned ${input}`;
}

await runScenario({
  name: "entities",
  orchestrators: { js_calls, js_transfer, js_cpp_counter, js_spawned },
  entities: { jscounter: () => new JsCounter(), jsq: () => new JsCounter(), jsrelay: jsRelay },
  timeoutSeconds: 120,
  async run({ client, step, args }) {
    const signals = Number(args[0] ?? 100);
    const state = async (id) => {
      const e = await client.getEntity(id);
      return e?.includesState ? e.state : undefined;
    };

    step(`${signals} signals from the client, each applied once`);
    const counter = entity("JsCounter", "signals");
    await Promise.all(Array.from({ length: signals }, () => client.signalEntity(counter, "add", 1)));
    await waitFor(`jscounter@signals to reach ${signals}`, async () => (await state(counter)) === signals);
    const meta = await client.getEntity(counter);
    assert.equal(meta.id.toString(), "@jscounter@signals");
    assert.ok(meta.lastModifiedTime.getTime() > Date.parse("2020-01-01"), `lastModifiedTime ${meta.lastModifiedTime}`);
    assert.equal(meta.lockedBy, undefined);
    const bare = await client.getEntity(counter, false);
    assert.equal(bare.includesState, false, "no state unless asked for");
    assert.equal(await client.getEntity(entity("jscounter", "never-used")), undefined, "an unknown entity");

    step("called, signalled and failing from a JS orchestration");
    const callsId = await client.scheduleNewOrchestration("js_calls", "orch");
    const callsDone = await client.waitForOrchestrationCompletion(callsId, true, 60);
    assertStatus(callsDone, OrchestrationStatus.COMPLETED, "calls");
    const called = parse(callsDone.serializedOutput);

    step("critical sections over two JS entities");
    const transfers = 5;
    const ids = [];
    for (let i = 0; i < transfers; i++) {
      ids.push(await client.scheduleNewOrchestration("js_transfer", { from: "x", to: "y", amount: 3 }));
    }
    const sums = [];
    for (const id of ids) {
      const done = await client.waitForOrchestrationCompletion(id, true, 60);
      assertStatus(done, OrchestrationStatus.COMPLETED, `transfer ${id}`);
      const out = parse(done.serializedOutput);
      assert.equal(out.inside, true, `in the critical section: ${done.serializedOutput}`);
      sums.push(out.sum);
    }
    const x = await state(entity("jscounter", "x"));
    const y = await state(entity("jscounter", "y"));
    const unlocked = (await client.getEntity(entity("jscounter", "x"))).lockedBy === undefined;

    step("a JS orchestration calls the C++ Counter");
    const cppId = await client.scheduleNewOrchestration("js_cpp_counter", "js");
    const cppDone = await client.waitForOrchestrationCompletion(cppId, true, 60);
    assertStatus(cppDone, OrchestrationStatus.COMPLETED, "cpp_counter");

    step("a JS entity signals another and starts an orchestration");
    const relay = entity("jsrelay", "r");
    await client.signalEntity(relay, "forward", { key: "relayed", n: 11 });
    await client.signalEntity(relay, "spawn", "spawned-by-relay");
    await client.signalEntity(relay, "nope");
    await waitFor("jscounter@relayed", async () => (await state(entity("jscounter", "relayed"))) === 11);
    // The relay's batch commits (and starts it) after the worker's answer: wait until it exists.
    await waitFor("the relay's orchestration to exist", () => client.getOrchestrationState("spawned-by-relay", false));
    const spawnedDone = await client.waitForOrchestrationCompletion("spawned-by-relay", true, 60);
    assertStatus(spawnedDone, OrchestrationStatus.COMPLETED, "spawned");
    await waitFor("jsrelay to count its 2 operations that succeeded", async () => (await state(relay)) === 2);

    step("queryEntities by pages");
    for (let i = 0; i < 7; i++) await client.signalEntity(entity("jsq", `k${i}`), "add", i);
    await waitFor("7 jsq entities", async () => {
      let n = 0;
      for await (const e of client.getEntities({ instanceIdStartsWith: "@jsq@" })) n += e.includesState;
      return n === 7;
    });
    const pages = [];
    const seen = [];
    for await (const page of client.getEntities({ instanceIdStartsWith: "jsq", pageSize: 3 }).asPages()) {
      pages.push(page.values.length);
      for (const e of page.values) seen.push([e.id.key, e.includesState ? e.state : null]);
    }

    step("cleanEntityStorage removes an entity whose state was deleted");
    const gone = entity("jsq", "k0");
    await client.signalEntity(gone, "delete");
    await waitFor("jsq@k0 without state", async () => {
      const e = await client.getEntity(gone);
      return e === undefined || !e.includesState;
    });
    const cleaned = await client.cleanEntityStorage();
    const afterClean = await client.getEntity(gone);

    return {
      counter: await state(counter),
      called,
      sums,
      x,
      y,
      unlocked,
      cpp: parse(cppDone.serializedOutput),
      spawned: parse(spawnedDone.serializedOutput),
      relay: await state(relay),
      pages,
      seen,
      cleaned: cleaned.emptyEntitiesRemoved,
      afterClean: afterClean === undefined ? "gone" : "still there",
    };
  },
});
