import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Suggestion } from '../core/self-improvement.ts';
import { IF_ABSENT, type Item, ifVersion, stripKeys, Table } from './dynamo.ts';
import { patternKeys } from './keys.ts';
import { BY_KIND_INDEX } from './tables.ts';

/**
 * Suggestions in the patterns table: `SUGGESTION#<id>` / `SUGGESTION`, listed through the
 * `byKind` index (`SUGGESTIONS`, `<createdAt>#<id>`). Whole-record updates carry the version read.
 */
export class SuggestionStore {
  readonly #table: Table;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#table = new Table(doc, options.table);
  }

  putSuggestionIfAbsent(suggestion: Suggestion): Promise<boolean> {
    return this.#table.put(suggestionItem(suggestion), IF_ABSENT);
  }

  async getSuggestion(id: string): Promise<Suggestion | undefined> {
    const item = await this.#table.get(patternKeys.suggestion(id));
    return item ? stripKeys<Suggestion>(item) : undefined;
  }

  async listSuggestions(): Promise<Suggestion[]> {
    const items = await this.#table.query({
      IndexName: BY_KIND_INDEX.indexName,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': patternKeys.suggestions },
      ScanIndexForward: false,
    });
    return items.map((item) => stripKeys<Suggestion>(item));
  }

  async updateSuggestion(suggestion: Suggestion, expectedVersion: number): Promise<void> {
    await this.#table.putOrConflict(
      suggestionItem(suggestion),
      ifVersion(expectedVersion),
      `suggestion '${suggestion.id}' changed since version ${expectedVersion}`,
    );
  }
}

function suggestionItem(suggestion: Suggestion): Item {
  return {
    ...patternKeys.suggestion(suggestion.id),
    gsi1pk: patternKeys.suggestions,
    gsi1sk: patternKeys.suggestionPosition(suggestion.createdAt, suggestion.id),
    ...suggestion,
  };
}
