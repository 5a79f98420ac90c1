import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from '../core/memory.ts';
import { epochSeconds, type Item, ifVersion, stripKeys, Table } from './dynamo.ts';
import { memoryKeys } from './keys.ts';

/** Named contexts in the memory table: `CONTEXT#<id>` / `CONTEXT`, with an optional TTL. */
export class ContextStore {
  readonly #table: Table;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#table = new Table(doc, options.table);
  }

  async createContext(context: Context): Promise<void> {
    await this.#table.putOrConflict(
      contextItem(context),
      {
        // An expired context that TTL has not removed yet may be replaced.
        ConditionExpression:
          'attribute_not_exists(pk) OR (attribute_exists(expiresAt) AND expiresAt <= :now)',
        ExpressionAttributeValues: { ':now': epochSeconds(new Date(context.createdAt)) },
      },
      `context '${context.id}' already exists`,
    );
  }

  async getContext(id: string): Promise<Context | undefined> {
    const item = await this.#table.get(memoryKeys.context(id));
    if (!item) return undefined;
    const { expiresAtIso, ...context } = stripKeys<Context & { expiresAtIso?: string }>(item);
    return { ...context, expiresAt: expiresAtIso };
  }

  async updateContext(context: Context, expectedVersion: number): Promise<void> {
    await this.#table.putOrConflict(
      contextItem(context),
      ifVersion(expectedVersion),
      `context '${context.id}' changed since version ${expectedVersion}`,
    );
  }

  async deleteContext(id: string): Promise<void> {
    await this.#table.delete(memoryKeys.context(id));
  }
}

function contextItem(context: Context): Item {
  return {
    ...memoryKeys.context(context.id),
    ...context,
    expiresAt: context.expiresAt === undefined ? undefined : epochSeconds(new Date(context.expiresAt)),
    expiresAtIso: context.expiresAt,
  };
}
