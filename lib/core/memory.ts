import * as z from 'zod';
import { isExpired } from './context-expiry.ts';
import { ConflictError, NotFoundError, ValidationError } from './errors.ts';
import { jsonBytes, LIMITS, overLimitMessage } from './limits.ts';
import { identifier } from './names.ts';
import { type PatternCounters, type SuccessPattern, successPatterns } from './patterns.ts';
import {
  type CallObservation,
  type CountersSummary,
  mergeCounters,
  type ServiceStats,
  summarizeCounters,
} from './statistics.ts';
import { type TaskResult, type TaskResultInput, taskResultSchema } from './task-result.ts';
import { parseInput } from './validation.ts';

/** The short-term window holds this many of the most recent results. */
export const SHORT_TERM_SIZE = 100;

/** A named context shared by related tasks (a campaign, a launch...). */
export interface Context {
  id: string;
  data: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
  expiresAt?: string | undefined;
}

const contextData = z.record(z.string(), z.unknown());
const ttlSeconds = z
  .number()
  .int()
  .positive()
  .max(366 * 86_400);

/** A new named context as a caller describes it. */
export const contextInputSchema = z
  .object({ id: identifier, data: contextData.default({}), ttlSeconds: ttlSeconds.optional() })
  .strict();

/** Long-term statistics of a task type: overall and per service. */
export interface TypeStatistics {
  taskType: string;
  overall: CountersSummary;
  services: Array<{ service: string } & CountersSummary>;
}

/** Sizes of each kind of memory. */
export interface MemorySummary {
  shortTermCount: number;
  longTermTypes: number;
  patternsLearned: number;
}

/** Storage the memory needs; `lib/store` provides it on DynamoDB. */
export interface MemoryPorts {
  /**
   * Stores a result reported from outside the task path as a finished task, once per task id;
   * returns false (and writes nothing) when the task exists already.
   */
  putResult(result: TaskResult): Promise<boolean>;
  /** The result of a finished task. */
  getResult(taskId: string): Promise<TaskResult | undefined>;
  recentResults(limit: number): Promise<TaskResult[]>;
  resultsByType(taskType: string, limit: number): Promise<TaskResult[]>;
  /** Counts one call in the statistics (see `CallObservation`). */
  recordCall(call: CallObservation): Promise<void>;
  statsFor(taskType: string): Promise<ServiceStats[]>;
  taskTypes(): Promise<string[]>;
  patternsFor(taskType: string): Promise<PatternCounters[]>;
  createContext(context: Context): Promise<void>;
  getContext(id: string): Promise<Context | undefined>;
  /** Replaces data if the stored version is `expectedVersion`; ConflictError otherwise. */
  updateContext(context: Context, expectedVersion: number): Promise<void>;
  deleteContext(id: string): Promise<void>;
  now(): Date;
}

/**
 * What the orchestrator remembers: every result (a finished task record), the recent ones,
 * statistics per task type and service, success patterns and shared contexts. Tasks run by the
 * worker are remembered as they finish; `storeTaskResult` records work done elsewhere.
 */
export class Memory {
  readonly #ports: MemoryPorts;
  constructor(ports: MemoryPorts) {
    this.#ports = ports;
  }

