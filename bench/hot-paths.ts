/**
 * Hot paths: the brain and router in memory, a task end to end through the local runtime's HTTP
 * API, and what one task costs in DynamoDB requests and Lambda time.
 *
 * The local runtime's modules are imported inside the functions, after the Powertools variables
 * are set: Powertools reads them once, when the handlers' modules load.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Brain, type BrainPorts } from '../lib/core/brain.ts';
import { Router, type RouterPorts, type StrategyName } from '../lib/core/routing/router.ts';
import type { Service } from '../lib/core/service.ts';
import { emptyCounters, latencyBucket, type ServiceStats } from '../lib/core/statistics.ts';
import type { TaskInput } from '../lib/core/task.ts';
import { seeded } from '../test/unit/workflow/support.ts';
import type { MeasuredInvocation } from './cost-model.ts';
import { median, quantile } from './routing-quality.ts';

export interface HotPathsOptions {
  inMemoryIterations: number;
  inMemoryRuns: number;
  strategies: readonly StrategyName[];
  e2eTasks: number;
  e2eConcurrency: number;
  warmupTasks: number;
  pollIntervalMs: number;
  countedTasks: number;
}

export const DEFAULT_HOT_PATH_OPTIONS: HotPathsOptions = {
  inMemoryIterations: 20_000,
  inMemoryRuns: 5,
  strategies: ['learned', 'capability'],
  e2eTasks: 200,
  e2eConcurrency: 8,
  warmupTasks: 16,
  pollIntervalMs: 20,
  countedTasks: 40,
};

/** The task every end-to-end run submits: pure computation in the example research factory. */
const TASK_BODY = {
  type: 'market_research',
  parameters: { market_sector: 'technology', depth: 'comprehensive' },
};

function quietPowertools(): void {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
}

/**
 * Brain and router over in-memory ports: five capable services, each with 1,000 outcomes of
 * history. One decision is `brain.decide` then `router.route`, as the pipeline's first two steps.
 */
export async function inMemoryDecisions(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  const random = seeded(7);
  const now = new Date('2026-01-01T00:00:00.000Z');
  const services: Service[] = Array.from({ length: 5 }, (_, i) => ({
    name: `svc-${i + 1}`,
    endpoint: `https://svc-${i + 1}.example.com`,
    capabilities: ['market_research', 'market_analysis'],
    weight: 1,
    enabled: true,
    health: 'healthy',
    load: i,
    consecutiveFailures: 0,
    version: 1,
    updatedAt: now.toISOString(),
  }));
  const stats: ServiceStats[] = services.map((s, i) => {
    const counters = emptyCounters();
    for (let n = 0; n < 1_000; n++) {
      const ok = random() < 0.7 + 0.05 * i;
      const ms = 100 + 900 * random();
      counters.count++;
      if (ok) counters.successes++;
      else counters.failures++;
      counters.totalMs += ms;
      counters.histogram[latencyBucket(ms)] = (counters.histogram[latencyBucket(ms)] ?? 0) + 1;
    }
    return { taskType: 'market_research', service: s.name, ...counters };
  });
  let ticks = 0;
  let decisions = 0;
  const ports: RouterPorts & BrainPorts = {
    listServices: async () => services,
    statsFor: async () => stats,
    taskTypes: async () => ['market_research'],
    countDecision: async () => {
      decisions++;
    },
    decisionCount: async () => decisions,
    storeTaskResult: async () => ({ recorded: true }),
    random,
    nextTick: async () => ticks++,
    recordRoute: async () => {},
    routeCounters: async () => ({}),
    now: () => now,
  };
  const brain = new Brain(ports);
  const router = new Router(ports);
  const loop = async (strategy: StrategyName, iterations: number) => {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) {
      const task: TaskInput = { id: `task-${i}`, type: 'market_research', priority: 'normal' };
      await brain.decide(task);
      await router.route(task, strategy);
    }
    return (iterations / (performance.now() - start)) * 1_000;
  };
  const result: Record<string, { medianPerSecond: number; runsPerSecond: number[] }> = {};
  for (const strategy of options.strategies) {
    await loop(strategy, Math.ceil(options.inMemoryIterations / 10));
    const runs: number[] = [];
    for (let r = 0; r < options.inMemoryRuns; r++)
      runs.push(await loop(strategy, options.inMemoryIterations));
    result[strategy] = { medianPerSecond: median(runs), runsPerSecond: runs };
  }
  return { iterationsPerRun: options.inMemoryIterations, runs: options.inMemoryRuns, strategies: result };
}

interface TaskRecordView {
  taskId: string;
  status: string;
  executionId?: string;
}

