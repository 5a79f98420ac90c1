import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { TaskRecord } from '../core/task-record.ts';
import { parameterFeatures } from '../core/task-result.ts';
import type { TaskProgress } from '../core/task-worker.ts';
import { attempt, createOrRead, epochSeconds, type Item, queryAll, stripKeys } from './dynamo.ts';
import { RESULTS_BY_TYPE_INDEX } from './tables.ts';

/**
 * Task records in the memory table: `TASK#<id>` / `TASK`. A record is written whole once, when
 * the task is submitted, then saved by each worker invocation with one conditional update on its
 * `seq`. A finished task is also a result: it enters the `resultsByType` index under one of
 * {@link RESULT_SHARDS} keys of its type (`TYPE#<type>#<shard>`, `<completedAt>#<id>`), so that a
 * busy task type does not make one index key hot, and is kept `retentionDays`.
 */
/** Index keys per task type for finished tasks: a type finishing 1,000 tasks a second writes 250 to each. */
export const RESULT_SHARDS = 4;

export class TaskStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retentionSeconds: number;

  constructor(doc: DynamoDBDocumentClient, options: { table: string; retentionDays?: number }) {
    this.#doc = doc;
    this.#table = options.table;
    this.#retentionSeconds = (options.retentionDays ?? 90) * 86_400;
  }

  putTaskIfAbsent(record: TaskRecord): Promise<TaskRecord | undefined> {
    return createOrRead(this.#doc, this.#table, { ...taskKey(record.taskId), ...record }, () =>
      this.getTask(record.taskId),
    );
  }

  /** Stores a finished task (a result reported from elsewhere) unless the id is taken; false then. */
  putFinishedIfAbsent(record: TaskRecord): Promise<boolean> {
    return attempt(() =>
      this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...taskKey(record.taskId),
            ...record,
            ...this.#resultAttributes(
              record.task.type,
              record.taskId,
              record.completedAt ?? record.updatedAt,
              parameterFeatures(record.task.parameters),
            ),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: taskKey(taskId), ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async deleteTask(taskId: string): Promise<void> {
    await this.#doc.send(new DeleteCommand({ TableName: this.#table, Key: taskKey(taskId) }));
  }

  /**
   * Claims the re-queueing of a task recorded but perhaps never queued: sets `updatedAt` to `now`
   * if the task is still PENDING at seq 0 with the `updatedAt` the caller read. Of concurrent
   * claims one wins; false for the others, and for a task a worker has taken since.
   */
  claimRequeue(taskId: string, seenUpdatedAt: string, now: string): Promise<boolean> {
    return attempt(() =>
      this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: taskKey(taskId),
          UpdateExpression: 'SET #updatedAt = :now',
          ConditionExpression: '#status = :pending AND #seq = :first AND #updatedAt = :seen',
          ExpressionAttributeNames: { '#updatedAt': 'updatedAt', '#status': 'status', '#seq': 'seq' },
          ExpressionAttributeValues: {
            ':now': now,
            ':pending': 'PENDING',
            ':first': 0,
            ':seen': seenUpdatedAt,
          },
        }),
      ),
    );
  }

  /**
   * Saves a worker's progress if the record's `seq` is `expectedSeq`, and moves `seq` on by one.
   * False when the record had moved on (a duplicate delivery) or does not exist.
   */
  saveTask(taskId: string, expectedSeq: number, progress: TaskProgress): Promise<boolean> {
    const { taskType, features, ...fields } = progress;
    const finished = progress.completedAt !== undefined;
    const values: Record<string, unknown> = {
      ...fields,
      seq: expectedSeq + 1,
      ...(finished
        ? this.#resultAttributes(taskType, taskId, progress.completedAt as string, features ?? [])
        : {}),
    };
    const names: Record<string, string> = {};
    const attributes: Item = { ':expected': expectedSeq };
    const sets: string[] = [];
    const removes: string[] = [];
    Object.entries(values).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      if (value === undefined) {
        removes.push(`#f${i}`);
      } else {
        attributes[`:v${i}`] = value;
        sets.push(`#f${i} = :v${i}`);
      }
    });
    names['#seq'] = 'seq';
    return attempt(() =>
      this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: taskKey(taskId),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#seq = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: attributes,
        }),
      ),
    );
  }

  /** The newest finished tasks of a type (newest first), at most `limit`. */
  async finishedByType(taskType: string, limit: number): Promise<TaskRecord[]> {
    const entries = await this.#queryShards(
      taskType,
      { KeyConditionExpression: 'gsi1pk = :pk', ScanIndexForward: false },
      limit,
    );
    const newest = entries
      .sort((a, b) => ((a.gsi1sk as string) < (b.gsi1sk as string) ? 1 : -1))
      .slice(0, limit);
    return this.#getMany(newest.map((k) => k.pk as string));
  }

  /**
   * Finished tasks of a type from just after position `after` (a `<completedAt>#<id>`, '' for
   * the start) up to `before` (excluded), oldest first, at most `limit`, with only what the index
   * holds: their status and parameter features.
   */
  async finishedBetween(
    taskType: string,
    after: string,
    before: string,
    limit: number,
  ): Promise<Array<{ position: string; succeeded: boolean; features: string[] }>> {
    const entries = await this.#queryShards(
      taskType,
      {
        // BETWEEN includes both ends: the item at `after` was counted already, and is dropped below.
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :after AND :before',
        ExpressionAttributeValues: { ':after': after === '' ? ' ' : after, ':before': before },
      },
      limit + 1,
    );
    return entries
      .filter((item) => (item.gsi1sk as string) > after && (item.gsi1sk as string) < before)
      .sort((a, b) => ((a.gsi1sk as string) < (b.gsi1sk as string) ? -1 : 1))
      .slice(0, limit)
      .map((item) => ({
        position: item.gsi1sk as string,
        succeeded: item.status === 'SUCCEEDED',
        features: (item.features as string[] | undefined) ?? [],
      }));
  }

  /**
   * Entries of a task type in the results index: `query` (whose key condition names the shard
   * key `:pk`) run under each of the type's shard keys at once, at most `limit` from each.
   */
  async #queryShards(
    taskType: string,
    query: { KeyConditionExpression: string; ExpressionAttributeValues?: Item; ScanIndexForward?: boolean },
    limit: number,
  ): Promise<Item[]> {
    const pages = await Promise.all(
      shards(taskType).map((pk) =>
        queryAll(
          this.#doc,
          {
            TableName: this.#table,
            IndexName: RESULTS_BY_TYPE_INDEX.indexName,
            ...query,
            ExpressionAttributeValues: { ...query.ExpressionAttributeValues, ':pk': pk },
          },
          limit,
        ),
      ),
    );
    return pages.flat();
  }

  async #getMany(partitionKeys: string[]): Promise<TaskRecord[]> {
    const records = new Map<string, TaskRecord>();
    for (let i = 0; i < partitionKeys.length; i += 100) {
      let keys: Item[] | undefined = partitionKeys.slice(i, i + 100).map((pk) => ({ pk, sk: 'TASK' }));
      while (keys && keys.length > 0) {
        const { Responses, UnprocessedKeys } = await this.#doc.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys } } }),
        );
        for (const item of Responses?.[this.#table] ?? []) records.set(item.pk as string, toRecord(item));
        keys = UnprocessedKeys?.[this.#table]?.Keys as Item[] | undefined;
      }
    }
    return partitionKeys.flatMap((pk) => records.get(pk) ?? []);
  }

  #resultAttributes(taskType: string, taskId: string, completedAt: string, features: string[]) {
    return {
      gsi1pk: `TYPE#${taskType}#${shardOf(taskId)}`,
      gsi1sk: `${completedAt}#${taskId}`,
      features,
      expiresAt: epochSeconds(new Date(completedAt)) + this.#retentionSeconds,
    };
  }
}

function taskKey(taskId: string): { pk: string; sk: string } {
  return { pk: `TASK#${taskId}`, sk: 'TASK' };
}

function toRecord(item: Item): TaskRecord {
  const { features: _features, ...record } = stripKeys<TaskRecord & { features?: string[] }>(item);
  return record;
}

/** The index keys of a type's finished tasks. */
function shards(taskType: string): string[] {
  return Array.from({ length: RESULT_SHARDS }, (_, shard) => `TYPE#${taskType}#${shard}`);
}

/** The shard of a task: a small stable hash (FNV-1a) of its id. */
function shardOf(taskId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    hash ^= taskId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % RESULT_SHARDS;
}
