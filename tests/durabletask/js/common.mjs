// Shared harness for the Durable Task JS scenario tests.
//
// Usage of every scenario:  node <scenario>.mjs HOST:PORT [scenario args...]
//                           node <scenario>.mjs memory    [scenario args...]
//   HOST:PORT  the TaskHubSidecarService gRPC address (insecure channel).
//   memory     run against the SDK's own in-process backend (InMemoryOrchestrationBackend), with a
//              thin adapter (MemoryClient below) for what its TestOrchestrationClient lacks.
// Env: DURABLE_KEY  when set, every call carries metadata "authorization: Bearer <key>".
//      DT_TIMEOUT_S overrides the scenario's global timeout (default 60 s).
//      DT_VERBOSE=1 shows the SDKs' info/debug logs (on stderr).
// Output: stdout carries exactly one JSON line, {"ok":true,"scenario":...,facts} (exit 0) or
// {"ok":false,"scenario":...,"step":...,"error":...} (exit 1). All logging goes to stderr.
// Long-running workers (worker_only, slow_worker) print {"ready":true} once connected and exit 0
// on SIGTERM/SIGINT after stopping the worker.
//
// ---- @microsoft/durabletask-js 0.4.0: the API as read from dist/ -------------------------------
// Construction: new TaskHubGrpcWorker({hostAddress, options?, useTLS?, credentials?, metadataGenerator?,
//   logger?, shutdownTimeoutMs? (default 30000), versioning?, workItemFilters?}) and
//   new TaskHubGrpcClient({hostAddress, options?, useTLS?, credentials?, metadataGenerator?, logger?,
//   defaultVersion?}). Deprecated positional forms exist. worker.start() returns at once (Hello and
//   GetWorkItems run in the background; a failing first Hello is logged, never retried).
// Metadata: metadataGenerator: () => Promise<grpc.Metadata>, called for every unary call and for the
//   GetWorkItems stream (worker and client). grpc.Metadata must come from the SDK's own @grpc/grpc-js
//   copy (loaded below through createRequire from the SDK's path).
// Names: addOrchestrator(fn)/addActivity(fn) use fn.name (or parse the source text); anonymous
//   functions throw. addNamedOrchestrator(name, fn) / addNamedActivity(name, fn) register explicitly
//   (used here). ctx.callActivity / callSubOrchestrator / scheduleNewOrchestration take a fn (fn.name)
//   or a string name.
// Orchestrator: async function* (ctx, input) { const r = yield ctx.callActivity(nameOrFn, input, {retry?,
//   tags?, version?}); return r; }. whenAll(tasks) -> results array; whenAny(tasks) -> the winning Task
//   (compare identity; its value is task.getResult()). ctx.createTimer(Date | seconds-from-now-number).
//   ctx.waitForExternalEvent(name) (names lower-cased: case-insensitive). ctx.callSubOrchestrator(nameOrFn,
//   input, {instanceId?, retry?, tags?, version?}); default child id is "<executionId>:<seq>".
//   ctx.continueAsNew(newInput, saveEvents=false) (then return; unconsumed received events become
//   carryoverEvents when saveEvents). ctx.setCustomStatus(obj) (JSON-stringified; null/undefined clears).
//   ctx.currentUtcDateTime (Date of the work item's orchestratorStarted), ctx.instanceId, ctx.parent
//   ({name, instanceId, taskScheduledId} | undefined), ctx.isReplaying, ctx.sendEvent(id, name, data),
//   ctx.newGuid(). Activity: (ctx, input) => value | Promise (ctx.orchestrationId, ctx.taskId).
// Client (TaskHubGrpcClient):
//   scheduleNewOrchestration(nameOrFn, input?, instanceId?: string, startAt?: Date)     -> Promise<id>
//   scheduleNewOrchestration(nameOrFn, input?, {instanceId?, startAt?, tags?, version?}) -> Promise<id>
//     (id defaults to randomUUID(); input is always JSON.stringify(input), so undefined goes on the wire as an
//     empty StringValue; scheduledStartTimestamp is always set: startAt, or the epoch (0) when absent)
//   getOrchestrationState(id, fetchPayloads = true)            -> OrchestrationState | undefined (exists=false)
//   waitForOrchestrationStart(id, fetchPayloads = false, timeoutSeconds = 60)
//   waitForOrchestrationCompletion(id, fetchPayloads = true, timeoutSeconds = 60)  (client-side race; rejects
//     with "Timed out waiting ..." ; no gRPC deadline)
//   raiseOrchestrationEvent(id, eventName, data = null)        (data JSON-stringified: null -> "null")
//   terminateOrchestration(id, output = null | terminateOptions({output, recursive}))
//   suspendOrchestration(id), resumeOrchestration(id), rewindInstance(id, reason),
//   restartOrchestration(id, restartWithNewInstanceId = false) -> id
//   purgeOrchestration(id | PurgeInstanceCriteria, {recursive?}) -> PurgeResult {deletedInstanceCount} | undefined
//     PurgeInstanceCriteria: new PurgeInstanceCriteria(); setCreatedTimeFrom(Date), setCreatedTimeTo(Date),
//     setRuntimeStatusList([OrchestrationStatus...]), setTimeout(ms, default 5 min: client-side race)
//   getAllInstances({createdFrom?, createdTo?, statuses?, taskHubNames?, instanceIdPrefix?, pageSize? (100),
//     fetchInputsAndOutputs? (false), continuationToken?}) -> AsyncPageable: `for await (const s of p)` over
//     items, or `for await (const page of p.asPages(token?, pageSizeHint?))` -> Page {values, continuationToken,
//     hasMoreResults}; paging stops when the response's continuationToken is unset or "". (QueryInstances)
//   listInstanceIds({runtimeStatus?, completedTimeFrom?, completedTimeTo?, pageSize?, lastInstanceKey?})
//     -> Page<string> (continuationToken = lastInstanceKey)
//   getOrchestrationHistory(id) -> HistoryEvent[] (StreamInstanceHistory)
//   Entities: signalEntity(EntityInstanceId, op, input?, {signalTime?}), getEntity(id, includeState = true)
//     -> EntityMetadata | undefined, getEntities(EntityQuery?) -> AsyncPageable (iterate or .asPages()),
//     cleanEntityStorage(request?, continueUntilComplete?); worker.addEntity / addNamedEntity(name, factory)
//     (entity names lower-cased).
//   stop() closes the channel and then sleeps 1 s; worker.stop() cancels the stream, waits for in-flight
//   work (shutdownTimeoutMs) and sleeps 1 s.
// OrchestrationState fields: instanceId, name, runtimeStatus (OrchestrationStatus: RUNNING 0, COMPLETED 1,
//   CONTINUED_AS_NEW 2, FAILED 3, TERMINATED 5, PENDING 6, SUSPENDED 7), createdAt: Date, lastUpdatedAt: Date,
//   serializedInput?, serializedOutput?, serializedCustomStatus? (raw JSON strings, straight from the
//   response's StringValues, undefined when unset), failureDetails? {message, errorType, stackTrace},
//   tags?; raiseIfFailed(). (The query path drops the payloads client-side unless fetchInputsAndOutputs.)
// In-process testing backend: InMemoryOrchestrationBackend + TestOrchestrationWorker (same add*/start/stop)
//   + TestOrchestrationClient (positional scheduleNewOrchestration only, purge by id only, no query, no
//   scheduled-start delay, no orchestratorStarted per dispatch: ctx.currentUtcDateTime stays at the start).
// @dapr/durabletask-js 1.0.0: new TaskHubGrpcWorker(hostAddress?, channelOptions?, useTLS?) and
//   new TaskHubGrpcClient(hostAddress?, channelOptions?, useTLS?); no metadata hook (we add a grpc-js client
//   interceptor through channelOptions.interceptors); same add*/addNamed*, ctx and client method names for
//   orchestrations (scheduleNewOrchestration(name, input, instanceId?, startAt?) positional only); no query,
//   no entities, no logger (console.log; a failing first Hello is an unhandled rejection).
// -------------------------------------------------------------------------------------------------

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
import { format } from "node:util";
import * as dt from "@microsoft/durabletask-js";

