import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { mulberry32 } from '../../lib/core/random.ts';
import { LocalEngine } from '../../lib/engine/local-engine.ts';
import { useOrchestrator } from '../../lib/handler/runtime.ts';
import { LOCAL_AWS } from '../../lib/local/dynamodb.ts';
import { localFunction, registerLocalPipeline } from '../../lib/local/functions.ts';
import { createOrchestrator, type Orchestrator, type OrchestratorOptions } from '../../lib/orchestrator.ts';
import { toDocumentClient } from '../../lib/store/client.ts';
import { createTables } from '../../lib/store/create-tables.ts';
import { createStores, type Stores } from '../../lib/store/stores.ts';
import { type TableNames, tableNames } from '../../lib/store/tables.ts';
import type { DynamoBackend } from './global-setup.ts';

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

/** Fresh tables (unique prefix) on `backend`, with the stores and the orchestrator on top. */
export async function createStack(
  backend: DynamoBackend,
  options: Omit<OrchestratorOptions, 'stores'> = {},
): Promise<TestStack> {
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: backend.endpoint });
  const doc = toDocumentClient(client);
  const tables = tableNames(`t${randomUUID().slice(0, 8)}`);
  await createTables(client, tables);
  const stores = createStores({ doc, tables, random: options.random });
  return { backend, client, doc, tables, stores, orchestrator: createOrchestrator({ ...options, stores }) };
}

/**
 * A stack wired like a deployment: the handlers of this process use it, and task pipelines run
 * on a local engine that invokes the real pipeline handlers (Wait states skipped).
 */
export async function createServingStack(
  backend: DynamoBackend,
  options: Omit<OrchestratorOptions, 'stores' | 'engine' | 'pipelineArn'> = {},
): Promise<TestStack & { engine: LocalEngine }> {
  const engine = new LocalEngine(localFunction, { skipWaits: true });
  const pipelineArn = registerLocalPipeline(engine);
  const base = await createStack(backend, {
    allowedEndpoints: ['127.0.0.1'],
    ...options,
    engine,
    pipelineArn,
  });
  useOrchestrator(base.orchestrator);
  return { ...base, engine };
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
