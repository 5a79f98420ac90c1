import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ListWindow, MAX_LIST_LIMIT } from '../core/list-window.ts';
import type { TaskFilter, TaskPage, TaskSummary } from '../core/task-queries.ts';
import type { TaskRecord } from '../core/task-record.ts';
import { parameterFeatures } from '../core/task-result.ts';
import type { TaskProgress } from '../core/task-worker.ts';
import { assignments, epochSeconds, IF_ABSENT, type Item, stripKeys, Table } from './dynamo.ts';
import { memoryKeys } from './keys.ts';
import { listingKeys, listNewest, shardOf } from './listing.ts';
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
  readonly #table: Table;
  readonly #retentionSeconds: number;

  constructor(doc: DynamoDBDocumentClient, options: { table: string; retentionDays?: number }) {
    this.#table = new Table(doc, options.table);
    this.#retentionSeconds = (options.retentionDays ?? 90) * 86_400;
  }

  putTaskIfAbsent(record: TaskRecord): Promise<TaskRecord | undefined> {
    return this.#table.createOrRead(
      { ...memoryKeys.task(record.taskId), ...record, ...listingAttributes(record) },
      () => this.getTask(record.taskId),
    );
  }

  /** Stores a finished task (a result reported from elsewhere) unless the id is taken; false then. */
  putFinishedIfAbsent(record: TaskRecord): Promise<boolean> {
    return this.#table.put(
      {
        ...memoryKeys.task(record.taskId),
        ...record,
        ...listingAttributes(record),
        ...this.#resultAttributes(
          record.task.type,
          record.taskId,
          record.completedAt ?? record.updatedAt,
          parameterFeatures(record.task.parameters),
        ),
      },
      IF_ABSENT,
    );
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    const item = await this.#table.get(memoryKeys.task(taskId), { consistent: true });
    return item ? toRecord(item) : undefined;
  }

  async deleteTask(taskId: string): Promise<void> {
    await this.#table.delete(memoryKeys.task(taskId));
  }

  /**
   * Claims the re-queueing of a task recorded but perhaps never queued: sets `updatedAt` to `now`
   * if the task is still PENDING at seq 0 with the `updatedAt` the caller read. Of concurrent
   * claims one wins; false for the others, and for a task a worker has taken since.
   */
  claimRequeue(taskId: string, seenUpdatedAt: string, now: string): Promise<boolean> {
    return this.#table.updateIf(memoryKeys.task(taskId), {
      UpdateExpression: 'SET #updatedAt = :now',
      ConditionExpression: '#status = :pending AND #seq = :first AND #updatedAt = :seen',
      ExpressionAttributeNames: { '#updatedAt': 'updatedAt', '#status': 'status', '#seq': 'seq' },
      ExpressionAttributeValues: { ':now': now, ':pending': 'PENDING', ':first': 0, ':seen': seenUpdatedAt },
    });
  }

  /**
   * Saves a worker's progress if the record's `seq` is `expectedSeq`, and moves `seq` on by one.
   * False when the record had moved on (a duplicate delivery) or does not exist.
   */
  saveTask(taskId: string, expectedSeq: number, progress: TaskProgress): Promise<boolean> {
    const { taskType, features, ...fields } = progress;
    const finished = progress.completedAt !== undefined;
    const last = progress.attempts[progress.attempts.length - 1];
    const { set, remove, names, values } = assignments({
      ...fields,
      ...(last ? { service: last.service } : {}),
      seq: expectedSeq + 1,
      ...(finished
        ? this.#resultAttributes(taskType, taskId, progress.completedAt as string, features ?? [])
        : {}),
    });
    return this.#table.updateIf(memoryKeys.task(taskId), {
      UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ConditionExpression: '#seq = :expected',
      ExpressionAttributeNames: { ...names, '#seq': 'seq' },
      ExpressionAttributeValues: { ...values, ':expected': expectedSeq },
    });
  }

  /** A page of tasks, newest first, of a status and type when given (see `listing.ts`). */
  async listTasks(filter: TaskFilter, window: ListWindow): Promise<TaskPage> {
    const page = await listNewest(
      this.#table,
      'TASK',
      window,
      (item) =>
        (filter.status === undefined || item.status === filter.status) &&
        (filter.type === undefined || item.taskType === filter.type),
    );
    return { tasks: page.items.map(toSummary), next: page.next };
  }

  /**
   * Whole records of the tasks created in a window that `keep` accepts (from their index entry:
   * by default, those that finished), newest first, at most `limit`: what replay and the decision
   * list read. Pages of the `byTime` index, then the records 100 to a request.
   */
  async finishedIn(
    window: Pick<ListWindow, 'since' | 'until'>,
    limit: number,
    keep: (entry: { taskType: string; status: string }) => boolean = (e) =>
      e.status === 'SUCCEEDED' || e.status === 'FAILED',
  ): Promise<TaskRecord[]> {
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await listNewest(
        this.#table,
        'TASK',
        { ...window, limit: MAX_LIST_LIMIT, ...(after === undefined ? {} : { after }) },
        (item) => keep({ taskType: item.taskType as string, status: item.status as string }),
      );
      ids.push(...page.items.map((item) => toSummary(item).taskId));
      after = page.next;
    } while (after !== undefined && ids.length < limit);
    const items = await this.#table.getMany(ids.slice(0, limit).map((id) => memoryKeys.task(id)));
    return items.map(toRecord);
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
    const items = await this.#table.getMany(newest.map((k) => ({ pk: k.pk as string, sk: k.sk as string })));
    return items.map(toRecord);
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
        this.#table.query(
          {
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

  #resultAttributes(taskType: string, taskId: string, completedAt: string, features: string[]) {
    return {
      gsi1pk: memoryKeys.resultsOfType(taskType, shardOf(taskId, RESULT_SHARDS)),
      gsi1sk: memoryKeys.resultPosition(completedAt, taskId),
      features,
      expiresAt: epochSeconds(new Date(completedAt)) + this.#retentionSeconds,
    };
  }
}

/** What the `byTime` index lists a task by, besides its status and times: see `listing.ts`. */
interface TaskListing {
  taskType: string;
  priority: string;
  /** The service of the latest call. */
  service?: string | undefined;
}

function listingAttributes(record: TaskRecord): TaskListing & { gsi2pk: string; gsi2sk: string } {
  const last = record.attempts[record.attempts.length - 1];
  return {
    ...listingKeys('TASK', record.createdAt, record.taskId),
    taskType: record.task.type,
    priority: record.task.priority,
    ...(last ? { service: last.service } : {}),
  };
}

function toSummary(item: Item): TaskSummary {
  const [, taskId] = (item.gsi2sk as string).split('#');
  return {
    taskId: taskId as string,
    type: item.taskType as string,
    status: item.status as TaskSummary['status'],
    priority: item.priority as TaskSummary['priority'],
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    ...(item.completedAt === undefined ? {} : { completedAt: item.completedAt as string }),
    ...(item.service === undefined ? {} : { service: item.service as string }),
    ...(item.error === undefined ? {} : { error: item.error as TaskSummary['error'] }),
  };
}

function toRecord(item: Item): TaskRecord {
  const {
    features: _features,
    taskType: _type,
    priority: _priority,
    service: _service,
    ...record
  } = stripKeys<TaskRecord & TaskListing & { features?: string[] }>(item);
  return record;
}

/** The index keys of a type's finished tasks. */
function shards(taskType: string): string[] {
  return Array.from({ length: RESULT_SHARDS }, (_, shard) => memoryKeys.resultsOfType(taskType, shard));
}