async function postTask(apiUrl: string): Promise<TaskRecordView> {
  const response = await fetch(`${apiUrl}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(TASK_BODY),
  });
  const body = (await response.json()) as TaskRecordView;
  if (response.status !== 202)
    throw new Error(`POST /tasks answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

async function getTask(apiUrl: string, taskId: string): Promise<TaskRecordView> {
  const response = await fetch(`${apiUrl}/tasks/${taskId}`);
  if (response.status !== 200) throw new Error(`GET /tasks/${taskId} answered ${response.status}`);
  return (await response.json()) as TaskRecordView;
}

const finished = (status: string) => status === 'SUCCEEDED' || status === 'FAILED';

/**
 * Tasks through `startLocalRuntime` (in memory, port 0) and the two example factories: each of
 * `e2eConcurrency` clients submits a task, polls GET /tasks/{id} every `pollIntervalMs` until it
 * has ended, then submits the next. Latency runs from the POST to the poll that saw the end, so
 * it is rounded up by up to one poll interval. A few tasks first warm the handlers up.
 */
export async function endToEnd(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  quietPowertools();
  const { startLocalRuntime } = await import('../lib/local/runtime.ts');
  const { startExampleFactory } = await import('../lib/local/factories/index.ts');
  const { seedExamples } = await import('../lib/local/seed.ts');
  const runtime = await startLocalRuntime({
    port: 0,
    dbPort: 0,
    dataDir: undefined,
    tablePrefix: 'bench',
    schedules: false,
  });
  const factories = await Promise.all([startExampleFactory('media'), startExampleFactory('research')]);
  try {
    await seedExamples(runtime.orchestrator, factories);
    let polls = 0;
    const one = async () => {
      const start = performance.now();
      const { taskId } = await postTask(runtime.apiUrl);
      for (;;) {
        await sleep(options.pollIntervalMs);
        polls++;
        const record = await getTask(runtime.apiUrl, taskId);
        if (finished(record.status)) return { ms: performance.now() - start, status: record.status };
      }
    };
    const pool = async (count: number) => {
      const results: Array<{ ms: number; status: string }> = [];
      let next = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          results.push(await one());
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.e2eConcurrency, count) }, worker));
      return results;
    };
    await pool(options.warmupTasks);
    polls = 0;
    const start = performance.now();
    const results = await pool(options.e2eTasks);
    const wallMs = performance.now() - start;
    const latencies = results.map((r) => r.ms);
    return {
      tasks: options.e2eTasks,
      concurrency: options.e2eConcurrency,
      warmupTasks: options.warmupTasks,
      pollIntervalMs: options.pollIntervalMs,
      task: TASK_BODY,
      succeeded: results.filter((r) => r.status === 'SUCCEEDED').length,
      failed: results.filter((r) => r.status === 'FAILED').length,
      wallMs,
      tasksPerSecond: (options.e2eTasks / wallMs) * 1_000,
      latencyMs: {
        p50: quantile(latencies, 0.5),
        p95: quantile(latencies, 0.95),
        max: Math.max(...latencies),
      },
      pollsPerTask: polls / options.e2eTasks,
    };
  } finally {
    await Promise.all(factories.map((f) => f.close()));
    await runtime.stop(5_000);
  }
}

/** Requests that take ReturnConsumedCapacity, and which of them read. */
const DATA_COMMANDS: Readonly<Record<string, 'read' | 'write'>> = {
  GetItemCommand: 'read',
  QueryCommand: 'read',
  ScanCommand: 'read',
  BatchGetItemCommand: 'read',
  TransactGetItemsCommand: 'read',
  PutItemCommand: 'write',
  UpdateItemCommand: 'write',
  DeleteItemCommand: 'write',
  BatchWriteItemCommand: 'write',
  TransactWriteItemsCommand: 'write',
};

/** What one Lambda invocation (or the API handlers, together) did with DynamoDB. */
interface Tally {
  name: string;
  calls: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  /** Estimated writes to the byKind index: items put with a `gsi1pk` (projection ALL). */
  indexWriteUnits: number;
  inFlight: number;
  busySince: number;
  busyMs: number;
  roundTrips: number;
}

function tally(name: string): Tally {
  return {
    name,
    calls: new Map(),
    readUnits: 0,
    writeUnits: 0,
    indexWriteUnits: 0,
    inFlight: 0,
    busySince: 0,
    busyMs: 0,
    roundTrips: 0,
  };
}

function capacityOf(output: unknown): number {
  const consumed = (output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
  const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
  return list.reduce(
    (sum: number, c) => sum + Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0),
    0,
  );
}