export { assert, dt };
export const {
  OrchestrationStatus,
  PurgeInstanceCriteria,
  whenAll,
  whenAny,
  terminateOptions,
} = dt;

const require = createRequire(import.meta.url);
/** The @grpc/grpc-js module instance that the given SDK package itself uses. */
export function grpcOf(pkg = "@microsoft/durabletask-js") {
  return createRequire(require.resolve(pkg))("@grpc/grpc-js");
}

// ---- output discipline: stdout = exactly one JSON line ------------------------------------------
const verbose = !!process.env.DT_VERBOSE;
const toStderr = (...a) => process.stderr.write(format(...a) + "\n");
let daprConnected; // resolved when the Dapr worker logs its connection (it has no logger hook)
const quiet = (...a) => {
  if (typeof a[0] === "string" && a[0].startsWith("Successfully connected")) daprConnected?.();
  if (verbose) toStderr(...a);
};
console.log = console.info = console.debug = quiet;
console.warn = toStderr;
export const log = toStderr;
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// ---- small helpers --------------------------------------------------------------------------------
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Parse a serialized payload; unset and "" both mean "no value". */
export const parse = (s) => (s === undefined || s === "" ? undefined : JSON.parse(s));
export const statusName = (s) => OrchestrationStatus[s] ?? String(s);
export const newId = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Poll `probe` until it returns a truthy value; throws naming `what` after timeoutMs. */
export async function waitFor(what, probe, { timeoutMs = 20000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function assertStatus(state, expected, what = "instance") {
  assert.ok(state, `${what}: no state (instance not found)`);
  assert.equal(
    state.runtimeStatus,
    expected,
    `${what}: status ${statusName(state.runtimeStatus)}, expected ${statusName(expected)}` +
      (state.failureDetails ? ` (failure: ${state.failureDetails.errorType}: ${state.failureDetails.message})` : ""),
  );
}

// ---- authorization metadata ---------------------------------------------------------------------
export function bearer() {
  return process.env.DURABLE_KEY ? `Bearer ${process.env.DURABLE_KEY}` : undefined;
}
/** MS SDK: metadataGenerator option (worker and client). */
export function metadataGenerator() {
  const value = bearer();
  if (!value) return undefined;
  const grpc = grpcOf();
  return async () => {
    const md = new grpc.Metadata();
    md.set("authorization", value);
    return md;
  };
}
/** Dapr SDK: no metadata hook, so pass {interceptors: [...]} as its channel options argument. */
export function daprChannelOptions() {
  const value = bearer();
  if (!value) return {};
  const grpc = grpcOf("@dapr/durabletask-js");
  const auth = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", value);
        next(metadata, listener);
      },
    });
  return { interceptors: [auth] };
}

