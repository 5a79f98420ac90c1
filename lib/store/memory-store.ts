import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../core/errors.ts';
import type { Context } from '../core/memory.ts';
import type { TaskResult } from '../core/task-result.ts';
import { attempt, conditionally, epochSeconds, type Item, queryAll, shardOf, stripKeys } from './dynamo.ts';
import { BY_KIND_INDEX } from './tables.ts';

/**
 * Item layout in the memory table:
 * - `RESULT#<taskId>` / `RESULT`: one result per task, indexed by type in `byKind` (`TYPE#<type>`, `<completedAt>#<taskId>`).
 * - `RECENT#<shard>` / `<completedAt>#<taskId>`: the short-term window, spread over shards so no key is hot, with a TTL.
 * - `CONTEXT#<id>` / `CONTEXT`: named contexts, with an optional TTL.
 * - `CALL#<callId>` / `CALL`: marks a factory call as learned from, so a retried step counts it once.
 */
export interface MemoryStoreOptions {
  table: string;
  /** How long results are kept (days). */
  resultRetentionDays?: number;
  /** How long short-term entries are kept (hours); the window itself is the last 100. */
  shortTermHours?: number;
  shards?: number;
}

/** Results bigger than this are refused: DynamoDB items stop at 400 KB and the rest of the item needs room. */
export const MAX_RESULT_BYTES = 350_000;

export class MemoryStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retentionSeconds: number;
  readonly #shortTermSeconds: number;
  readonly #shards: number;

  constructor(doc: DynamoDBDocumentClient, options: MemoryStoreOptions) {
    this.#doc = doc;
    this.#table = options.table;
    this.#retentionSeconds = (options.resultRetentionDays ?? 90) * 86_400;
    this.#shortTermSeconds = (options.shortTermHours ?? 24) * 3_600;
    this.#shards = options.shards ?? 4;
  }

  async putResult(result: TaskResult): Promise<boolean> {
    const size = Buffer.byteLength(JSON.stringify(result));
    if (size > MAX_RESULT_BYTES) {
      throw new ValidationError([
        {
          field: 'output',
          message: `result is ${size} bytes; at most ${MAX_RESULT_BYTES} can be stored inline`,
        },
      ]);
    }
    const completed = new Date(result.completedAt);
    const stored = await attempt(() =>
      this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: `RESULT#${result.taskId}`,
            sk: 'RESULT',
            gsi1pk: `TYPE#${result.taskType}`,
            gsi1sk: `${result.completedAt}#${result.taskId}`,
            expiresAt: epochSeconds(completed) + this.#retentionSeconds,
            ...result,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!stored) return false;
    await this.#doc.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: `RECENT#${shardOf(result.taskId, this.#shards)}`,
          sk: `${result.completedAt}#${result.taskId}`,
          expiresAt: epochSeconds(completed) + this.#shortTermSeconds,
          ...result,
        },
      }),
    );
    return true;
  }

  markCallLearned(callId: string): Promise<boolean> {
    return attempt(() =>
      this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: `CALL#${callId}`,
            sk: 'CALL',
            expiresAt: epochSeconds(new Date()) + this.#shortTermSeconds * 7,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getResult(taskId: string): Promise<TaskResult | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: { pk: `RESULT#${taskId}`, sk: 'RESULT' } }),
    );
    return Item ? stripKeys<TaskResult>(Item) : undefined;
  }

  /** The newest `limit` results across all shards. */
  async recentResults(limit: number): Promise<TaskResult[]> {
    const perShard = await Promise.all(
      Array.from({ length: this.#shards }, (_, shard) =>
        queryAll(
          this.#doc,
          {
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `RECENT#${shard}` },
            ScanIndexForward: false,
          },
          limit,
        ),
      ),
    );
    return perShard
      .flat()
      .sort((a, b) => ((a.sk as string) < (b.sk as string) ? 1 : -1))
      .slice(0, limit)
      .map((item) => stripKeys<TaskResult>(item));
  }

  async resultsByType(taskType: string, limit: number): Promise<TaskResult[]> {
    const items = await queryAll(
      this.#doc,
      {
        TableName: this.#table,
        IndexName: BY_KIND_INDEX.indexName,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `TYPE#${taskType}` },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map((item) => stripKeys<TaskResult>(item));
  }

  async createContext(context: Context): Promise<void> {
    await conditionally(
      () =>
        this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: this.#contextItem(context),
            // An expired context that TTL has not removed yet may be replaced.
            ConditionExpression:
              'attribute_not_exists(pk) OR (attribute_exists(expiresAt) AND expiresAt <= :now)',
            ExpressionAttributeValues: { ':now': epochSeconds(new Date(context.createdAt)) },
          }),
        ),
      `context '${context.id}' already exists`,
    );
  }

  async getContext(id: string): Promise<Context | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: { pk: `CONTEXT#${id}`, sk: 'CONTEXT' } }),
    );
    if (!Item) return undefined;
    const { expiresAtIso, ...context } = stripKeys<Context & { expiresAtIso?: string }>(Item);
    return { ...context, expiresAt: expiresAtIso };
  }

  async updateContext(context: Context, expectedVersion: number): Promise<void> {
    await conditionally(
      () =>
        this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: this.#contextItem(context),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': expectedVersion },
          }),
        ),
      `context '${context.id}' changed since version ${expectedVersion}`,
    );
  }

  async deleteContext(id: string): Promise<void> {
    await this.#doc.send(
      new DeleteCommand({ TableName: this.#table, Key: { pk: `CONTEXT#${id}`, sk: 'CONTEXT' } }),
    );
  }

  #contextItem(context: Context): Item {
    return {
      pk: `CONTEXT#${context.id}`,
      sk: 'CONTEXT',
      ...context,
      expiresAt: context.expiresAt === undefined ? undefined : epochSeconds(new Date(context.expiresAt)),
      expiresAtIso: context.expiresAt,
    };
  }
}
