import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.ts';
import type { ArtifactStore } from '../core/artifacts.ts';
import { readBudgetSteps } from '../core/workflow/run-budget.ts';
import type { WorkflowEngine } from '../core/workflow/workflow-ports.ts';
import { WorkflowService } from '../core/workflow/workflow-service.ts';
import { publishFactoryCalls } from '../handler/outcome-metrics.ts';
import { RegistryStore } from '../store/registry-store.ts';
import { StatsStore } from '../store/stats-store.ts';
import type { TableNames } from '../store/tables.ts';
import { WorkflowStore } from '../store/workflow-store.ts';
import { artifactStore, outputKeeper } from './artifacts.ts';
import { config, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';
import { workflowEngine } from './workflow-engine.ts';

/** The workflow records (heads, published versions, runs, steps) on the tables. */
export function buildWorkflowStore(deps: { doc: DynamoDBDocumentClient; tables: TableNames }): WorkflowStore {
  return new WorkflowStore(deps.doc, {
    registryTable: deps.tables.registry,
    memoryTable: deps.tables.memory,
  });
}

/** Workflows at run time: templates, versions and runs on the engine, records in the tables. */
export function buildWorkflowService(deps: {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  engine: WorkflowEngine;
  now: () => Date;
  random: () => number;
  config: Pick<Config, 'runStepFunction' | 'workflowPrefix' | 'deployedWorkflows'>;
  artifacts: ArtifactStore | undefined;
}): WorkflowService {
  const registry = new RegistryStore(deps.doc, { table: deps.tables.registry });
  const stats = new StatsStore(deps.doc, { table: deps.tables.patterns, random: deps.random, now: deps.now });
  return new WorkflowService({
    workflows: buildWorkflowStore(deps),
    engine: deps.engine,
    runStepFunction: deps.config.runStepFunction ?? 'RunWorkflowStep',
    stateMachinePrefix: deps.config.workflowPrefix,
    deployed: deps.config.deployedWorkflows,
    recordCalls: (calls) => {
      publishFactoryCalls(calls);
      return stats.recordCalls(calls);
    },
    keepOutput: outputKeeper(deps.artifacts),
    budgetSteps: (plan) =>
      readBudgetSteps(plan, {
        services: () => registry.listServices(),
        statsFor: (type) => stats.statsFor(type),
        now: deps.now,
      }),
    capabilities: async () => {
      const byType: Record<string, string[]> = {};
      for (const service of await registry.listServices()) {
        if (!service.enabled || service.factoryType === undefined) continue;
        byType[service.factoryType] = [
          ...new Set([...(byType[service.factoryType] ?? []), ...service.capabilities]),
        ];
      }
      return byType;
    },
    now: deps.now,
  });
}

/** Reads published versions of workflows (`GET /workflows/{id}?version=N`). */
export const workflowStore = memo(() => buildWorkflowStore(baseDeps()));

export const workflowService = memo(() =>
  buildWorkflowService({
    ...baseDeps(),
    engine: workflowEngine(),
    config: config(),
    artifacts: artifactStore(),
  }),
);
