/**
 * Hot paths: the brain and router in memory; tasks through the local runtime's HTTP API against
 * the same factory called directly; and what one task costs in DynamoDB requests, request units,
 * hot keys, Lambda time and log bytes.
 *
 * The end-to-end parts run in a child process started with the stack's Powertools settings (log
 * level INFO, metrics on): Powertools reads them once, when the first handler module loads, so a
 * process shared with other benchmarks could not promise them, and the log bytes would not be
 * what the deployed functions write.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { FUNCTIONS } from '../lib/app.ts';
import { Brain, type BrainPorts } from '../lib/core/brain.ts';
import { mulberry32 } from '../lib/core/random.ts';
import { Router, type RouterPorts, type StrategyName } from '../lib/core/routing/router.ts';
import type { Service } from '../lib/core/service.ts';
import { emptyCounters, latencyBucket, type ServiceStats } from '../lib/core/statistics.ts';
import { taskSchema } from '../lib/core/task.ts';
import type { RunningExampleFactory } from '../lib/local/factories/index.ts';
import type { SettleOutcome } from '../lib/local/local-queue.ts';
import type { LocalRuntime, LocalRuntimeOptions } from '../lib/local/runtime.ts';
import { TABLES, type TableDefinition, type TableNames, tableNames } from '../lib/store/tables.ts';
import { lambdaEnvironment } from './cold-start.ts';
import type { MeasuredInvocation } from './cost-model.ts';
import { median } from './routing-quality.ts';
import { runPool, summarizeLatency } from './workflow-throughput.ts';

export interface HotPathsOptions {
  inMemoryIterations: number;
  inMemoryRuns: number;
  strategies: readonly StrategyName[];
  /** Clients at once, posting tasks or calling the factory directly. */
  concurrency: number;
  /** Untimed operations of each side first. */
  warmups: number;
  /** Timed operations of each side, in `rounds` alternating slices (direct, tasks, direct...). */
  operations: number;
  rounds: number;
  /** Tasks one at a time before the counted ones: they fill the routing caches and note the task type. */
  countWarmupTasks: number;
  countedTasks: number;
  /** A task not ended within this long fails the benchmark's run of it. */
  taskTimeoutMs: number;
}

export const DEFAULT_HOT_PATH_OPTIONS: HotPathsOptions = {
  inMemoryIterations: 20_000,
  inMemoryRuns: 5,
  strategies: ['learned', 'capability'],
  concurrency: 8,
  warmups: 40,
  operations: 400,
  rounds: 2,
  countWarmupTasks: 5,
  countedTasks: 400,
  taskTimeoutMs: 30_000,
};

/** The task every end-to-end run submits: pure computation in the example research factory. */
export const TASK_BODY = {
  type: 'market_research',
  parameters: { market_sector: 'technology', depth: 'comprehensive' },
} as const;

// ---- in memory ---------------------------------------------------------------------------------

/**
 * Brain and router over in-memory ports: five capable services, each with 1,000 outcomes of
 * history and 100 in the recent window. One decision is what the worker does before its call:
 * `brain.decideTask` then `router.routeTask`, on a task parsed once.
 */
