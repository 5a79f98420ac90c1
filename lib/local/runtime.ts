import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { EVENT_BUS_NAME, FUNCTIONS, type QueueId, TASK_REQUESTED } from '../app.ts';
import { sharedConsoleBundle } from '../console/build.ts';
import { consolePages } from '../console/static-site.ts';
import type { RouterOptions } from '../core/routing/router.ts';
import type { TaskQueue } from '../core/task-message.ts';
import { LocalEngine } from '../engine/local-engine.ts';
import { createOrchestrator, type Orchestrator } from '../orchestrator.ts';
import { toDocumentClient } from '../store/client.ts';
import { createTables } from '../store/create-tables.ts';
import { tableNames } from '../store/tables.ts';
import { WorkflowStore } from '../store/workflow-store.ts';
import { wire } from '../wiring/context.ts';
import { LOCAL_AWS, type LocalDynamo, startDynalite } from './dynamodb.ts';
import { invoke, localFunction } from './functions.ts';
import { type ExtraRoute, HttpGateway } from './http-gateway.ts';
import { scheduledEvent } from './lambda-context.ts';
import { LocalEventBus } from './local-event-bus.ts';
import { LocalQueue, type LocalQueueOptions } from './local-queue.ts';
import { LocalSchedules } from './local-schedules.ts';
import { keepRunEnd, restoreWorkflows } from './restore-workflows.ts';
import { localArtifactStore, localObjectReader, startLocalS3 } from './s3.ts';

const RUN_STEP_FUNCTION = FUNCTIONS.find((f) => f.workflowStep)?.id ?? 'RunWorkflowStep';
/** The example factories listen on loopback. */
const LOCAL_ENDPOINTS = ['127.0.0.1', 'localhost'];

export interface LocalRuntimeOptions {
  /** API port (0 picks a free one). */
  port: number;
  host?: string;
  /** Where dynalite and the queues keep their data; undefined keeps everything in memory. */
  dataDir: string | undefined;
  /** Port for the embedded DynamoDB endpoint (0 picks a free one). */
  dbPort: number;
  /** Port for the embedded S3-compatible artifact store (0, the default, picks a free one). */
  s3Port?: number;
  tablePrefix: string;
  /** Run the schedules on their timers (they can always be run on demand). */
  schedules: boolean;
  /** Called with lines worth showing a person (schedule results, dead letters). */
  log?: (line: string) => void;
  /** Every state machine `Retry` waits this long instead of its own interval (tests). */
  retryIntervalMs?: number;
  /** How long a message being worked on stays invisible before it is delivered again. */
  queueVisibilityMs?: number;
  /** Router settings beyond the default strategy (tests use short retry delays). */
  router?: RouterOptions;
  /** How long routing reuses a read of the registry or statistics (ms). */
  routingCacheMs?: number;
  /** Told each time a task message is settled (benchmarks learn when work ends without polling). */
  onTaskMessageSettled?: LocalQueueOptions['onSettled'];
  /** Given the DynamoDB client before anything uses it (benchmarks count requests with a middleware). */
  onDynamoClient?: (client: DynamoDBClient) => void;
}

export interface LocalRuntime {
  apiUrl: string;
  dynamoEndpoint: string;
  /** The S3-compatible server artifacts are kept in. */
  s3Endpoint: string;
  orchestrator: Orchestrator;
  engine: LocalEngine;
  queues: Record<QueueId, LocalQueue>;
  bus: LocalEventBus;
  schedules: LocalSchedules;
  /** Stops everything, letting running work finish first (up to `graceMs`). */
  stop(graceMs?: number): Promise<{ unfinished: string[] }>;
}

