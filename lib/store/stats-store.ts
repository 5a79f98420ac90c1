import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PatternCounters } from '../core/patterns.ts';
import {
  emptyCounters,
  LATENCY_BUCKETS_MS,
  latencyBucket,
  mergeCounters,
  type OutcomeCounters,
  type ServiceStats,
} from '../core/statistics.ts';
import { patternKeys, type TaskResult } from '../core/task-result.ts';
import { epochSeconds, type Item, queryAll } from './dynamo.ts';

/**
 * Item layout in the patterns table (statistics part). Every write is an `ADD`, so concurrent
 * updates never lose a count and no read precedes a write.
 * - `STATS#<type>` / `SERVICE#<service>`: all-time counters of one (task type, service).
 * - `HOUR#<yyyy-mm-ddThh>` / `<type>#<service>`: the same counters for one hour, for windowed analysis (TTL).
 * - `RECENT#<type>` / `<yyyy-mm-ddThh:mm>#<service>`: per-minute counters for learned routing's recent window (TTL a day).
 * - `PATTERN#<type>` / `<feature>`: success and total counts per result feature.
 * - `TYPES` / `<type>`: the task types seen.
 * - `COUNTER#<name>` / `SHARD#<n>`: counters spread over shards so that no single key is hot.
 */
export interface StatsStoreOptions {
  table: string;
  hourlyRetentionDays?: number;
  counterShards?: number;
  random?: () => number;
}

const HISTOGRAM_SIZE = LATENCY_BUCKETS_MS.length + 1;
/** Minute counters are kept a day: routing reads minutes, not days. */
const RECENT_RETENTION_SECONDS = 86_400;