interface InvocationRecord {
  tally: Tally;
  localMs: number;
  factoryMs: number;
}

/**
 * DynamoDB requests and Lambda time per task, on a stack built the way `startLocalRuntime` builds
 * it (dynalite, the stack's tables, the local engine running the manifest's pipeline, the HTTP
 * gateway) but with two probes it does not expose: a middleware on the DynamoDB client that
 * counts every request by command, asks for `ReturnConsumedCapacity: TOTAL` (metadata only: the
 * request and its cost are unchanged) and times the waits; and a wrapper around each pipeline
 * Lambda that times it and tells the middleware whose requests it is seeing. Tasks run one at a
 * time, completion is read from the engine (not by polling the API), then one GET /tasks/{id}
 * is counted on its own.
 */
export async function countRequests(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  quietPowertools();
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { LOCAL_AWS, startDynalite } = await import('../lib/local/dynamodb.ts');
  const { LocalEngine } = await import('../lib/engine/local-engine.ts');
  const { localFunction, registerLocalPipeline } = await import('../lib/local/functions.ts');
  const { createOrchestrator } = await import('../lib/orchestrator.ts');
  const { useOrchestrator } = await import('../lib/handler/runtime.ts');
  const { HttpGateway } = await import('../lib/local/http-gateway.ts');
  const { toDocumentClient } = await import('../lib/store/client.ts');
  const { createTables } = await import('../lib/store/create-tables.ts');
  const { createStores } = await import('../lib/store/stores.ts');
  const { tableNames } = await import('../lib/store/tables.ts');
  const { startExampleFactory } = await import('../lib/local/factories/index.ts');
  const { seedExamples } = await import('../lib/local/seed.ts');

  const scope = new AsyncLocalStorage<Tally>();
  let api = tally('api');
  const db = await startDynalite({});
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const kind = DATA_COMMANDS[command];
      const input = args.input as Record<string, unknown>;
      if (kind) input.ReturnConsumedCapacity = 'TOTAL';
      const t = scope.getStore() ?? api;
      t.calls.set(command, (t.calls.get(command) ?? 0) + 1);
      if (t.inFlight++ === 0) {
        t.busySince = performance.now();
        t.roundTrips++;
      }
      try {
        const result = await next(args);
        const units = capacityOf(result.output);
        if (kind === 'read') t.readUnits += units;
        if (kind === 'write') {
          t.writeUnits += units;
          const item = input.Item as Record<string, unknown> | undefined;
          if (item && 'gsi1pk' in item) t.indexWriteUnits += units;
        }
        return result;
      } finally {
        if (--t.inFlight === 0) t.busyMs += performance.now() - t.busySince;
      }
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  const tables = tableNames('bench');
  await createTables(client, tables);

  const invocations: InvocationRecord[] = [];
  const engine = new LocalEngine((name) => {
    const run = localFunction(name);
    if (!run) return undefined;
    return async (payload) => {
      const record: InvocationRecord = { tally: tally(name), localMs: 0, factoryMs: 0 };
      const start = performance.now();
      try {
        const result = await scope.run(record.tally, () => run(payload));
        const call = (result as { call?: { latencyMs?: number } } | undefined)?.call;
        if (name === 'CallFactory' && call?.latencyMs !== undefined) record.factoryMs = call.latencyMs;
        return result;
      } finally {
        record.localMs = performance.now() - start;
        invocations.push(record);
      }
    };
  });
  const pipelineArn = registerLocalPipeline(engine);
  const orchestrator = createOrchestrator({
    stores: createStores({ doc: toDocumentClient(client), tables }),
    engine,
    pipelineArn,
    allowedEndpoints: ['127.0.0.1', 'localhost'],
  });
  useOrchestrator(orchestrator);
  const gateway = new HttpGateway();
  const apiUrl = await gateway.listen(0);
  const factories = await Promise.all([startExampleFactory('media'), startExampleFactory('research')]);

  try {
    await seedExamples(orchestrator, factories);
    const waitFor = async (executionId: string) => {
      for (;;) {
        const { status } = await engine.describe(executionId);
        if (status !== 'RUNNING') return status;
        await sleep(1);
      }
    };
    // Warm-up: the first task loads the handlers' modules.
    for (let i = 0; i < 3; i++) {
      const { executionId } = await postTask(apiUrl);
      await waitFor(executionId as string);
    }
    invocations.length = 0;
    const submits: Tally[] = [];
    const reads: Tally[] = [];
    const submitMs: number[] = [];
    const readMs: number[] = [];
    const outcomes: string[] = [];
    for (let i = 0; i < options.countedTasks; i++) {
      api = tally('SubmitTask');
      let start = performance.now();
      const { taskId, executionId } = await postTask(apiUrl);
      submitMs.push(performance.now() - start);
      outcomes.push(await waitFor(executionId as string));
      submits.push(api);
      api = tally('GetTask');
      start = performance.now();
      await getTask(apiUrl, taskId);
      readMs.push(performance.now() - start);
      reads.push(api);
    }
    // Requests after the last GET (teardown) stay out of its count.
    api = tally('after');

    const tasks = options.countedTasks;
    const measure = (
      name: string,
      items: InvocationRecord[],
      invocationsPerRun: number,
    ): MeasuredInvocation => {
      const mean = (f: (r: InvocationRecord) => number) =>
        items.length === 0 ? 0 : items.reduce((s, r) => s + f(r), 0) / items.length;
      return {
        name,
        invocationsPerRun,
        localMs: mean((r) => r.localMs),
        localDbMs: mean((r) => r.tally.busyMs),
        dbRoundTrips: mean((r) => r.tally.roundTrips),
        dbCalls: mean((r) => [...r.tally.calls.values()].reduce((a, b) => a + b, 0)),
        readUnits: mean((r) => r.tally.readUnits),
        writeUnits: mean((r) => r.tally.writeUnits + r.tally.indexWriteUnits),
        factoryMs: mean((r) => r.factoryMs),
      };
    };
    const steps = [...new Set(invocations.map((r) => r.tally.name))];
    const pipelineSteps = steps.map((name) => {
      const items = invocations.filter((r) => r.tally.name === name);
      return measure(name, items, items.length / tasks);
    });
    const apiRecord = (name: string, list: Tally[], ms: number[]) =>
      measure(
        name,
        list.map((t, i) => ({ tally: t, localMs: ms[i] as number, factoryMs: 0 })),
        1,
      );

    const byCommand: Record<string, Record<string, number>> = {};
    const add = (owner: string, t: Tally) => {
      byCommand[owner] ??= {};
      const row = byCommand[owner];
      for (const [command, n] of t.calls) row[command] = (row[command] ?? 0) + n / tasks;
    };
    for (const r of invocations) add(r.tally.name, r.tally);
    for (const t of submits) add('SubmitTask', t);
    for (const t of reads) add('GetTask', t);
    const totals: Record<string, number> = {};
    for (const row of Object.values(byCommand)) {
      for (const [command, n] of Object.entries(row)) totals[command] = (totals[command] ?? 0) + n;
    }
    const perOwner = Object.fromEntries(
      Object.entries(byCommand).map(([owner, row]) => [owner, Object.values(row).reduce((a, b) => a + b, 0)]),
    );
    const sumUnits = (f: (t: Tally) => number) =>
      (invocations.reduce((s, r) => s + f(r.tally), 0) +
        submits.reduce((s, t) => s + f(t), 0) +
        reads.reduce((s, t) => s + f(t), 0)) /
      tasks;
    return {
      tasks,
      outcomes: Object.fromEntries(
        [...new Set(outcomes)].map((status) => [status, outcomes.filter((o) => o === status).length]),
      ),
      callsPerTask: Object.values(perOwner).reduce((a, b) => a + b, 0),
      callsPerTaskByFunction: perOwner,
      callsPerTaskByCommand: totals,
      callsPerTaskByFunctionAndCommand: byCommand,
      requestUnitsPerTask: {
        read: sumUnits((t) => t.readUnits),
        write: sumUnits((t) => t.writeUnits),
        indexWriteEstimate: sumUnits((t) => t.indexWriteUnits),
      },
      invocations: {
        submit: apiRecord('SubmitTask', submits, submitMs),
        status: apiRecord('GetTask', reads, readMs),
        pipeline: pipelineSteps,
      },
      notes: [
        'request units are dynalite ConsumedCapacity (item size based); index writes are estimated for puts of items carrying gsi1pk',
        'API handler times are the client-side HTTP round trip on loopback (an upper bound of the handler time)',
        'GET /tasks/{id} is counted once per task; the throughput run polls it more often',
      ],
    };
  } finally {
    await Promise.all(factories.map((f) => f.close()));
    await gateway.close();
    await engine.settle(5_000);
    useOrchestrator(undefined);
    client.destroy();
    await db.stop();
  }
}

export async function hotPaths(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  return {
    inMemory: await inMemoryDecisions(options),
    endToEnd: await endToEnd(options),
    requests: await countRequests(options),
  };
}

export type HotPathsReport = Awaited<ReturnType<typeof hotPaths>>;
