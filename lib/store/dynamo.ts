import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../core/errors.ts';

/**
 * The one way the stores read and write DynamoDB: a {@link Table} with conditional put, update and
 * "create or read" helpers, and expression builders for writes whose fields vary. Keys come from
 * `keys.ts`.
 */
export type Item = Record<string, unknown>;

export type Key = { pk: string; sk: string };

/** A condition, with the names and values it uses. */
export interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string> | undefined;
  ExpressionAttributeValues?: Item | undefined;
}

/** An update expression, optionally conditional, with the names and values it uses. */
export interface UpdateSpec {
  UpdateExpression: string;
  ConditionExpression?: string | undefined;
  ExpressionAttributeNames?: Record<string, string> | undefined;
  ExpressionAttributeValues?: Item | undefined;
}

/** The condition of a write that only creates. */
export const IF_ABSENT: Condition = { ConditionExpression: 'attribute_not_exists(pk)' };
/** The condition of a write that only changes an item that exists. */
export const IF_PRESENT: Condition = { ConditionExpression: 'attribute_exists(pk)' };

/** The condition of a whole-record write that carries the version it read: none yet, or that one. */
export function ifVersion(expected: number | undefined, attribute = 'version'): Condition {
  return expected === undefined
    ? IF_ABSENT
    : {
        ConditionExpression: '#version = :expectedVersion',
        ExpressionAttributeNames: { '#version': attribute },
        ExpressionAttributeValues: { ':expectedVersion': expected },
      };
}

/**
 * The condition that `attribute` holds one of `values`. An item without the attribute passes too
 * when `absentMeans` (what a missing attribute stands for) is one of them.
 */
export function oneOf(attribute: string, values: readonly string[], absentMeans?: string): Condition {
  const placeholders = values.map((_, i) => `:oneOf${i}`);
  const inList = `#oneOf IN (${placeholders.join(', ')})`;
  return {
    ConditionExpression:
      absentMeans !== undefined && values.includes(absentMeans)
        ? `attribute_not_exists(#oneOf) OR ${inList}`
        : inList,
    ExpressionAttributeNames: { '#oneOf': attribute },
    ExpressionAttributeValues: Object.fromEntries(values.map((value, i) => [placeholders[i], value])),
  };
}