export class StatsStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #hourlyRetentionSeconds: number;
  readonly #shards: number;
  readonly #random: () => number;

  constructor(doc: DynamoDBDocumentClient, options: StatsStoreOptions) {
    this.#doc = doc;
    this.#table = options.table;
    this.#hourlyRetentionSeconds = (options.hourlyRetentionDays ?? 90) * 86_400;
    this.#shards = options.counterShards ?? 8;
    this.#random = options.random ?? Math.random;
  }

  /** Adds one outcome to the all-time, hourly and pattern counters and notes its task type. */
  async recordOutcome(result: TaskResult): Promise<void> {
    const hour = result.completedAt.slice(0, 13);
    const add = outcomeIncrements(result);
    const hourExpiry = epochSeconds(new Date(`${hour}:00:00Z`)) + this.#hourlyRetentionSeconds;
    await Promise.all([
      this.#add({ pk: `STATS#${result.taskType}`, sk: `SERVICE#${result.service}` }, add, {
        taskType: result.taskType,
        service: result.service,
      }),
      // The recent window: per-minute counters in one partition per type, read in one query.
      this.#add(
        { pk: `RECENT#${result.taskType}`, sk: `${result.completedAt.slice(0, 16)}#${result.service}` },
        {
          count: 1,
          successes: add.successes as number,
          failures: add.failures as number,
          timeouts: add.timeouts as number,
          totalMs: result.executionMs,
        },
        {
          taskType: result.taskType,
          service: result.service,
          expiresAt: epochSeconds(new Date(result.completedAt)) + RECENT_RETENTION_SECONDS,
        },
      ),
      this.#add({ pk: `HOUR#${hour}`, sk: `${result.taskType}#${result.service}` }, add, {
        taskType: result.taskType,
        service: result.service,
        expiresAt: hourExpiry,
      }),
      ...patternKeys(result).map((key) =>
        this.#add(
          { pk: `PATTERN#${result.taskType}`, sk: key },
          { total: 1, successes: result.success ? 1 : 0 },
          {
            taskType: result.taskType,
          },
        ),
      ),
      this.#doc.send(new PutCommand({ TableName: this.#table, Item: { pk: 'TYPES', sk: result.taskType } })),
    ]);
  }

  /** Counters of each service for a task type over the minutes since `since` (the histogram stays empty). */
  async recentStatsFor(taskType: string, since: Date): Promise<ServiceStats[]> {
    const items = await queryAll(this.#doc, {
      TableName: this.#table,
      KeyConditionExpression: 'pk = :pk AND sk >= :from',
      ExpressionAttributeValues: { ':pk': `RECENT#${taskType}`, ':from': since.toISOString().slice(0, 16) },
    });
    const groups = Map.groupBy(items.map(toServiceStats), (s) => s.service);
    return [...groups.values()].map((rows) => ({
      taskType,
      service: (rows[0] as ServiceStats).service,
      ...mergeCounters(rows),
    }));
  }

  async statsFor(taskType: string): Promise<ServiceStats[]> {
    const items = await this.#query(`STATS#${taskType}`);
    return items.map(toServiceStats);
  }

  /** Counters of every (type, service) summed over the hours from `from` to `to`, both included. */
  async windowStats(from: Date, to: Date): Promise<ServiceStats[]> {
    const hours: string[] = [];
    for (let t = Math.floor(from.getTime() / 3_600_000); t <= Math.floor(to.getTime() / 3_600_000); t++) {
      hours.push(new Date(t * 3_600_000).toISOString().slice(0, 13));
    }
    const items = (await Promise.all(hours.map((hour) => this.#query(`HOUR#${hour}`))))
      .flat()
      .map(toServiceStats);
    const groups = Map.groupBy(items, (s) => `${s.taskType}#${s.service}`);
    return [...groups.values()].map((rows) => ({
      taskType: (rows[0] as ServiceStats).taskType,
      service: (rows[0] as ServiceStats).service,
      ...mergeCounters(rows),
    }));
  }

  async taskTypes(): Promise<string[]> {
    return (await this.#query('TYPES')).map((item) => item.sk as string);
  }

  async patternsFor(taskType: string): Promise<PatternCounters[]> {
    return (await this.#query(`PATTERN#${taskType}`)).map((item) => ({
      taskType,
      key: item.sk as string,
      total: Number(item.total ?? 0),
      successes: Number(item.successes ?? 0),
    }));
  }

  /** Adds to named fields of a sharded counter. */
  async incrementCounter(name: string, fields: Record<string, number>): Promise<void> {
    await this.#add({ pk: `COUNTER#${name}`, sk: `SHARD#${this.#shard()}` }, fields, {});
  }

  /** The fields of a sharded counter summed over its shards. */
  async readCounter(name: string): Promise<Record<string, number>> {
    const totals: Record<string, number> = {};
    for (const item of await this.#query(`COUNTER#${name}`)) {
      for (const [field, value] of Object.entries(item)) {
        if (typeof value === 'number') totals[field] = (totals[field] ?? 0) + value;
      }
    }
    return totals;
  }

  /**
   * A ticket from a counter shared by all instances. Each call lands on a random shard; a shard's
   * value plus its index walks through every residue, so `tick % n` stays even over n services.
   */
  async nextTick(name: string): Promise<number> {
    const shard = this.#shard();
    const { Attributes } = await this.#doc.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: `TICK#${name}`, sk: `SHARD#${shard}` },
        UpdateExpression: 'ADD #v :one',
        ExpressionAttributeNames: { '#v': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.value) + shard;
  }

  #shard(): number {
    return Math.floor(this.#random() * this.#shards);
  }

  async #add(key: Item, increments: Record<string, number>, set: Item): Promise<void> {
    const names: Record<string, string> = {};
    const values: Item = {};
    const adds = Object.entries(increments).map(([field, amount], i) => {
      names[`#a${i}`] = field;
      values[`:a${i}`] = amount;
      return `#a${i} :a${i}`;
    });
    const sets = Object.entries(set).map(([field, value], i) => {
      names[`#s${i}`] = field;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: key,
        UpdateExpression: `ADD ${adds.join(', ')}${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  #query(pk: string): Promise<Item[]> {
    return queryAll(this.#doc, {
      TableName: this.#table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
  }
}

/** The ADD amounts of one outcome: counts, latency sum and one histogram bucket (`h<index>`). */
function outcomeIncrements(result: TaskResult): Record<string, number> {
  return {
    count: 1,
    successes: result.success ? 1 : 0,
    failures: result.success ? 0 : 1,
    timeouts: result.error?.kind === 'timeout' ? 1 : 0,
    totalMs: result.executionMs,
    [`h${latencyBucket(result.executionMs)}`]: 1,
  };
}

function toServiceStats(item: Item): ServiceStats {
  const counters: OutcomeCounters = emptyCounters();
  counters.count = Number(item.count ?? 0);
  counters.successes = Number(item.successes ?? 0);
  counters.failures = Number(item.failures ?? 0);
  counters.timeouts = Number(item.timeouts ?? 0);
  counters.totalMs = Number(item.totalMs ?? 0);
  counters.histogram = Array.from({ length: HISTOGRAM_SIZE }, (_, i) => Number(item[`h${i}`] ?? 0));
  return { taskType: item.taskType as string, service: item.service as string, ...counters };
}
