import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ContextStore } from './context-store.ts';
import { RegistryStore } from './registry-store.ts';
import { StatsStore } from './stats-store.ts';
import { SuggestionStore } from './suggestion-store.ts';
import type { TableNames } from './tables.ts';
import { TaskStore } from './task-store.ts';
import { WorkflowStore } from './workflow-store.ts';

/** Every repository of the orchestrator, on one document client. */
export interface Stores {
  contexts: ContextStore;
  stats: StatsStore;
  suggestions: SuggestionStore;
  registry: RegistryStore;
  tasks: TaskStore;
  workflows: WorkflowStore;
}

export interface StoresOptions {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  /** Uniform source for counter shards; injected for reproducible runs. */
  random?: () => number;
}

export function createStores({ doc, tables, random }: StoresOptions): Stores {
  return {
    contexts: new ContextStore(doc, { table: tables.memory }),
    stats: new StatsStore(doc, { table: tables.patterns, random }),
    suggestions: new SuggestionStore(doc, { table: tables.patterns }),
    registry: new RegistryStore(doc, { table: tables.registry }),
    tasks: new TaskStore(doc, { table: tables.memory }),
    workflows: new WorkflowStore(doc, { registryTable: tables.registry, memoryTable: tables.memory }),
  };
}
