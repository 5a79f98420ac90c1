import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArtifactStore } from '../core/artifacts.ts';
import type { FactoryCaller } from '../core/factory-call.ts';
import { readBudgetSteps } from '../core/workflow/run-budget.ts';
import { StepRunner } from '../core/workflow/step-runner.ts';
import type { WorkflowEngine } from '../core/workflow/workflow-ports.ts';
import type { TableNames } from '../store/tables.ts';
import { WorkflowStore } from '../store/workflow-store.ts';
import { artifactStore, withArtifacts } from './artifacts.ts';
import { config, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';
import { factoryClient } from './factories.ts';
import { callPorts, type Routing, routing } from './routing.ts';
import { workflowEngine } from './workflow-engine.ts';

/** The workflow step handler's work: a step's task, decided, routed and called in one invocation. */
export function buildStepRunner(deps: {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  routing: Routing;
  factories: FactoryCaller;
  artifacts: ArtifactStore | undefined;
  now: () => Date;
  random: () => number;
  callTimeoutMs: number;
  callbackBaseUrl: string | undefined;
  engine: Pick<WorkflowEngine, 'sendTaskSuccess'>;
}): StepRunner {
  return new StepRunner({
    ...callPorts(deps.routing),
    workflows: new WorkflowStore(deps.doc, {
      registryTable: deps.tables.registry,
      memoryTable: deps.tables.memory,
    }),
    factories: withArtifacts(deps.factories, deps.artifacts),
    artifacts: deps.artifacts,
    // Workflow steps carry no context: what they need comes from the run's input and earlier steps.
    context: async () => ({}),
    callTimeoutMs: deps.callTimeoutMs,
    callbackBaseUrl: deps.callbackBaseUrl,
    engine: deps.engine,
    budgetSteps: (plan) =>
      readBudgetSteps(plan, {
        services: deps.routing.services,
        statsFor: (type) => deps.routing.live.allTime(type),
        now: deps.now,
      }),
    now: deps.now,
    random: deps.random,
  });
}

export const stepRunner = memo(() =>
  buildStepRunner({
    ...baseDeps(),
    routing: routing(),
    factories: factoryClient(),
    artifacts: artifactStore(),
    callTimeoutMs: config().factoryCallTimeoutMs,
    callbackBaseUrl: config().callbackUrl,
    engine: workflowEngine(),
  }),
);
