import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { inject } from 'vitest';
import { mulberry32 } from '../../lib/core/random.ts';
import type { TaskResultInput } from '../../lib/core/task-result.ts';
import { LocalEngine } from '../../lib/engine/local-engine.ts';
import { LOCAL_AWS } from '../../lib/local/dynamodb.ts';
import { invoke, localFunction } from '../../lib/local/functions.ts';
import { LocalQueue } from '../../lib/local/local-queue.ts';
import { taskQueueOn } from '../../lib/local/runtime.ts';
import { localArtifactStore } from '../../lib/local/s3.ts';
import { createOrchestrator, type Orchestrator, type OrchestratorOptions } from '../../lib/orchestrator.ts';
import type { S3ArtifactStore } from '../../lib/store/artifact-store.ts';
import { toDocumentClient } from '../../lib/store/client.ts';
import { createTables } from '../../lib/store/create-tables.ts';
import { createStores, type Stores } from '../../lib/store/stores.ts';
import { type TableNames, tableNames } from '../../lib/store/tables.ts';
import { wire } from '../../lib/wiring/context.ts';
import type { DynamoBackend } from './global-setup.ts';

/** The artifact store of this run, on the S3-compatible server the global setup started. */
export function testArtifacts(): S3ArtifactStore {
  return localArtifactStore(inject('artifactS3'));
}

/** The local databases started for this run: dynalite, and DynamoDB Local where Java is present. */
export function backends(): DynamoBackend[] {
  return inject('dynamoBackends');
}

export interface TestStack {
  backend: DynamoBackend;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  stores: Stores;
  orchestrator: Orchestrator;
}

export type StackOptions = Omit<OrchestratorOptions, 'doc' | 'tables'>;

/**
 * Fresh tables (unique prefix) on `backend`, with the stores and the orchestrator on top. Routing
 * reads the registry and the statistics afresh for every task (`cacheMs` 0) unless told otherwise,
 * so a test that changes the registry sees the change at once.
 */
export async function createStack(backend: DynamoBackend, options: StackOptions = {}): Promise<TestStack> {
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: backend.endpoint });
  const doc = toDocumentClient(client);
  const tables = tableNames(`t${randomUUID().slice(0, 8)}`);
  // Tests run on clocks set to fixed dates: DynamoDB Local's expiry sweep would delete their records.
  await createTables(client, tables, { timeToLive: false });
  const stores = createStores({ doc, tables, random: options.random });
  return {
    backend,
    client,
    doc,
    tables,
    stores,
    orchestrator: createOrchestrator({ cacheMs: 0, artifacts: testArtifacts(), ...options, doc, tables }),
  };
}

export interface ServingStack extends TestStack {
  engine: LocalEngine;
  /** The task queue, delivering to the real worker handler. */
  queue: LocalQueue;
  /** Waits until the task queue has nothing left to deliver (delayed messages included). */
  settle(timeoutMs?: number): Promise<void>;
}

/**
 * A stack wired like a deployment: the handlers of this process use it, tasks go through a local
 * task queue to the real worker handler, and workflows run on a local engine that invokes the real
 * step handler (Wait states skipped).
 */
export async function createServingStack(
  backend: DynamoBackend,
  options: Omit<StackOptions, 'engine' | 'queue'> & { visibilityMs?: number } = {},
): Promise<ServingStack> {
  const engine = new LocalEngine(localFunction, { skipWaits: true });
  const queue = new LocalQueue(async (event) => (await invoke('TaskWorker', event)) as SQSBatchResponse, {
    name: 'tasks',
    visibilityTimeoutMs: options.visibilityMs ?? 500,
  });
  const taskQueue = taskQueueOn(queue);
  const base = await createStack(backend, {
    allowedEndpoints: ['127.0.0.1'],
    ...options,
    engine,
    queue: taskQueue,
  });
  wire({
    doc: base.doc,
    taskQueue,
    engine,
    now: options.now,
    random: options.random,
    router: options.router,
    factories: options.factories,
    artifacts: base.orchestrator.artifacts,
    config: {
      tables: base.tables,
      allowedPrivateEndpoints: [...(options.allowedEndpoints ?? ['127.0.0.1'])],
      routingCacheMs: options.cacheMs ?? 0,
      callbackUrl: options.callbackBaseUrl,
      ...(options.callTimeoutMs === undefined ? {} : { factoryCallTimeoutMs: options.callTimeoutMs }),
    },
  });
  queue.start();
  return {
    ...base,
    engine,
    queue,
    async settle(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.depth > 0) {
        if (Date.now() > deadline) throw new Error(`${queue.depth} task messages still queued`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Every item of every table, as one string: equal before and after means nothing was written. */
export async function tableSnapshot({ doc, tables }: Pick<TestStack, 'doc' | 'tables'>): Promise<string> {
  const all = await Promise.all(
    Object.values(tables).map(
      async (TableName) => (await doc.send(new ScanCommand({ TableName, ConsistentRead: true }))).Items ?? [],
    ),
  );
  return JSON.stringify(all.map((items) => items.map((i) => `${i.pk}|${i.sk}|${JSON.stringify(i)}`).sort()));
}

/** A clock that only moves when told to. */
export function manualClock(start = '2026-01-15T10:00:00.000Z') {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    set(iso: string) {
      now = new Date(iso);
    },
  };
}

/** A seeded uniform source (mulberry32), so random strategies are reproducible. */
export function seededRandom(seed = 42): () => number {
  return mulberry32(seed);
}

/** Polls a task until it has finished; returns its record. */
export async function waitForTask(orchestrator: Orchestrator, taskId: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await orchestrator.taskQueries.get(taskId);
    if (record.status === 'SUCCEEDED' || record.status === 'FAILED') return record;
    if (Date.now() > deadline)
      throw new Error(`task ${taskId} did not finish: ${JSON.stringify(record).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Registers each of `inputs`, in order, with a registry (services, modules). */
export async function registerAll<T>(
  registry: { register(input: T): Promise<unknown> },
  inputs: readonly T[],
): Promise<void> {
  for (const input of inputs) await registry.register(input);
}

/** A finished call as the brain learns it: a success, or a failure with `error` as its message. */
export function callOutcome(
  taskId: string,
  taskType: string,
  service: string,
  executionMs: number,
  error?: string,
): TaskResultInput {
  return {
    taskId,
    taskType,
    service,
    success: error === undefined,
    executionMs,
    ...(error === undefined ? {} : { error: { kind: 'error', message: error } }),
  };
}
