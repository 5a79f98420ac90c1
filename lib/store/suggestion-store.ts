import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Suggestion } from '../core/self-improvement.ts';
import { attempt, conditionally, queryAll, stripKeys } from './dynamo.ts';
import { BY_KIND_INDEX } from './tables.ts';

/**
 * Suggestions in the patterns table: `SUGGESTION#<id>` / `SUGGESTION`, listed through the
 * `byKind` index (`SUGGESTIONS`, `<createdAt>#<id>`). Whole-record updates carry the version read.
 */
export class SuggestionStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#doc = doc;
    this.#table = options.table;
  }

  putSuggestionIfAbsent(suggestion: Suggestion): Promise<boolean> {
    return attempt(() =>
      this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: this.#item(suggestion),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getSuggestion(id: string): Promise<Suggestion | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: { pk: `SUGGESTION#${id}`, sk: 'SUGGESTION' } }),
    );
    return Item ? stripKeys<Suggestion>(Item) : undefined;
  }

  async listSuggestions(): Promise<Suggestion[]> {
    const items = await queryAll(this.#doc, {
      TableName: this.#table,
      IndexName: BY_KIND_INDEX.indexName,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': 'SUGGESTIONS' },
      ScanIndexForward: false,
    });
    return items.map((item) => stripKeys<Suggestion>(item));
  }

  async updateSuggestion(suggestion: Suggestion, expectedVersion: number): Promise<void> {
    await conditionally(
      () =>
        this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: this.#item(suggestion),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': expectedVersion },
          }),
        ),
      `suggestion '${suggestion.id}' changed since version ${expectedVersion}`,
    );
  }

  #item(suggestion: Suggestion) {
    return {
      pk: `SUGGESTION#${suggestion.id}`,
      sk: 'SUGGESTION',
      gsi1pk: 'SUGGESTIONS',
      gsi1sk: `${suggestion.createdAt}#${suggestion.id}`,
      ...suggestion,
    };
  }
}
