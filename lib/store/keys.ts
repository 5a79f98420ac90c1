import type { Key } from './dynamo.ts';

/**
 * Every key of the three tables, built here and nowhere else: what each table holds is described
 * by its keys, one block per table.
 */

/** The memory table: tasks, named contexts, workflow runs. */
export const memoryKeys = {
  /** A task record, written at submission and saved by each worker invocation. */
  task: (taskId: string): Key => ({ pk: `TASK#${taskId}`, sk: 'TASK' }),
  /** `resultsByType` partition of a finished task: one of a few shards per task type. */
  resultsOfType: (taskType: string, shard: number): string => `TYPE#${taskType}#${shard}`,
  /** `resultsByType` sort key: finished tasks in order of completion. */
  resultPosition: (completedAt: string, taskId: string): string => `${completedAt}#${taskId}`,
  context: (contextId: string): Key => ({ pk: `CONTEXT#${contextId}`, sk: 'CONTEXT' }),
  /** The partition of one workflow run: its start, its control item and its steps. */
  run: (executionName: string): string => `WFEXEC#${executionName}`,
  runStart: (executionName: string): Key => ({ pk: memoryKeys.run(executionName), sk: RUN_START }),
  runControl: (executionName: string): Key => ({ pk: memoryKeys.run(executionName), sk: RUN_CONTROL }),
  runStep: (executionName: string, stepId: string): Key => ({
    pk: memoryKeys.run(executionName),
    sk: `${STEP_PREFIX}${stepId}`,
  }),
  /** `byTime` partition of the tasks or runs created on a UTC day (`yyyy-mm-dd`), in one of a few shards. */
  listed: (kind: 'TASK' | 'RUN', day: string, shard: number): string => `LIST#${kind}#${day}#${shard}`,
  /** `byTime` sort key: creation order. */
  listedPosition: (createdAt: string, id: string): string => `${createdAt}#${id}`,
  /** One item of a fan-out step: sorts after every step, so reading a run's steps never reads its items. */
  runStepItem: (executionName: string, stepId: string, index: number): Key => ({
    pk: memoryKeys.run(executionName),
    sk: `${STEP_ITEM_PREFIX}${stepId}#${String(index).padStart(6, '0')}`,
  }),
};

/** Sort keys inside a run's partition; `CONTROL` < `EXECUTION` < `STEP#…`, so ranges read them together. */
export const RUN_CONTROL = 'CONTROL';
export const RUN_START = 'EXECUTION';
export const STEP_PREFIX = 'STEP#';
/** Sorts after every step of a run. */
export const LAST_STEP = 'STEP#~';
/** Items of fan-out steps: `STEPITEM#` sorts after `LAST_STEP`. */
export const STEP_ITEM_PREFIX = 'STEPITEM#';

/** The patterns table: call counters and statistics, task types, learned patterns, suggestions. */
export const patternKeys = {
  /** Per-minute call counters of a task type in one shard, per service. */
  minutes: (taskType: string, shard: number): string => `RECENT#${taskType}#${shard}`,
  minute: (taskType: string, shard: number, minute: string, service: string): Key => ({
    pk: patternKeys.minutes(taskType, shard),
    sk: `${minute}#${service}`,
  }),
  /** The rolled-up statistics of a task type: one item per service and a `ROLLED` watermark. */
  stats: (taskType: string): string => `STATS#${taskType}`,
  serviceStats: (taskType: string, service: string): Key => ({
    pk: patternKeys.stats(taskType),
    sk: `${SERVICE_STATS_PREFIX}${service}`,
  }),
  rolledThrough: (taskType: string): Key => ({ pk: patternKeys.stats(taskType), sk: 'ROLLED' }),
  /** Counters of one hour (`yyyy-mm-ddThh`), per task type and service. */
  hour: (hour: string): string => `HOUR#${hour}`,
  hourOf: (hour: string, taskType: string, service: string): Key => ({
    pk: patternKeys.hour(hour),
    sk: `${taskType}#${service}`,
  }),
  /** The task types seen. */
  types: 'TYPES',
  type: (taskType: string): Key => ({ pk: patternKeys.types, sk: taskType }),
  /** Success counts by parameter value of a task type. */
  parameters: (taskType: string): Key => ({ pk: `PATTERN#${taskType}`, sk: 'PARAMS' }),
  suggestion: (id: string): Key => ({ pk: `SUGGESTION#${id}`, sk: 'SUGGESTION' }),
  /** `byKind` partition listing suggestions, and its sort key (newest last). */
  suggestions: 'SUGGESTIONS',
  suggestionPosition: (createdAt: string, id: string): string => `${createdAt}#${id}`,
};

export const SERVICE_STATS_PREFIX = 'SERVICE#';

/** The registry table: services, modules, workflows and their versions. */
export const registryKeys = {
  services: 'SERVICE',
  service: (name: string): Key => ({ pk: registryKeys.services, sk: name }),
  modules: 'MODULE',
  module: (name: string): Key => ({ pk: registryKeys.modules, sk: name }),
  /** Workflow heads: the current version and alias of each workflow. */
  workflows: 'WORKFLOWS',
  workflow: (workflowId: string): Key => ({ pk: registryKeys.workflows, sk: workflowId }),
  /** The published versions of a workflow. */
  workflowVersions: (workflowId: string): string => `WORKFLOW#${workflowId}`,
  workflowVersion: (workflowId: string, version: number): Key => ({
    pk: registryKeys.workflowVersions(workflowId),
    sk: `${VERSION_PREFIX}${String(version).padStart(10, '0')}`,
  }),
  /** Routing policy versions, and the pointer to the active one. */
  policies: 'ROUTING_POLICY',
  policyVersion: (version: number): Key => ({
    pk: registryKeys.policies,
    sk: `${VERSION_PREFIX}${String(version).padStart(10, '0')}`,
  }),
  activePolicy: (): Key => ({ pk: registryKeys.policies, sk: 'ACTIVE' }),
};

export const VERSION_PREFIX = 'V#';