/** True when DynamoDB refused a write because its condition did not hold. */
function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Runs a conditional write and reports whether the condition held. */
async function attempt(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export class Table {
  readonly doc: DynamoDBDocumentClient;
  readonly name: string;

  constructor(doc: DynamoDBDocumentClient, name: string) {
    this.doc = doc;
    this.name = name;
  }

  async get(key: Key, options: { consistent?: boolean } = {}): Promise<Item | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.name, Key: key, ConsistentRead: options.consistent }),
    );
    return Item as Item | undefined;
  }

  /** Items by key, 100 to a request, in the order of `keys`; keys without an item are left out. */
  async getMany(keys: readonly Key[], options: { consistent?: boolean } = {}): Promise<Item[]> {
    const id = (key: Item) => `${String(key.pk)}\u0000${String(key.sk)}`;
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += 100) {
      let batch: Item[] | undefined = keys.slice(i, i + 100);
      while (batch && batch.length > 0) {
        const { Responses, UnprocessedKeys } = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.name]: { Keys: batch, ConsistentRead: options.consistent } },
          }),
        );
        for (const item of Responses?.[this.name] ?? []) found.set(id(item), item);
        batch = UnprocessedKeys?.[this.name]?.Keys as Item[] | undefined;
      }
    }
    return keys.flatMap((key) => {
      const item = found.get(id(key));
      return item ? [item] : [];
    });
  }

  /** Writes an item whole; with a condition, false when it did not hold (nothing written). */
  put(item: Item, condition?: Condition): Promise<boolean> {
    return attempt(() => this.doc.send(new PutCommand({ TableName: this.name, Item: item, ...condition })));
  }

  /** {@link put} whose failed condition is a {@link ConflictError} with `message`. */
  async putOrConflict(item: Item, condition: Condition, message: string): Promise<void> {
    if (!(await this.put(item, condition))) throw new ConflictError(message);
  }

  /**
   * Creates an item unless one with its key exists; then returns what `existing` reads instead.
   * The way every "once per id" record is written (tasks, workflow runs).
   */
  async createOrRead<T>(item: Item, existing: () => Promise<T | undefined>): Promise<T | undefined> {
    return (await this.put(item, IF_ABSENT)) ? undefined : existing();
  }

  /**
   * Updates an item and returns its attributes after the update (or, with `returnValues`, those
   * the update changed, or all of them before it); undefined when the update's condition did not hold.
   */
  async update(
    key: Key,
    spec: UpdateSpec,
    returnValues: 'ALL_NEW' | 'UPDATED_NEW' | 'ALL_OLD' = 'ALL_NEW',
  ): Promise<Item | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({ TableName: this.name, Key: key, ReturnValues: returnValues, ...spec }),
      );
      return (Attributes ?? {}) as Item;
    } catch (error) {
      if (spec.ConditionExpression !== undefined && isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** An update whose result is only whether its condition held. */
  updateIf(key: Key, spec: UpdateSpec): Promise<boolean> {
    return attempt(() => this.doc.send(new UpdateCommand({ TableName: this.name, Key: key, ...spec })));
  }

  /** Deletes an item; with a condition, false when it did not hold. */
  delete(key: Key, condition?: Condition): Promise<boolean> {
    return attempt(() => this.doc.send(new DeleteCommand({ TableName: this.name, Key: key, ...condition })));
  }

  /** All items of a query, following pagination up to `limit` items. */
  async query(input: Omit<QueryCommandInput, 'TableName'>, limit = Infinity): Promise<Item[]> {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          ...input,
          TableName: this.name,
          ExclusiveStartKey,
          Limit: Number.isFinite(limit) ? Math.min(limit - items.length, 1_000) : input.Limit,
        }),
      );
      items.push(...((page.Items ?? []) as Item[]));
      ExclusiveStartKey = page.LastEvaluatedKey as Item | undefined;
    } while (ExclusiveStartKey && items.length < limit);
    return items;
  }

  /** One page of a query, and the key to go on from when there is more. */
  async queryPage(input: Omit<QueryCommandInput, 'TableName'>): Promise<{ items: Item[]; lastKey?: Item }> {
    const page = await this.doc.send(new QueryCommand({ ...input, TableName: this.name }));
    return {
      items: (page.Items ?? []) as Item[],
      ...(page.LastEvaluatedKey ? { lastKey: page.LastEvaluatedKey as Item } : {}),
    };
  }

  /** Every item of a partition, optionally only those whose sort key starts with `prefix`. */
  queryPartition(pk: string, options: { prefix?: string; consistent?: boolean } = {}): Promise<Item[]> {
    return this.query({
      KeyConditionExpression:
        options.prefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': pk,
        ...(options.prefix === undefined ? {} : { ':prefix': options.prefix }),
      },
      ConsistentRead: options.consistent,
    });
  }
}

/**
 * `SET` (and `REMOVE`, for fields set to undefined) clauses of an update of the given fields, with
 * placeholder names so that any field name is allowed. `prefix` keeps placeholders of several
 * builders in one expression apart.
 */
export function assignments(
  fields: Record<string, unknown>,
  prefix = 'f',
): { set: string[]; remove: string[]; names: Record<string, string>; values: Item } {
  const names: Record<string, string> = {};
  const values: Item = {};
  const set: string[] = [];
  const remove: string[] = [];
  Object.entries(fields).forEach(([field, value], i) => {
    names[`#${prefix}${i}`] = field;
    if (value === undefined) {
      remove.push(`#${prefix}${i}`);
    } else {
      values[`:${prefix}${i}`] = value;
      set.push(`#${prefix}${i} = :${prefix}${i}`);
    }
  });
  return { set, remove, names, values };
}

/** `ADD` clauses of the given amounts (zeros left out), with placeholder names. */
export function additions(
  amounts: Record<string, number>,
  prefix = 'a',
): { add: string[]; names: Record<string, string>; values: Item } {
  const names: Record<string, string> = {};
  const values: Item = {};
  const add = Object.entries(amounts)
    .filter(([, n]) => n !== 0)
    .map(([field, n], i) => {
      names[`#${prefix}${i}`] = field;
      values[`:${prefix}${i}`] = n;
      return `#${prefix}${i} :${prefix}${i}`;
    });
  return { add, names, values };
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** Removes the key and index attributes from an item before it is handed to the domain. */
export function stripKeys<T>(item: Item): T {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _g1,
    gsi1sk: _g2,
    gsi2pk: _g3,
    gsi2sk: _g4,
    expiresAt: _e,
    ...rest
  } = item;
  return rest as T;
}
