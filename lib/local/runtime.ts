import { mkdirSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { EVENT_BUS_NAME, FUNCTIONS, TASK_REQUESTED } from '../app.ts';
import { LocalEngine } from '../engine/local-engine.ts';
import { useOrchestrator } from '../handler/runtime.ts';
import { createOrchestrator, type Orchestrator } from '../orchestrator.ts';
import { toDocumentClient } from '../store/client.ts';
import { createTables } from '../store/create-tables.ts';
import { createStores } from '../store/stores.ts';
import { tableNames } from '../store/tables.ts';
import { LOCAL_AWS, type LocalDynamo, startDynalite } from './dynamodb.ts';
import { invoke, localFunction, registerLocalPipeline } from './functions.ts';
import { type ExtraRoute, HttpGateway } from './http-gateway.ts';
import { scheduledEvent } from './lambda-context.ts';
import { LocalEventBus } from './local-event-bus.ts';
import { LocalQueue } from './local-queue.ts';
import { LocalSchedules } from './local-schedules.ts';
import { restoreWorkflows } from './restore-workflows.ts';

const RUN_STEP_FUNCTION = FUNCTIONS.find((f) => f.workflowStep)?.id ?? 'RunWorkflowStep';

export interface LocalRuntimeOptions {
  /** API port (0 picks a free one). */
  port: number;
  host?: string;
  /** Where dynalite keeps its data; undefined keeps everything in memory. */
  dataDir: string | undefined;
  /** Port for the embedded DynamoDB endpoint (0 picks a free one). */
  dbPort: number;
  tablePrefix: string;
  /** Run the schedules on their timers (they can always be run on demand). */
  schedules: boolean;
  /** Called with lines worth showing a person (schedule results, dead letters). */
  log?: (line: string) => void;
  /** Every state machine `Retry` waits this long instead of its own interval (tests). */
  retryIntervalMs?: number;
}

export interface LocalRuntime {
  apiUrl: string;
  dynamoEndpoint: string;
  orchestrator: Orchestrator;
  engine: LocalEngine;
  queue: LocalQueue;
  bus: LocalEventBus;
  schedules: LocalSchedules;
  /** Stops everything, letting running executions finish first (up to `graceMs`). */
  stop(graceMs?: number): Promise<{ unfinished: string[] }>;
}

/**
 * The whole orchestrator on one machine, built from the app manifest like the stack: embedded
 * DynamoDB with the stack's tables, an API Gateway-shaped HTTP server for the same handlers, the
 * local workflow engine running the same state machine definitions, an intake queue with a
 * dead-letter list, the event bus rule and the schedules.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? (() => {});
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db: LocalDynamo = await startDynalite({ port: options.dbPort, path: options.dataDir });
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  const tables = tableNames(options.tablePrefix);
  await createTables(client, tables);

  const engine = new LocalEngine(localFunction, { retryIntervalMs: options.retryIntervalMs });
  const pipelineArn = registerLocalPipeline(engine);

  const intake = FUNCTIONS.find((f) => f.queue === 'intake');
  if (!intake) throw new Error('the app manifest has no intake function');
  const queue = new LocalQueue(async (event) => (await invoke(intake.id, event)) as SQSBatchResponse);
  const bus = new LocalEventBus(EVENT_BUS_NAME);
  bus.addRule({
    source: TASK_REQUESTED.source,
    detailType: TASK_REQUESTED.detailType,
    target: (event) => queue.send(JSON.stringify(event)),
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
  const gateway = new HttpGateway(localRoutes({ queue, bus, schedules, engine }));
  const apiUrl = await gateway.listen(options.port, options.host);
  const stores = createStores({ doc: toDocumentClient(client), tables });
  const orchestrator = createOrchestrator({
    stores,
    engine,
    pipelineArn,
    runStepFunction: RUN_STEP_FUNCTION,
    callbackBaseUrl: apiUrl,
    // The example factories listen on loopback.
    allowedEndpoints: ['127.0.0.1', 'localhost'],
  });
  useOrchestrator(orchestrator);
  await restoreWorkflows(stores.workflows, engine, RUN_STEP_FUNCTION);
  queue.start();
  if (options.schedules) schedules.start();

  return {
    apiUrl,
    dynamoEndpoint: db.endpoint,
    orchestrator,
    engine,
    queue,
    bus,
    schedules,
    async stop(graceMs = 10_000) {
      await gateway.close();
      schedules.stop();
      await queue.stop();
      const unfinished = await engine.settle(graceMs);
      useOrchestrator(undefined);
      client.destroy();
      await db.stop();
      return { unfinished };
    },
  };
}

/** Local-only routes under `/local/`: what the cloud does with SQS, EventBridge and the console. */
function localRoutes(parts: {
  queue: LocalQueue;
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
        return { status: 202, body: { messageId: parts.queue.send(JSON.stringify(body)) } };
      },
    },
    {
      method: 'GET',
      path: '/local/queues/intake/dead-letters',
      async handle() {
        return { status: 200, body: { depth: parts.queue.depth, deadLetters: parts.queue.deadLetters } };
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