// ---- SDK logger: stderr, and tells us when the worker's stream is up (or its first Hello failed) ---
class StderrLogger {
  constructor() {
    this.connected = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.connected.catch(() => {});
    this._isConnected = false;
  }
  error(m, ...a) { toStderr("[sdk error]", m, ...a); }
  warn(m, ...a) { toStderr("[sdk warn]", m, ...a); }
  info(m, ...a) { if (verbose) toStderr("[sdk]", m, ...a); }
  debug(m, ...a) { if (verbose) toStderr("[sdk debug]", m, ...a); }
  logEvent(level, event, message) {
    if (event?.eventId === 700 /* EVENT_WORKER_CONNECTED */) {
      this._isConnected = true;
      this._resolve();
    } else if (event?.eventId === 701 /* EVENT_WORKER_ERROR */ && !this._isConnected) {
      this._reject(new Error(`worker could not connect: ${message}`));
    }
    this[level](message);
  }
}

// ---- in-memory mode: the SDK's TestOrchestrationClient plus what it lacks -----------------------------
class MemoryClient extends dt.TestOrchestrationClient {
  constructor(backend) {
    super(backend);
    this.mem = backend;
  }
  async scheduleNewOrchestration(orchestrator, input, idOrOptions, startAt) {
    const opts = typeof idOrOptions === "object" && idOrOptions !== null ? idOrOptions : { instanceId: idOrOptions, startAt };
    const id = await super.scheduleNewOrchestration(orchestrator, input, opts.instanceId, opts.startAt);
    // The in-memory backend runs a scheduled instance at once; hold it back until startAt.
    const delay = opts.startAt ? opts.startAt.getTime() - Date.now() : 0;
    if (delay > 0) {
      const b = this.mem;
      const at = b.orchestrationQueue.indexOf(id);
      if (at >= 0) b.orchestrationQueue.splice(at, 1);
      b.orchestrationQueueSet.delete(id);
      setTimeout(() => b.enqueueOrchestration(id), delay);
    }
    return id;
  }
  #matches(inst, { createdFrom, createdTo, statuses, instanceIdPrefix }) {
    if (instanceIdPrefix && !inst.instanceId.startsWith(instanceIdPrefix)) return false;
    if (createdFrom && inst.createdAt < createdFrom) return false;
    if (createdTo && inst.createdAt > createdTo) return false;
    if (statuses?.length && !statuses.includes(this.mem.toClientStatus(inst.status))) return false;
    return true;
  }
  getAllInstances(filter = {}) {
    return dt.createAsyncPageable(async (token, pageSizeHint) => {
      const size = pageSizeHint ?? filter.pageSize ?? dt.DEFAULT_PAGE_SIZE;
      const all = [...this.mem.instances.values()]
        .filter((i) => this.#matches(i, filter))
        .sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
      const from = Number(token ?? filter.continuationToken ?? 0);
      const values = all.slice(from, from + size).map((i) => this.toOrchestrationState(i, !!filter.fetchInputsAndOutputs));
      return new dt.Page(values, from + size < all.length ? String(from + size) : undefined);
    });
  }
  async purgeOrchestration(value) {
    if (typeof value === "string") return super.purgeOrchestration(value);
    const filter = {
      createdFrom: value.getCreatedTimeFrom(),
      createdTo: value.getCreatedTimeTo(),
      statuses: value.getRuntimeStatusList(),
    };
    let n = 0;
    for (const inst of [...this.mem.instances.values()]) {
      if (this.#matches(inst, filter) && this.mem.purge(inst.instanceId)) n++;
    }
    return { deletedInstanceCount: n };
  }
}

// ---- the scenario runner ----------------------------------------------------------------------------
/**
 * runScenario({
 *   name, orchestrators: {name: fn}, activities: {name: fn}, entities: {name: () => entity},
 *   client = true, timeoutSeconds = 60,
 *   sdk = "microsoft" | "dapr",           // dapr: @dapr/durabletask-js (not in memory: exit 77)
 *   longRunning = false,                  // print {"ready":true} and run until SIGTERM/SIGINT
 *   run: async (h) => facts,              // h: {client, worker, target, memory, args, step, ...helpers}
 * })
 */
export async function runScenario(spec) {
  const target = process.argv[2];
  if (!target) {
    toStderr(`usage: node ${process.argv[1]} HOST:PORT|memory [args...]`);
    process.exit(2);
  }
  const memory = target === "memory";
  const timeoutSeconds = Number(process.env.DT_TIMEOUT_S) || spec.timeoutSeconds || 60;
  let step = "setup";
  let finished = false;
  let worker;
  let client;

  const stopAll = async (limitMs) => {
    const stops = [];
    if (worker) stops.push(worker.stop().catch((e) => toStderr("worker.stop:", e?.message ?? e)));
    if (client) stops.push(client.stop().catch((e) => toStderr("client.stop:", e?.message ?? e)));
    await Promise.race([Promise.all(stops), sleep(limitMs)]);
  };
  const fail = async (err) => {
    if (finished) return;
    finished = true;
    toStderr(`FAILED in step "${step}":`, err);
    emit({ ok: false, scenario: spec.name, step, error: String(err?.message ?? err) });
    await stopAll(3000);
    process.exit(1);
  };
  process.on("unhandledRejection", (e) => fail(e));
  process.on("uncaughtException", (e) => fail(e));
  const timer = setTimeout(
    () => fail(new Error(`global timeout (${timeoutSeconds} s) during step "${step}"`)),
    timeoutSeconds * 1000,
  );

  const h = {
    target,
    memory,
    args: process.argv.slice(3),
    step: (s) => {
      step = s;
      if (verbose) toStderr(`[${spec.name}] step: ${s}`);
    },
    newId,
  };

  try {
    h.step("connect");
    const logger = new StderrLogger();
    let backend;
    const dapr = spec.sdk === "dapr";
    if (dapr && memory) {
      finished = true;
      emit({ ok: false, skipped: true, scenario: spec.name, reason: "@dapr/durabletask-js has no in-memory backend" });
      process.exit(77);
    }
    const daprSdk = dapr ? await import("@dapr/durabletask-js") : undefined;
    const daprUp = new Promise((resolve) => (daprConnected = resolve));
    if (dapr) {
      worker = new daprSdk.TaskHubGrpcWorker(target, daprChannelOptions());
    } else if (memory) {
      backend = new dt.InMemoryOrchestrationBackend();
      worker = new dt.TestOrchestrationWorker(backend);
    } else {
      worker = new dt.TaskHubGrpcWorker({
        hostAddress: target,
        metadataGenerator: metadataGenerator(),
        logger,
        shutdownTimeoutMs: 5000,
      });
    }
    for (const [name, fn] of Object.entries(spec.orchestrators ?? {})) worker.addNamedOrchestrator(name, fn);
    for (const [name, fn] of Object.entries(spec.activities ?? {})) worker.addNamedActivity(name, fn);
    for (const [name, factory] of Object.entries(spec.entities ?? {})) worker.addNamedEntity(name, factory);
    await worker.start();
    if (!memory) await (dapr ? daprUp : logger.connected);
    if (spec.client !== false) {
      client = dapr
        ? new daprSdk.TaskHubGrpcClient(target, daprChannelOptions())
        : memory
        ? new MemoryClient(backend)
        : new dt.TaskHubGrpcClient({ hostAddress: target, metadataGenerator: metadataGenerator(), logger });
    }
    Object.assign(h, { client, worker, backend });

    if (spec.longRunning) {
      clearTimeout(timer);
      emit({ ready: true });
      const signal = await new Promise((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
      });
      step = `shutdown (${signal})`;
      finished = true;
      toStderr(`[${spec.name}] ${signal}: stopping`);
      await stopAll(10000);
      process.exit(0);
    }

    h.step("scenario");
    const facts = (await spec.run(h)) ?? {};
    h.step("shutdown");
    await stopAll(10000);
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    emit({ ok: true, scenario: spec.name, mode: memory ? "memory" : "grpc", ...facts });
    process.exit(0);
  } catch (e) {
    await fail(e);
  }
}
