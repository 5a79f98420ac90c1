import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../core/errors.ts';

export type Item = Record<string, unknown>;

/** True when DynamoDB refused a write because its condition did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Runs a conditional write; a failed condition becomes a {@link ConflictError} with `message`. */
export async function conditionally<T>(write: () => Promise<T>, message: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isConditionFailure(error)) throw new ConflictError(message, { cause: error });
    throw error;
  }
}

/** Runs a conditional write and reports whether the condition held. */
export async function attempt(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Creates an item unless one with its key exists; then returns what `existing` reads instead.
 * The way every "once per id" record is written (tasks, workflow runs).
 */
export async function createOrRead<T>(
  doc: DynamoDBDocumentClient,
  table: string,
  item: Item,
  existing: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const created = await attempt(() =>
    doc.send(
      new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    ),
  );
  return created ? undefined : existing();
}

/** All items of a query, following pagination up to `limit` items. */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Infinity,
): Promise<Item[]> {
  const items: Item[] = [];
  let ExclusiveStartKey: Item | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        ...input,
        ExclusiveStartKey,
        Limit: Number.isFinite(limit) ? Math.min(limit - items.length, 1_000) : input.Limit,
      }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    ExclusiveStartKey = page.LastEvaluatedKey as Item | undefined;
  } while (ExclusiveStartKey && items.length < limit);
  return items;
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** Removes the key and index attributes from an item before it is handed to the domain. */
export function stripKeys<T>(item: Item): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _e, ...rest } = item;
  return rest as T;
}
