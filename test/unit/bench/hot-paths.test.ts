import { describe, expect, it } from 'vitest';
import { dynamoItemBytes, indexWrites, writtenAttributes } from '../../../bench/hot-paths.ts';
import type { TableDefinition } from '../../../lib/store/tables.ts';

describe('the size of an item, as DynamoDB counts it', () => {
  it('counts attribute names and string bytes', () => {
    expect(dynamoItemBytes({ pk: 'TASK#1' })).toBe(2 + 6);
    expect(dynamoItemBytes({ é: 'é' })).toBe(2 + 2);
  });

  it('counts a number by its significant digits, two a byte, plus one', () => {
    expect(dynamoItemBytes({ n: 123 })).toBe(1 + 2 + 1);
    expect(dynamoItemBytes({ n: 1_200 })).toBe(1 + 1 + 1);
    expect(dynamoItemBytes({ n: 0.5 })).toBe(1 + 1 + 1);
  });

  it('counts a boolean or null as one byte, a list or map as 3 plus 1 per element', () => {
    expect(dynamoItemBytes({ b: true, z: null })).toBe(2 + 2);
    expect(dynamoItemBytes({ l: ['ab', 'c'] })).toBe(1 + 3 + (1 + 2) + (1 + 1));
    expect(dynamoItemBytes({ m: { a: 'xy' } })).toBe(1 + 3 + (1 + 1 + 2));
    expect(dynamoItemBytes({ gone: undefined })).toBe(0);
  });
});

describe('the attributes a write sets', () => {
  it("are a put's item", () => {
    expect(writtenAttributes({ Item: { pk: 'a', sk: 'b', x: 1 } })).toEqual({ pk: 'a', sk: 'b', x: 1 });
  });

  it("are an update's key and its assignments, names resolved, removals and counters left out", () => {
    expect(
      writtenAttributes({
        Key: { pk: 'TASK#1', sk: 'TASK' },
        UpdateExpression: 'SET #f0 = :v0, #f1 = :v1 REMOVE #f2',
        ExpressionAttributeNames: { '#f0': 'status', '#f1': 'gsi1pk', '#f2': 'waiting' },
        ExpressionAttributeValues: { ':v0': 'SUCCEEDED', ':v1': 'TYPE#x' },
      }),
    ).toEqual({ pk: 'TASK#1', sk: 'TASK', status: 'SUCCEEDED', gsi1pk: 'TYPE#x' });
    expect(
      writtenAttributes({
        Key: { pk: 'RECENT#x#0', sk: 'm' },
        UpdateExpression: 'ADD #a0 :a0 SET #type = :type',
        ExpressionAttributeNames: { '#a0': 'count', '#type': 'taskType' },
        ExpressionAttributeValues: { ':a0': 1, ':type': 'x' },
      }),
    ).toEqual({ pk: 'RECENT#x#0', sk: 'm', taskType: 'x' });
  });
});

describe('the index entries a write creates', () => {
  const table = (projection: TableDefinition['globalIndexes'][number]['projection']) => ({
    partitionKey: 'pk' as const,
    sortKey: 'sk' as const,
    globalIndexes: [{ indexName: 'byType', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection }],
  });
  const finished = {
    pk: 'TASK#1',
    sk: 'TASK',
    gsi1pk: 'TYPE#x',
    gsi1sk: '2026#1',
    status: 'SUCCEEDED',
    features: ['a'],
    output: 'o'.repeat(5_000),
  };
  // pk 8, sk 6, gsi1pk 12, gsi1sk 12, status 15, features 8 + 3 + 2
  const keysAndIncluded = 8 + 6 + 12 + 12 + 15 + 13;

  it('hold the keys and the included attributes only, a write unit per started KB', () => {
    expect(indexWrites(table({ type: 'INCLUDE', attributes: ['status', 'features'] }), finished)).toEqual([
      { index: 'byType', key: 'TYPE#x', units: 1, bytes: keysAndIncluded },
    ]);
  });

  it('hold the whole item with an ALL projection', () => {
    const bytes = keysAndIncluded + 6 + 5_000;
    expect(indexWrites(table({ type: 'ALL' }), finished)).toEqual([
      { index: 'byType', key: 'TYPE#x', units: Math.ceil(bytes / 1_024), bytes },
    ]);
  });

  it('are none when the write does not set the index key', () => {
    const { gsi1pk: _gsi1pk, ...unindexed } = finished;
    expect(indexWrites(table({ type: 'ALL' }), unindexed)).toEqual([]);
  });
});