export async function inMemoryDecisions(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  const random = mulberry32(7);
  const now = new Date('2026-01-01T00:00:00.000Z');
  const services: Service[] = Array.from({ length: 5 }, (_, i) => ({
    name: `svc-${i + 1}`,
    endpoint: `https://svc-${i + 1}.example.com`,
    capabilities: ['market_research', 'market_analysis'],
    weight: 1,
    enabled: true,
    health: 'healthy',
    load: i,
    version: 1,
    updatedAt: now.toISOString(),
  }));
  const history = (outcomes: number): ServiceStats[] =>
    services.map((s, i) => {
      const counters = emptyCounters();
      for (let n = 0; n < outcomes; n++) {
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
  const allTime = history(1_000);
  const recent = history(100);
  const ports: RouterPorts & BrainPorts = {
    listServices: async () => services,
    statsFor: async () => allTime,
    recentStatsFor: async () => recent,
    random,
    now: () => now,
  };
  const brain = new Brain(ports);
  const router = new Router(ports);
  const task = taskSchema.parse({ id: 'task-1', type: 'market_research' });
  const loop = async (strategy: StrategyName, iterations: number) => {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) {
      await brain.decideTask(task);
      await router.routeTask(task, strategy);
    }
    return (iterations / (performance.now() - start)) * 1_000;
  };
  const result: Record<string, { medianPerSecond: number; runsPerSecond: number[] }> = {};
  for (const strategy of options.strategies) {
    // Measured warm, as a worker that has been running a while decides: on this loop V8 takes
    // about 10^5 iterations (its optimizing tiers, inline caches, the young generation's size)
    // before the rate stops climbing.
    await loop(strategy, options.inMemoryIterations * options.inMemoryRuns);
    const runs: number[] = [];
    for (let r = 0; r < options.inMemoryRuns; r++)
      runs.push(await loop(strategy, options.inMemoryIterations));
    result[strategy] = { medianPerSecond: median(runs), runsPerSecond: runs };
  }
  return { iterationsPerRun: options.inMemoryIterations, runs: options.inMemoryRuns, strategies: result };
}

// ---- the local runtime ---------------------------------------------------------------------------

const BENCH_TABLE_PREFIX = 'bench';

interface Stack {
  runtime: LocalRuntime;
  factory: RunningExampleFactory;
  stop(): Promise<void>;
}

/** The local runtime in memory, with the example research factory registered as its only service. */
async function startStack(extra: Partial<LocalRuntimeOptions>): Promise<Stack> {
  const { startLocalRuntime } = await import('../lib/local/runtime.ts');
  const { startExampleFactory } = await import('../lib/local/factories/index.ts');
  const { seedExamples } = await import('../lib/local/seed.ts');
  const runtime = await startLocalRuntime({
    port: 0,
    dbPort: 0,
    dataDir: undefined,
    tablePrefix: BENCH_TABLE_PREFIX,
    schedules: false,
    ...extra,
  });
  const factory = await startExampleFactory('research');
  await seedExamples(runtime.orchestrator, [factory]);
  return {
    runtime,
    factory,
    async stop() {
      await factory.close();
      await runtime.stop(5_000);
    },
  };
}

async function postTask(apiUrl: string): Promise<string> {
  const response = await fetch(`${apiUrl}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(TASK_BODY),
  });
  const body = (await response.json()) as { taskId?: string };
  if (response.status !== 202 || body.taskId === undefined)
    throw new Error(`POST /tasks answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
  return body.taskId;
}

interface TaskView {
  status: string;
  attempts?: Array<{ latencyMs: number }>;
  error?: { kind: string; message: string };
}

async function getTask(apiUrl: string, taskId: string): Promise<TaskView> {
  const response = await fetch(`${apiUrl}/tasks/${taskId}`);
  if (response.status !== 200) throw new Error(`GET /tasks/${taskId} answered ${response.status}`);
  return (await response.json()) as TaskView;
}

/** When a task's message was settled: the moment, and how. */
interface TaskEnd {
  outcome: SettleOutcome;
  at: number;
}

/**
 * The ends of tasks as the task queue tells them (`onTaskMessageSettled`), handed to whoever waits
 * for each task id. The worker can finish before the client has its POST answer, so an end that
 * comes before its waiter is kept for it. A message sent back for another delivery ('retry') is
 * not an end.
 */
class TaskEnds {
  readonly #waiters = new Map<string, (end: TaskEnd) => void>();
  readonly #early = new Map<string, TaskEnd>();

  settled(record: SQSRecord, outcome: SettleOutcome): void {
    if (outcome === 'retry') return;
    const end = { outcome, at: performance.now() };
    const { taskId } = JSON.parse(record.body) as { taskId: string };
    const waiter = this.#waiters.get(taskId);
    if (waiter) {
      this.#waiters.delete(taskId);
      waiter(end);
    } else {
      this.#early.set(taskId, end);
    }
  }

  wait(taskId: string, timeoutMs: number): Promise<TaskEnd> {
    const early = this.#early.get(taskId);
    if (early) {
      this.#early.delete(taskId);
      return Promise.resolve(early);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(taskId);
        reject(new Error(`task ${taskId} did not end within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(taskId, (end) => {
        clearTimeout(timer);
        resolve(end);
      });
    });
  }
}

/**
 * The three writes of one task and nothing else, with a finished task's own item: the record put
 * if absent (without its output), the conditional save of the output, one `ADD` to a per-minute
 * counter. Run at the same concurrency as the tasks, through a client of the same local DynamoDB,
 * it is what the embedded store alone allows: a ceiling for tasks per second.
 */
async function storeOnlyTask(endpoint: string, prefix: string, taskId: string) {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { GetCommand, PutCommand, UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
  const { LOCAL_AWS } = await import('../lib/local/dynamodb.ts');
  const { toDocumentClient } = await import('../lib/store/client.ts');
  const tables = tableNames(prefix);
  const doc = toDocumentClient(new DynamoDBClient({ ...LOCAL_AWS, endpoint }));
  const { Item } = await doc.send(
    new GetCommand({ TableName: tables.memory, Key: { pk: `TASK#${taskId}`, sk: 'TASK' } }),
  );
  if (!Item) throw new Error(`no record of task ${taskId} to copy`);
  const { output, ...submitted } = Item;
  let n = 0;
  const one = async () => {
    const pk = `TASK#store-only-${n++}`;
    await doc.send(
      new PutCommand({
        TableName: tables.memory,
        Item: { ...submitted, pk, seq: 0 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await doc.send(
      new UpdateCommand({
        TableName: tables.memory,
        Key: { pk, sk: 'TASK' },
        UpdateExpression: 'SET #output = :output, #seq = :next',
        ConditionExpression: '#seq = :seq',
        ExpressionAttributeNames: { '#output': 'output', '#seq': 'seq' },
        ExpressionAttributeValues: { ':output': output, ':seq': 0, ':next': 1 },
      }),
    );
    await doc.send(
      new UpdateCommand({
        TableName: tables.patterns,
        Key: { pk: `RECENT#store-only#${n % 4}`, sk: '2026-01-01T00:00#store-only' },
        UpdateExpression: 'ADD #count :one, #successes :one, #totalMs :ms SET #exp = :exp',
        ExpressionAttributeNames: {
          '#count': 'count',
          '#successes': 'successes',
          '#totalMs': 'totalMs',
          '#exp': 'expiresAt',
        },
        ExpressionAttributeValues: { ':one': 1, ':ms': 12, ':exp': 1_800_000_000 },
      }),
    );
  };
  return { one, close: () => doc.destroy() };
}

/**
 * Tasks through the local runtime against the same factory called directly, in one run:
 * `concurrency` clients each post `POST /tasks` over HTTP and wait for their task's end through
 * `onTaskMessageSettled` (no polling); latency runs from just before the POST to the settle. The
 * direct side is the same clients calling the factory's `POST /execute` with the body the worker
 * sends, through the orchestrator's own factory client. Both sides do `warmups` untimed operations,
 * then `operations` timed ones in `rounds` alternating slices, so a change in machine load falls
 * on both. At the end every task record is read back and its status counted.
 */
export async function localThroughput(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  const { HttpFactoryClient } = await import('../lib/factories/http-factory-client.ts');
  const ends = new TaskEnds();
  const stack = await startStack({
    onTaskMessageSettled: (record, outcome) => ends.settled(record, outcome),
  });
  const { runtime, factory } = stack;
  try {
    const client = new HttpFactoryClient({ allowed: ['127.0.0.1'] });
    const taskIds: string[] = [];
    let directCalls = 0;
    const taskMs: number[] = [];
    const directMs: number[] = [];
    const task = (into?: number[]) => async () => {
      const start = performance.now();
      const taskId = await postTask(runtime.apiUrl);
      taskIds.push(taskId);
      const end = await ends.wait(taskId, options.taskTimeoutMs);
      if (end.outcome !== 'acknowledged') throw new Error(`task ${taskId}: message ${end.outcome}`);
      into?.push(end.at - start);
    };
    const direct = (into?: number[]) => async () => {
      const start = performance.now();
      const result = await client.execute(
        factory.endpoint,
        {
          action: TASK_BODY.type,
          parameters: TASK_BODY.parameters,
          taskId: `direct-${directCalls++}`,
          context: {},
        },
        options.taskTimeoutMs,
      );
      if (!result.ok) throw new Error(`direct call failed: ${result.error.message}`);
      into?.push(performance.now() - start);
    };

    await runPool(options.warmups, options.concurrency, direct());
    await runPool(options.warmups, options.concurrency, task());
    const timedFrom = taskIds.length;
    const storeOnly = await storeOnlyTask(runtime.dynamoEndpoint, BENCH_TABLE_PREFIX, taskIds[0] as string);
    const storeMs: number[] = [];
    const store = (into?: number[]) => async () => {
      const start = performance.now();
      await storeOnly.one();
      into?.push(performance.now() - start);
    };
    await runPool(options.warmups, options.concurrency, store());
    const sides = {
      direct: { wallMs: 0, failed: 0, errors: [] as string[] },
      tasks: { wallMs: 0, failed: 0, errors: [] as string[] },
      store: { wallMs: 0, failed: 0, errors: [] as string[] },
    };
    for (let r = 0; r < options.rounds; r++) {
      const slice =
        Math.floor(options.operations / options.rounds) + (r < options.operations % options.rounds ? 1 : 0);
      for (const [side, one] of [
        ['direct', direct(directMs)],
        ['tasks', task(taskMs)],
        ['store', store(storeMs)],
      ] as const) {
        const { results, wallMs } = await runPool(slice, options.concurrency, one);
        sides[side].wallMs += wallMs;
        for (const failed of results.filter((x) => !x.ok)) {
          sides[side].failed++;
          if (sides[side].errors.length < 5 && failed.error) sides[side].errors.push(failed.error);
        }
      }
    }

    const statuses: Record<string, number> = {};
    const failures: Array<{ taskId: string; status: string; error?: string }> = [];
    for (const taskId of taskIds) {
      const record = await runtime.orchestrator.taskQueries.get(taskId).catch(() => undefined);
      const status = record?.status ?? 'MISSING';
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 'SUCCEEDED' && failures.length < 5)
        failures.push({ taskId, status, error: record?.error?.message });
    }
    const rate = (done: number[], wallMs: number) =>
      wallMs > 0 ? (done.length / wallMs) * 1_000 : Number.NaN;
    storeOnly.close();
    const tasksPerSecond = rate(taskMs, sides.tasks.wallMs);
    const directPerSecond = rate(directMs, sides.direct.wallMs);
    const storePerSecond = rate(storeMs, sides.store.wallMs);
    const taskLatency = summarizeLatency(taskMs);
    const directLatency = summarizeLatency(directMs);
    return {
      task: TASK_BODY,
      factory: factory.name,
      concurrency: options.concurrency,
      warmups: options.warmups,
      operations: options.operations,
      rounds: options.rounds,
      tasks: {
        succeeded: taskMs.length,
        failed: sides.tasks.failed,
        errors: sides.tasks.errors,
        wallMs: sides.tasks.wallMs,
        perSecond: tasksPerSecond,
        latencyMs: taskLatency,
      },
      direct: {
        succeeded: directMs.length,
        failed: sides.direct.failed,
        errors: sides.direct.errors,
        wallMs: sides.direct.wallMs,
        perSecond: directPerSecond,
        latencyMs: directLatency,
      },
      /** A task's three writes alone (see `storeOnlyTask`): the embedded store's ceiling. */
      storeOnly: {
        succeeded: storeMs.length,
        failed: sides.store.failed,
        errors: sides.store.errors,
        wallMs: sides.store.wallMs,
        perSecond: storePerSecond,
        latencyMs: summarizeLatency(storeMs),
      },
      ratioToDirect: tasksPerSecond / directPerSecond,
      /** Tasks per second over what the store alone allows at the same concurrency. */
      ratioToStoreOnly: tasksPerSecond / storePerSecond,
      p50OverheadMs: taskLatency.p50 - directLatency.p50,
      /** Every task posted (warm-ups included), by the status its record ends with. */
      records: { read: taskIds.length, timedFrom, statuses, failures },
    };
  } finally {
    await stack.stop();
  }
}

// ---- counting ------------------------------------------------------------------------------------

/** Requests that take ReturnConsumedCapacity, and which of them read. */
export const DATA_COMMANDS: Readonly<Record<string, 'read' | 'write'>> = {
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

/**
 * Bytes of an item as DynamoDB sizes it (the Item sizes and formats page): each attribute's name
 * plus its value; a string its UTF-8 bytes, a number 1 byte per two significant digits plus 1,
 * a boolean or null 1, a list or map 3 plus 1 per element plus the elements (a map's keys
 * included), a set its members.
 */
export function dynamoItemBytes(item: Readonly<Record<string, unknown>>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => (value === undefined ? sum : sum + Buffer.byteLength(name) + valueBytes(value)),
    0,
  );
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const digits = String(value).replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
    return Math.ceil(Math.max(1, digits.replace(/0+$/, '').length) / 2) + 1;
  }
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + valueBytes(v), 0);
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 3);
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>).reduce(
      (sum, [k, v]) => (v === undefined ? sum : sum + Buffer.byteLength(k) + 1 + valueBytes(v)),
      3,
    );
  return 0;
}

/**
 * The attributes a write sets, as far as its input says: a put's item, or an update's key and
 * every `name = :value` assignment of its expression (names resolved). Counters (`ADD`) and
 * functions (`if_not_exists`) are left out: they never set an index key here.
 */
export function writtenAttributes(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (input.Item && typeof input.Item === 'object') return input.Item as Record<string, unknown>;
  const key = (input.Key ?? {}) as Record<string, unknown>;
  const expression = typeof input.UpdateExpression === 'string' ? input.UpdateExpression : '';
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  const set: Record<string, unknown> = {};
  for (const [, name, value] of expression.matchAll(/(#?\w+)\s*=\s*(:\w+)/g)) {
    set[names[name as string] ?? (name as string)] = values[value as string];
  }
  return { ...set, ...key };
}

/**
 * Index entries a write creates, for each global index of its table whose partition key the write
 * sets: the entry holds the table's keys, the index keys and the projected attributes, and costs
 * 1 WRU per started KB of them (dynalite does not report index writes). An update that leaves the
 * index key alone but changes a projected attribute also writes the index; that is not counted.
 */
export function indexWrites(
  table: Pick<TableDefinition, 'partitionKey' | 'sortKey' | 'globalIndexes'>,
  attributes: Readonly<Record<string, unknown>>,
): Array<{ index: string; key: string; units: number; bytes: number }> {
  return table.globalIndexes.flatMap((index) => {
    const indexKey = attributes[index.partitionKey];
    if (indexKey === undefined) return [];
    const kept = new Set([table.partitionKey, table.sortKey, index.partitionKey, index.sortKey]);
    const projected =
      index.projection.type === 'ALL'
        ? { ...attributes }
        : Object.fromEntries(
            Object.entries(attributes).filter(
              ([name]) =>
                kept.has(name) || (index.projection as { attributes: string[] }).attributes.includes(name),
            ),
          );
    const bytes = dynamoItemBytes(projected);
    return [
      { index: index.indexName, key: String(indexKey), units: Math.max(1, Math.ceil(bytes / 1_024)), bytes },
    ];
  });
}

/** What the handlers of one phase of one task did with DynamoDB and the log. */
interface Tally {
  calls: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  indexWriteUnits: number;
  inFlight: number;
  busySince: number;
  busyMs: number;
  roundTrips: number;
  logBytes: number;
  logLines: number;
}

function tally(): Tally {
  return {
    calls: new Map(),
    readUnits: 0,
    writeUnits: 0,
    indexWriteUnits: 0,
    inFlight: 0,
    busySince: 0,
    busyMs: 0,
    roundTrips: 0,
    logBytes: 0,
    logLines: 0,
  };
}

interface Consumed {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

/**
 * Counts the runtime's DynamoDB requests into the current tally (a middleware on its client):
 * by command, request units (it asks for `ReturnConsumedCapacity: INDEXES`, which changes neither
 * the request nor its cost), index writes estimated where dynalite reports none, rounds (requests
 * in flight together count once), the time waited, and the write units each partition key took.
 * The current tally is the one of the async context (`scope`), else `phase`.
 */
class RequestCounter {
  phase = tally();
  readonly scope = new AsyncLocalStorage<Tally>();
  /** Write units per `<table> <pk>` and per `<table>/<index> <index pk>`, over the counted tasks. */
  readonly keyUnits = new Map<string, number>();
  readonly indexKeyUnits = new Map<string, number>();
  /** Write units per kind of item (`<table> <pk up to the first #>`, or `<table>/<index>`), over the counted tasks. */
  readonly itemUnits = new Map<string, number>();
  counting = false;
  readonly #tables: Map<string, TableDefinition>;

  constructor(names: TableNames) {
    this.#tables = new Map(
      (Object.keys(names) as Array<keyof TableNames>).map((id) => [names[id], TABLES[id]]),
    );
  }

  get current(): Tally {
    return this.scope.getStore() ?? this.phase;
  }

  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'unknown';
        const kind = DATA_COMMANDS[command];
        const input = args.input as Record<string, unknown>;
        if (kind) input.ReturnConsumedCapacity = 'INDEXES';
        const t = this.current;
        t.calls.set(command, (t.calls.get(command) ?? 0) + 1);
        if (t.inFlight++ === 0) {
          t.busySince = performance.now();
          t.roundTrips++;
        }
        try {
          const result = await next(args);
          const list = (result.output as { ConsumedCapacity?: Consumed | Consumed[] }).ConsumedCapacity;
          const consumed = Array.isArray(list) ? list : list === undefined ? [] : [list];
          const units = consumed.reduce((sum, c) => sum + Number(c.CapacityUnits ?? 0), 0);
          if (kind === 'read') t.readUnits += units;
          if (kind === 'write') this.#write(t, input, consumed, units);
          return result;
        } finally {
          if (--t.inFlight === 0) t.busyMs += performance.now() - t.busySince;
        }
      },
      { step: 'initialize', name: 'benchRequestCounter' },
    );
  }

  #write(t: Tally, input: Record<string, unknown>, consumed: Consumed[], units: number): void {
    const table = this.#tables.get(String(input.TableName));
    const reported = consumed.flatMap((c) => Object.values(c.GlobalSecondaryIndexes ?? {}));
    const tableUnits = consumed.reduce(
      (sum, c) => sum + Number(c.Table?.CapacityUnits ?? c.CapacityUnits ?? 0),
      0,
    );
    const indexes = reported.length === 0 && table ? indexWrites(table, writtenAttributes(input)) : [];
    const indexUnits =
      reported.length > 0 ? Math.max(0, units - tableUnits) : indexes.reduce((sum, w) => sum + w.units, 0);
    t.writeUnits += tableUnits;
    t.indexWriteUnits += indexUnits;
    if (!this.counting) return;
    const key = ((input.Item ?? input.Key) as Record<string, unknown> | undefined)?.pk;
    const tableId = table?.id ?? String(input.TableName);
    if (key !== undefined) add(this.keyUnits, `${tableId} ${String(key)}`, tableUnits);
    add(this.itemUnits, `${tableId} ${String(key ?? '?').split('#')[0]}`, tableUnits);
    for (const w of indexes) {
      add(this.indexKeyUnits, `${tableId}/${w.index} ${w.key}`, w.units);
      add(this.itemUnits, `${tableId}/${w.index}`, w.units);
    }
  }
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/**
 * Counts what the process writes to stdout and stderr (the Powertools logger's JSON lines and the
 * metrics' EMF lines: in Lambda both go to the function's log group) into the current tally,
 * swallowing it, until the returned function restores the streams.
 */
function captureOutput(into: () => Tally): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const t = into();
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      t.logBytes += Buffer.byteLength(text);
      t.logLines += text.split('\n').filter((line) => line.length > 0).length;
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return () => {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
    });
  };
}

type Phase = 'SubmitTask' | 'TaskWorker' | 'GetTask';
const PHASES: readonly Phase[] = ['SubmitTask', 'TaskWorker', 'GetTask'];

interface CountedTask {
  tallies: Record<Phase, Tally>;
  localMs: Record<Phase, number>;
  /** From just before the POST to the settle of the task's message. */
  endToEndMs: number;
  factoryMs: number;
  status: string;
}

/**
 * DynamoDB requests, request units, partition keys written, Lambda time and log bytes per task:
 * tasks one at a time on a fresh runtime (in memory), after `countWarmupTasks` uncounted ones (the
 * first fills the routing caches and notes the task type, as the first task of a process does).
 * Each task is split into what SubmitTask did (from the POST until it hands the message to the
 * task queue), what TaskWorker did (its delivery, until the queue settles the message) and one
 * `GET /tasks/{id}`, counted on its own and left out of the per-task totals. The runtime has no
 * hook for the hand-off: the task queue's `send` is wrapped so that the delivery it starts runs in
 * an async context of its own, where the worker's requests and output are told apart from what
 * SubmitTask still does after sending (publishing its metrics, answering).
 */
export async function countRequests(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  const counter = new RequestCounter(tableNames(BENCH_TABLE_PREFIX));
  const ends = new TaskEnds();
  const stack = await startStack({
    onDynamoClient: (client) => counter.attach(client),
    onTaskMessageSettled: (record, outcome) => ends.settled(record, outcome),
  });
  const { runtime } = stack;
  let sentAt = 0;
  let phases: Record<Phase, Tally> | undefined;
  const queue = runtime.queues.tasks;
  const send = queue.send.bind(queue);
  queue.send = (body, sendOptions) => {
    sentAt = performance.now();
    return phases
      ? counter.scope.run(phases.TaskWorker, () => send(body, sendOptions))
      : send(body, sendOptions);
  };
  const idle = tally();
  const one = async (): Promise<CountedTask> => {
    phases = { SubmitTask: tally(), TaskWorker: tally(), GetTask: tally() };
    counter.phase = phases.SubmitTask;
    const start = performance.now();
    const taskId = await postTask(runtime.apiUrl);
    const submitMs = performance.now() - start;
    const end = await ends.wait(taskId, options.taskTimeoutMs);
    counter.phase = phases.GetTask;
    const readStart = performance.now();
    const record = await getTask(runtime.apiUrl, taskId);
    const readMs = performance.now() - readStart;
    counter.phase = idle;
    return {
      tallies: phases,
      localMs: { SubmitTask: submitMs, TaskWorker: end.at - sentAt, GetTask: readMs },
      endToEndMs: end.at - start,
      factoryMs: (record.attempts ?? []).reduce((sum, a) => sum + a.latencyMs, 0),
      status: end.outcome === 'acknowledged' ? record.status : `message ${end.outcome}`,
    };
  };

  const restore = captureOutput(() => counter.current);
  const counted: CountedTask[] = [];
  let countingMs = 0;
  try {
    for (let i = 0; i < options.countWarmupTasks; i++) await one();
    counter.counting = true;
    const started = performance.now();
    for (let i = 0; i < options.countedTasks; i++) counted.push(await one());
    countingMs = performance.now() - started;
    counter.counting = false;
  } finally {
    restore();
    await stack.stop();
  }

  const tasks = counted.length;
  const mean = (f: (t: CountedTask) => number) => counted.reduce((s, t) => s + f(t), 0) / tasks;
  const requests = (t: Tally) => [...t.calls.values()].reduce((a, b) => a + b, 0);
  const isRead = (command: string) => DATA_COMMANDS[command] === 'read';
  const byFunction = Object.fromEntries(
    PHASES.map((phase) => {
      const byCommand: Record<string, number> = {};
      for (const t of counted)
        for (const [command, n] of t.tallies[phase].calls)
          byCommand[command] = (byCommand[command] ?? 0) + n / tasks;
      return [
        phase,
        {
          requests: mean((t) => requests(t.tallies[phase])),
          byCommand,
          readUnits: mean((t) => t.tallies[phase].readUnits),
          writeUnits: mean((t) => t.tallies[phase].writeUnits),
          indexWriteUnits: mean((t) => t.tallies[phase].indexWriteUnits),
          roundTrips: mean((t) => t.tallies[phase].roundTrips),
          localMs: mean((t) => t.localMs[phase]),
          localDbMs: mean((t) => t.tallies[phase].busyMs),
          logBytes: mean((t) => t.tallies[phase].logBytes),
          logLines: mean((t) => t.tallies[phase].logLines),
        },
      ];
    }),
  ) as Record<
    Phase,
    {
      requests: number;
      byCommand: Record<string, number>;
      readUnits: number;
      writeUnits: number;
      indexWriteUnits: number;
      roundTrips: number;
      localMs: number;
      localDbMs: number;
      logBytes: number;
      logLines: number;
    }
  >;
  const orchestrator = [byFunction.SubmitTask, byFunction.TaskWorker];
  const sum = (f: (x: (typeof orchestrator)[number]) => number) => orchestrator.reduce((s, x) => s + f(x), 0);
  const byCommand: Record<string, number> = {};
  for (const x of orchestrator)
    for (const [command, n] of Object.entries(x.byCommand))
      byCommand[command] = (byCommand[command] ?? 0) + n;
  const perKey = (map: Map<string, number>) =>
    [...map]
      .map(([key, units]) => ({
        key,
        wruPerTask: units / tasks,
        wruPerSecondAt1kTasksPerSecond: (units / tasks) * 1_000,
      }))
      .sort((a, b) => b.wruPerTask - a.wruPerTask);
  const keys = perKey(counter.keyUnits);
  const indexKeys = perKey(counter.indexKeyUnits);
  const invocation = (name: Phase, factoryMs = 0): MeasuredInvocation => ({
    name,
    localMs: byFunction[name].localMs,
    localDbMs: byFunction[name].localDbMs,
    dbRoundTrips: byFunction[name].roundTrips,
    factoryMs,
    logBytes: byFunction[name].logBytes,
  });
  const statuses: Record<string, number> = {};
  for (const t of counted) statuses[t.status] = (statuses[t.status] ?? 0) + 1;

  return {
    tasks,
    warmupTasks: options.countWarmupTasks,
    countingMs,
    statuses,
    /** One task alone, from the POST to the end of its worker invocation. */
    latencyMs: summarizeLatency(counted.map((t) => t.endToEndMs)),
    /** SubmitTask and TaskWorker together: the orchestrator's own requests for one task. */
    requestsPerTask: sum((x) => x.requests),
    readRequestsPerTask: Object.entries(byCommand).reduce((s, [c, n]) => s + (isRead(c) ? n : 0), 0),
    writeRequestsPerTask: Object.entries(byCommand).reduce((s, [c, n]) => s + (isRead(c) ? 0 : n), 0),
    byCommand,
    byFunction,
    unitsPerTask: {
      read: sum((x) => x.readUnits),
      write: sum((x) => x.writeUnits),
      indexWrite: sum((x) => x.indexWriteUnits),
      totalWrite: sum((x) => x.writeUnits + x.indexWriteUnits),
    },
    /** Requests and output between tasks (none expected: nothing runs in the background). */
    outside: { requests: requests(idle), logBytes: idle.logBytes },
    /** Write units per task by kind of item written. */
    writeUnitsByItem: Object.fromEntries(
      [...counter.itemUnits].map(([item, units]) => [item, units / tasks]),
    ),
    hottestKey: keys[0],
    hottestIndexKey: indexKeys[0],
    keys: keys.slice(0, 6),
    indexKeys: indexKeys.slice(0, 3),
    invocations: {
      submit: invocation('SubmitTask'),
      worker: invocation(
        'TaskWorker',
        mean((t) => t.factoryMs),
      ),
      status: invocation('GetTask'),
    },
    notes: [
      'request units: dynalite ConsumedCapacity (item-size based, ReturnConsumedCapacity INDEXES); index writes estimated from the projected attributes (dynalite reports none for writes)',
      'SubmitTask and GetTask times are the client-side HTTP round trip on loopback (an upper bound of the handler time); TaskWorker runs from the queue hand-off to the settle',
      'routing reads are cached for 5 s per process: the refreshes that fell in the counted tasks are in the counts, spread over them',
      'log bytes: what the handlers wrote to stdout and stderr at POWERTOOLS_LOG_LEVEL=INFO with metrics on (EMF lines included)',
    ],
  };
}

// ---- the child process ---------------------------------------------------------------------------

/** The end-to-end measurements, run in this process (the child's side of {@link hotPaths}). */
export async function endToEnd(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  return { throughput: await localThroughput(options), requests: await countRequests(options) };
}

export type EndToEndReport = Awaited<ReturnType<typeof endToEnd>>;

const CHILD_FLAG = '--hot-paths-child';

/** The stack's Powertools variables (what every deployed function gets) over this process's environment. */
function childEnvironment(): NodeJS.ProcessEnv {
  const worker = FUNCTIONS.find((f) => f.id === 'TaskWorker');
  if (!worker) throw new Error('the app manifest has no TaskWorker');
  const powertools = Object.entries(lambdaEnvironment(worker)).filter(([name]) =>
    name.startsWith('POWERTOOLS_'),
  );
  const env = { ...process.env };
  delete env.POWERTOOLS_METRICS_DISABLED;
  delete env.POWERTOOLS_DEV;
  return { ...env, ...Object.fromEntries(powertools) };
}

/** Runs {@link endToEnd} in a child process with the stack's Powertools settings. */
function endToEndInChild(options: HotPathsOptions): Promise<EndToEndReport> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, JSON.stringify(options)], {
      env: childEnvironment(),
      // Its stdout is the functions' log output, counted inside and not worth showing.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    let report: EndToEndReport | undefined;
    child.on('message', (message) => {
      report = message as EndToEndReport;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (report) resolve(report);
      else reject(new Error(`the hot paths child ended (${signal ?? code}) without a report`));
    });
  });
}

export async function hotPaths(options: HotPathsOptions = DEFAULT_HOT_PATH_OPTIONS) {
  const inMemory = await inMemoryDecisions(options);
  return { inMemory, ...(await endToEndInChild(options)) };
}

export type HotPathsReport = Awaited<ReturnType<typeof hotPaths>>;

if (process.argv[2] === CHILD_FLAG && process.send) {
  const options = JSON.parse(process.argv[3] ?? '{}') as HotPathsOptions;
  const report = await endToEnd({ ...DEFAULT_HOT_PATH_OPTIONS, ...options });
  process.send(report, () => process.exit(0));
}