/**
 * The whole orchestrator on one machine, built from the app manifest like the stack: embedded
 * DynamoDB with the stack's tables, an API Gateway-shaped HTTP server for the same handlers, the
 * local workflow engine running the same state machine definitions, the intake and task queues
 * (with delays and dead letters, kept in the data folder), the event bus rule and the schedules.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? (() => {});
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db: LocalDynamo = await startDynalite({
    port: options.dbPort,
    path: options.dataDir,
    thread: true,
  });
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  options.onDynamoClient?.(client);
  const tables = tableNames(options.tablePrefix);
  await createTables(client, tables);
  const s3 = await startLocalS3({
    port: options.s3Port ?? 0,
    directory: options.dataDir && join(options.dataDir, 'artifacts'),
  });
  const artifacts = localArtifactStore(s3);

  const doc = toDocumentClient(client);
  const runs = new WorkflowStore(doc, { registryTable: tables.registry, memoryTable: tables.memory });
  const engine = new LocalEngine(localFunction, {
    retryIntervalMs: options.retryIntervalMs,
    // The engine forgets its executions when the process stops: each run's end is kept with the run.
    onEnd: ({ description, input }) =>
      keepRunEnd(runs, description, input).catch((error: Error) =>
        log(`could not keep the end of ${description.executionId}: ${error.message}`),
      ),
    // What a Distributed Map's ItemReader reads (the engine runs it as an inline Map).
    readObject: localObjectReader(s3),
  });
  const queues = localQueues(options, log);
  const bus = new LocalEventBus(EVENT_BUS_NAME);
  bus.addRule({
    source: TASK_REQUESTED.source,
    detailType: TASK_REQUESTED.detailType,
    target: (event) => queues.intake.send(JSON.stringify(event)),
  });

  const schedules = new LocalSchedules(
    FUNCTIONS.filter((f) => f.schedule).map((f) => ({
      id: f.id,
      expression: f.schedule as string,
      run: () => invoke(f.id, scheduledEvent(f.id)),
    })),
    (id, result, error) =>
      log(
        error
          ? `schedule ${id} failed: ${(error as Error).message}`
          : `schedule ${id}: ${JSON.stringify(result)}`,
      ),
  );

  // The gateway listens first: its URL is where long-running factories post callbacks.
  // The web console is built the first time someone opens it, so a runtime nobody browses never pays for it.
  const gateway = new HttpGateway(localRoutes({ queues, bus, schedules, engine }), [
    consolePages(sharedConsoleBundle),
  ]);
  const apiUrl = await gateway.listen(options.port, options.host);
  const taskQueue = taskQueueOn(queues.tasks);
  // The handlers of this process run on the local database, queue and engine.
  wire({
    doc,
    taskQueue,
    engine,
    router: options.router,
    artifacts,
    config: {
      tables,
      callbackUrl: apiUrl,
      allowedPrivateEndpoints: LOCAL_ENDPOINTS,
      runStepFunction: RUN_STEP_FUNCTION,
      ...(options.routingCacheMs === undefined ? {} : { routingCacheMs: options.routingCacheMs }),
    },
  });
  const orchestrator = createOrchestrator({
    doc,
    tables,
    queue: taskQueue,
    engine,
    router: options.router,
    runStepFunction: RUN_STEP_FUNCTION,
    callbackBaseUrl: apiUrl,
    allowedEndpoints: LOCAL_ENDPOINTS,
    artifacts,
  });
  await restoreWorkflows(runs, engine, RUN_STEP_FUNCTION);
  // Runs that were running or paused when the runtime last stopped carry on.
  for (const name of await runs.listUnfinishedRuns()) {
    if (await orchestrator.workflows.resumeInterrupted(name)) log(`workflow run ${name} resumed`);
  }
  queues.intake.start();
  queues.tasks.start();
  if (options.schedules) schedules.start();

  return {
    apiUrl,
    dynamoEndpoint: db.endpoint,
    s3Endpoint: s3.endpoint,
    orchestrator,
    engine,
    queues,
    bus,
    schedules,
    async stop(graceMs = 10_000) {
      await gateway.close();
      schedules.stop();
      await Promise.all([queues.intake.stop(), queues.tasks.stop()]);
      const unfinished = await engine.settle(graceMs);
      wire({});
      client.destroy();
      await Promise.all([db.stop(), s3.close()]);
      return { unfinished };
    },
  };
}

/** The intake and task queues, each delivering to its manifest function, kept in the data folder. */
function localQueues(options: LocalRuntimeOptions, log: (line: string) => void): Record<QueueId, LocalQueue> {
  const queue = (id: QueueId) => {
    const consumer = FUNCTIONS.find((f) => f.queue === id);
    if (!consumer) throw new Error(`the app manifest has no consumer of the ${id} queue`);
    const settings: LocalQueueOptions = {
      name: id,
      log: (line) => log(`queue ${id}: ${line}`),
      ...(options.dataDir ? { directory: join(options.dataDir, 'queues', id) } : {}),
      ...(options.queueVisibilityMs === undefined ? {} : { visibilityTimeoutMs: options.queueVisibilityMs }),
      ...(id === 'tasks' && options.onTaskMessageSettled ? { onSettled: options.onTaskMessageSettled } : {}),
    };
    return new LocalQueue(async (event) => (await invoke(consumer.id, event)) as SQSBatchResponse, settings);
  };
  return { intake: queue('intake'), tasks: queue('tasks') };
}

