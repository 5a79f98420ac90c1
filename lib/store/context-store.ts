import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from '../core/memory.ts';
import { conditionally, epochSeconds, type Item, stripKeys } from './dynamo.ts';

/** Named contexts in the memory table: `CONTEXT#<id>` / `CONTEXT`, with an optional TTL. */
export class ContextStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#doc = doc;
    this.#table = options.table;
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