  /**
   * Stores a task result and learns from it, exactly once per task id: a repeated delivery of
   * the same result changes nothing and returns `recorded: false`.
   */
  async storeTaskResult(
    input: TaskResultInput,
    options: { learn?: boolean } = {},
  ): Promise<{ recorded: boolean; result: TaskResult }> {
    const result = parseInput(taskResultSchema, input, 'result');
    const bytes = jsonBytes(result.output);
    if (bytes > LIMITS.inlineOutput.bytes) {
      throw new ValidationError([{ field: 'output', message: overLimitMessage('inlineOutput', bytes) }]);
    }
    const recorded = await this.#ports.putResult(result);
    if (recorded && options.learn !== false) {
      await this.#ports.recordCall({
        taskType: result.taskType,
        service: result.service,
        success: result.success,
        timedOut: result.error?.kind === 'timeout',
        latencyMs: result.executionMs,
        at: result.completedAt,
      });
    }
    return { recorded, result };
  }

  async getResult(taskId: string): Promise<TaskResult> {
    const id = parseInput(identifier, taskId, 'taskId');
    const result = await this.#ports.getResult(id);
    if (!result) throw new NotFoundError('task result', id);
    return result;
  }

  /** The short-term window: the most recent results, newest first. */
  shortTerm(limit = SHORT_TERM_SIZE): Promise<TaskResult[]> {
    return this.#ports.recentResults(
      parseInput(z.number().int().min(1).max(SHORT_TERM_SIZE), limit, 'limit'),
    );
  }

  /** Recent results of the same task type, newest first: what a new task of that type can learn from. */
  relevantMemories(taskType: string, limit = 10): Promise<TaskResult[]> {
    return this.#ports.resultsByType(
      parseInput(identifier, taskType, 'taskType'),
      parseInput(z.number().int().min(1).max(1_000), limit, 'limit'),
    );
  }

  /** Long-term statistics of a task type: overall and per service. */
  async statistics(taskType: string): Promise<TypeStatistics> {
    const type = parseInput(identifier, taskType, 'taskType');
    const perService = await this.#ports.statsFor(type);
    return {
      taskType: type,
      overall: summarizeCounters(mergeCounters(perService)),
      services: perService.map((s) => ({ service: s.service, ...summarizeCounters(s) })),
    };
  }

  async successPatterns(taskType: string): Promise<SuccessPattern[]> {
    return successPatterns(await this.#ports.patternsFor(parseInput(identifier, taskType, 'taskType')));
  }

  async createContext(
    id: string,
    data: Record<string, unknown>,
    options: { ttlSeconds?: number } = {},
  ): Promise<Context> {
    const now = this.#ports.now();
    const context: Context = {
      id: parseInput(identifier, id, 'contextId'),
      data: parseInput(contextData, data, 'data'),
      version: 1,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: expiry(now, options.ttlSeconds),
    };
    await this.#ports.createContext(context);
    return context;
  }

  /** A context that exists and has not expired (expired ones may linger in storage until TTL removes them). */
  async getContext(id: string): Promise<Context> {
    const contextId = parseInput(identifier, id, 'contextId');
    const context = await this.#ports.getContext(contextId);
    if (!context || isExpired(context, this.#ports.now())) throw new NotFoundError('context', contextId);
    return context;
  }

  /**
   * Merges `patch` into a context's data. With `expectedVersion` the update is refused (409)
   * if someone else changed it since; without, it retries on concurrent changes until it lands.
   */
  async updateContext(
    id: string,
    patch: Record<string, unknown>,
    options: { expectedVersion?: number; ttlSeconds?: number } = {},
  ): Promise<Context> {
    const data = parseInput(contextData, patch, 'data');
    for (;;) {
      const current = await this.getContext(id);
      if (options.expectedVersion !== undefined && current.version !== options.expectedVersion) {
        throw new ConflictError(
          `context '${current.id}' is at version ${current.version}, not ${options.expectedVersion}`,
        );
      }
      const now = this.#ports.now();
      const next: Context = {
        ...current,
        data: { ...current.data, ...data },
        version: current.version + 1,
        updatedAt: now.toISOString(),
        expiresAt: options.ttlSeconds === undefined ? current.expiresAt : expiry(now, options.ttlSeconds),
      };
      try {
        await this.#ports.updateContext(next, current.version);
        return next;
      } catch (error) {
        if (options.expectedVersion !== undefined || !(error instanceof ConflictError)) throw error;
      }
    }
  }

  /** Ends a context now. */
  async expireContext(id: string): Promise<void> {
    await this.getContext(id);
    await this.#ports.deleteContext(id);
  }

  /** Sizes of each kind of memory. */
  async summary(): Promise<MemorySummary> {
    const [recent, types] = await Promise.all([
      this.#ports.recentResults(SHORT_TERM_SIZE),
      this.#ports.taskTypes(),
    ]);
    const patterns = await Promise.all(types.map((t) => this.#ports.patternsFor(t)));
    return {
      shortTermCount: recent.length,
      longTermTypes: types.length,
      patternsLearned: patterns.reduce((n, counters) => n + successPatterns(counters).length, 0),
    };
  }
}

function expiry(now: Date, seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  return new Date(now.getTime() + parseInput(ttlSeconds, seconds, 'ttlSeconds') * 1000).toISOString();
}
