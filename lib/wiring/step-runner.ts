import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FactoryCaller } from '../core/factory-call.ts';
import { StepRunner } from '../core/workflow/step-runner.ts';
import type { TableNames } from '../store/tables.ts';
import { WorkflowStore } from '../store/workflow-store.ts';
import { config, memo, now, random } from './context.ts';
import { documentClient } from './dynamo.ts';
import { factoryClient } from './factories.ts';
import { type Routing, routing } from './routing.ts';

/** The workflow step handler's work: a step's task, decided, routed and called in one invocation. */
export function buildStepRunner(deps: {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  routing: Routing;
  factories: FactoryCaller;
  now: () => Date;
  random: () => number;
  callTimeoutMs: number;
  callbackBaseUrl: string | undefined;
}): StepRunner {
  const { routing } = deps;
  return new StepRunner({
    workflows: new WorkflowStore(deps.doc, {
      registryTable: deps.tables.registry,
      memoryTable: deps.tables.memory,
    }),
    brain: routing.brain,
    router: routing.router,
    services: routing.services,
    statsFor: (type) => routing.live.allTime(type),
    factories: deps.factories,
    health: routing.health,
    observe: (call) => routing.live.observe(call),
    // Workflow steps carry no context: what they need comes from the run's input and earlier steps.
    context: async () => ({}),
    callTimeoutMs: deps.callTimeoutMs,
    recordCalls: (calls) => routing.stats.recordCalls(calls),
    recordHealth: (changes) => routing.recordHealth(changes),
    callbackBaseUrl: deps.callbackBaseUrl,
    now: deps.now,
    random: deps.random,
  });
}

export const stepRunner = memo(() =>
  buildStepRunner({
    doc: documentClient(),
    tables: config().tables,
    routing: routing(),
    factories: factoryClient(),
    now,
    random,
    callTimeoutMs: config().factoryCallTimeoutMs,
    callbackBaseUrl: config().callbackUrl,
  }),
);
