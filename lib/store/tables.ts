/**
 * The three tables, defined once: the CDK stack and the local runtime both build them from here,
 * so a key or index that exists in one exists in the other.
 *
 * Every table uses generic `pk`/`sk` string keys and a numeric `expiresAt` (epoch seconds) TTL
 * attribute; item kinds are told apart by key prefixes (see each store).
 */
export interface IndexDefinition {
  indexName: string;
  partitionKey: string;
  sortKey: string;
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

/** GSI of the memory table listing results by task type, newest first; of the patterns table, suggestions. */
export const BY_KIND_INDEX: IndexDefinition = {
  indexName: 'byKind',
  partitionKey: 'gsi1pk',
  sortKey: 'gsi1sk',
};

export const TABLES: Readonly<Record<TableId, TableDefinition>> = {
  memory: {
    id: 'memory',
    partitionKey: 'pk',
    sortKey: 'sk',
    timeToLiveAttribute: 'expiresAt',
    globalIndexes: [BY_KIND_INDEX],
    description: 'Task results, the short-term window and named contexts',
  },
  patterns: {
    id: 'patterns',
    partitionKey: 'pk',
    sortKey: 'sk',
    timeToLiveAttribute: 'expiresAt',
    globalIndexes: [BY_KIND_INDEX],
    description:
      'Statistics per task type and service, hourly windows, success patterns, counters, suggestions',
  },
  registry: {
    id: 'registry',
    partitionKey: 'pk',
    sortKey: 'sk',
    timeToLiveAttribute: 'expiresAt',
    globalIndexes: [],
    description: 'Services, modules and their health',
  },
};

/** Physical table names, e.g. `vobee-dev-memory`. */
export type TableNames = Readonly<Record<TableId, string>>;

export function tableNames(prefix: string): TableNames {
  return { memory: `${prefix}-memory`, patterns: `${prefix}-patterns`, registry: `${prefix}-registry` };
}
