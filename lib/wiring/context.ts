import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Config, readConfig } from '../config.ts';
import type { ArtifactStore } from '../core/artifacts.ts';
import type { FactoryCaller } from '../core/factory-call.ts';
import type { RouterOptions } from '../core/routing/router.ts';
import type { TaskQueue } from '../core/task-message.ts';
import type { WorkflowEngine } from '../core/workflow/workflow-ports.ts';
import type { HttpFactoryClient } from '../factories/http-factory-client.ts';
import type { TableNames } from '../store/tables.ts';

/**
 * What a process runs on, when it is not what a Lambda function finds in its environment: the
 * local runtime and the tests put their own database client, queue, engine and settings here, and
 * every handler of the process uses them. In Lambda nothing is set and each part is built from
 * the environment on first use.
 */
export interface Wiring {
  doc?: DynamoDBDocumentClient;
  taskQueue?: TaskQueue;
  engine?: WorkflowEngine;
  factories?: HttpFactoryClient | (FactoryCaller & Pick<HttpFactoryClient, 'status' | 'capabilities'>);
  now?: () => Date;
  random?: () => number;
  config?: Partial<Config>;
  /** Router settings beyond the default strategy (a retry policy, content rules). */
  router?: RouterOptions;
  artifacts?: ArtifactStore;
}

/** What every builder starts from: the document client, the table names, the clock and the random source. */
export interface BaseDeps {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  now: () => Date;
  random: () => number;
}

let current: Wiring = {};
const resets: Array<() => void> = [];

/** Replaces the wiring of this process; everything built from the previous one is built again. */
export function wire(wiring: Wiring): void {
  current = wiring;
  for (const reset of resets) reset();
}

export function wiring(): Wiring {
  return current;
}

/** A part built once per process (per wiring), on first use. */
export function memo<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  resets.push(() => {
    built = undefined;
  });
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** The configuration: the environment, read once and validated, with the wiring's settings over it. */
export const config = memo((): Config => ({ ...readConfig(), ...current.config }));

export function now(): Date {
  return current.now ? current.now() : new Date();
}

export function random(): number {
  return current.random ? current.random() : Math.random();
}
