/**
 * The three tables, defined once: the CDK stack and the local runtime both build them from here,
 * so a key or index that exists in one exists in the other.
 *
 * Every table uses generic `pk`/`sk` string keys and a numeric `expiresAt` (epoch seconds) TTL
 * attribute; item kinds are told apart by key prefixes, all built in `keys.ts`.
 */
export interface IndexDefinition {
  indexName: string;
  partitionKey: string;
  sortKey: string;
  /** The attributes besides the keys that the index holds: all, or only these (cheaper to write). */
  projection: { type: 'ALL' } | { type: 'INCLUDE'; attributes: string[] };
}

export interface TableDefinition {
  /** Logical id, also the suffix of the physical table name. */
  id: TableId;
  partitionKey: 'pk';
  sortKey: 'sk';
  timeToLiveAttribute: 'expiresAt';
  globalIndexes: IndexDefinition[];
  description: string;
}

export type TableId = 'memory' | 'patterns' | 'registry';

/** GSI of the patterns table listing suggestions, newest first. */
export const BY_KIND_INDEX: IndexDefinition = {
  indexName: 'byKind',
  partitionKey: 'gsi1pk',
  sortKey: 'gsi1sk',
  projection: { type: 'ALL' },
};

/**
 * GSI of the memory table listing finished tasks by type, in order of completion. It holds only
 * what the statistics roll-up reads (status and parameter features), so writing an entry costs
 * one write unit whatever the size of the task's output; readers fetch the records themselves.
 */
export const RESULTS_BY_TYPE_INDEX: IndexDefinition = {
  indexName: 'resultsByType',
  partitionKey: 'gsi1pk',
  sortKey: 'gsi1sk',
  projection: { type: 'INCLUDE', attributes: ['status', 'features'] },
};

/**
 * GSI of the memory table listing tasks and workflow runs newest first (see `listing.ts`). It holds
 * what a list shows and filters on, never parameters or outputs, so an entry stays a few hundred
 * bytes whatever the task carries.
 */
export const BY_TIME_INDEX: IndexDefinition = {
  indexName: 'byTime',
  partitionKey: 'gsi2pk',
  sortKey: 'gsi2sk',
  projection: {
    type: 'INCLUDE',
    attributes: [
      // tasks
      'status',
      'taskType',
      'priority',
      'service',
      'error',
      'completedAt',
      // runs
      'workflowId',
      'version',
      'control',
      'ended',
      'executionArn',
      // both
      'createdAt',
      'updatedAt',
    ],
  },
};

export const TABLES: Readonly<Record<TableId, TableDefinition>> = {
  memory: {
    id: 'memory',
    partitionKey: 'pk',
    sortKey: 'sk',
    timeToLiveAttribute: 'expiresAt',
    globalIndexes: [RESULTS_BY_TYPE_INDEX, BY_TIME_INDEX],
    description:
      'Task records (every task, its decision, calls and result), named contexts, workflow runs and their steps',
  },
  patterns: {
    id: 'patterns',
    partitionKey: 'pk',
    sortKey: 'sk',
    timeToLiveAttribute: 'expiresAt',
    globalIndexes: [BY_KIND_INDEX],
    description:
      'Per-minute call counters, all-time and hourly statistics rolled up from them, task types, success patterns, suggestions',
  },
  registry: {
    id: 'registry',
    partitionKey: 'pk',
    sortKey: 'sk',
    timeToLiveAttribute: 'expiresAt',
    globalIndexes: [],
    description: 'Services and their health, modules, workflows and their versions',
  },
};

/** Physical table names, e.g. `vobee-dev-memory`. */
export type TableNames = Readonly<Record<TableId, string>>;

export function tableNames(prefix: string): TableNames {
  return { memory: `${prefix}-memory`, patterns: `${prefix}-patterns`, registry: `${prefix}-registry` };
}