/** The task queue port on a local queue. */
export function taskQueueOn(queue: LocalQueue): TaskQueue {
  return {
    async send(message, delaySeconds = 0) {
      queue.send(JSON.stringify(message), {
        delaySeconds: Math.max(0, Math.min(900, Math.floor(delaySeconds))),
      });
    },
  };
}
/** Local-only routes under `/local/`: what the cloud does with SQS, EventBridge and the console. */
function localRoutes(parts: {
  queues: Record<QueueId, LocalQueue>;
  bus: LocalEventBus;
  schedules: LocalSchedules;
  engine: LocalEngine;
}): ExtraRoute[] {
  return [
    {
      method: 'POST',
      path: '/local/events',
      async handle({ body }) {
        const entries = (Array.isArray(body) ? body : [body]) as Array<{
          source?: string;
          detailType?: string;
          detail?: unknown;
        }>;
        if (
          entries.some(
            (e) =>
              typeof e?.source !== 'string' ||
              typeof e?.detailType !== 'string' ||
              typeof e?.detail !== 'object',
          )
        ) {
          return {
            status: 400,
            body: {
              error: { type: 'BadRequest', message: 'body: each event needs source, detailType and detail' },
            },
          };
        }
        const result = parts.bus.putEvents(
          entries.map((e) => ({
            Source: e.source as string,
            DetailType: e.detailType as string,
            Detail: JSON.stringify(e.detail),
          })),
        );
        return { status: 200, body: result };
      },
    },
    {
      method: 'POST',
      path: '/local/queues/intake/messages',
      async handle({ body }) {
        if (body === undefined)
          return {
            status: 400,
            body: { error: { type: 'BadRequest', message: 'body: a message is required' } },
          };
        return { status: 202, body: { messageId: parts.queues.intake.send(JSON.stringify(body)) } };
      },
    },
    {
      method: 'GET',
      path: '/local/queues/{queue}/dead-letters',
      async handle({ params }) {
        const queue = parts.queues[params.queue as QueueId];
        if (!queue) {
          return {
            status: 404,
            body: {
              error: { type: 'NotFoundError', message: `queue '${params.queue}' not found (intake, tasks)` },
            },
          };
        }
        return { status: 200, body: { depth: queue.depth, deadLetters: queue.deadLetters } };
      },
    },
    {
      method: 'GET',
      path: '/local/schedules',
      async handle() {
        return { status: 200, body: { schedules: parts.schedules.list() } };
      },
    },
    {
      method: 'POST',
      path: '/local/schedules/{id}/run',
      async handle({ params }) {
        if (!parts.schedules.list().some((s) => s.id === params.id)) {
          return {
            status: 404,
            body: { error: { type: 'NotFoundError', message: `schedule '${params.id}' not found` } },
          };
        }
        return { status: 200, body: { result: await parts.schedules.runNow(params.id as string) } };
      },
    },
    {
      method: 'GET',
      path: '/local/executions/{id}',
      async handle({ params }) {
        try {
          return { status: 200, body: await parts.engine.describe(params.id as string) };
        } catch {
          return {
            status: 404,
            body: { error: { type: 'NotFoundError', message: `execution '${params.id}' not found` } },
          };
        }
      },
    },
  ];
}
