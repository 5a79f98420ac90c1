import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ScanCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type WriteRequest,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { type IndexDefinition, TABLES, type TableDefinition, type TableNames } from './tables.ts';

/**
 * Creates the tables on a local DynamoDB (dynalite or DynamoDB Local) from the shared
 * definitions. Tables that exist already keep their data and gain the indexes added since they
 * were made, so it is safe on every start and on data kept by an older version.
 * `timeToLive: false` leaves expiry off: for tables used on a clock set to a fixed date, whose
 * records the database's own sweep would otherwise take for expired and delete mid-test.
 */
export async function createTables(
  client: DynamoDBClient,
  names: TableNames,
  options: { timeToLive?: boolean } = {},
): Promise<void> {
  const timeToLive = options.timeToLive ?? true;
  await Promise.all(
    Object.values(TABLES).map((table) => createTable(client, table, names[table.id], timeToLive)),
  );
}

async function createTable(
  client: DynamoDBClient,
  table: TableDefinition,
  name: string,
  timeToLive: boolean,
): Promise<void> {
  const keyAttributes = new Set([
    table.partitionKey,
    table.sortKey,
    ...table.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ]);
  const attributeDefinitions = [...keyAttributes].map((attribute) => ({
    AttributeName: attribute,
    AttributeType: 'S' as const,
  }));
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions,
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: 'HASH' },
          { AttributeName: table.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes:
          table.globalIndexes.length === 0 ? undefined : table.globalIndexes.map(indexSpec),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await addMissingIndexes(client, table, name, attributeDefinitions, timeToLive);
    return;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.5 }, { TableName: name });
  if (!timeToLive) return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: table.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite does not implement TTL; readers check `expiresAt` themselves, so nothing is lost.
    if ((error as Error).name !== 'UnknownOperationException') throw error;
  }
}

function indexSpec(index: IndexDefinition) {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection:
      index.projection.type === 'ALL'
        ? { ProjectionType: 'ALL' as const }
        : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: index.projection.attributes },
  };
}

/**
 * Adds the indexes a table made by an older version lacks, one at a time as DynamoDB requires.
 * Items written before an index existed are not in it: a list starts with what is written after.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  table: TableDefinition,
  name: string,
  attributeDefinitions: Array<{ AttributeName: string; AttributeType: 'S' }>,
  timeToLive: boolean,
): Promise<void> {
  const described = await client.send(new DescribeTableCommand({ TableName: name }));
  const present = new Set((described.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  for (const index of table.globalIndexes.filter((i) => !present.has(i.indexName))) {
    const create = (extra: object) =>
      client.send(
        new UpdateTableCommand({
          TableName: name,
          AttributeDefinitions: attributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: { ...indexSpec(index), ...extra } }],
        }),
      );
    try {
      await create({});
    } catch (error) {
      // dynalite cannot add an index to a table (it asks for a throughput, then ignores the index).
      if (!/provisionedThroughput/i.test((error as Error).message)) throw error;
      await remake(client, table, name, timeToLive);
      return;
    }
    await indexActive(client, name, index.indexName);
  }
}

/**
 * Makes a table again with the current definition and puts its items back: how dynalite gains an
 * index. The items are saved to a file first, and the file is removed once they are back.
 */
async function remake(
  client: DynamoDBClient,
  table: TableDefinition,
  name: string,
  timeToLive: boolean,
): Promise<void> {
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const saved = join(tmpdir(), `${name}-${Date.now()}.json`);
  await writeFile(saved, JSON.stringify(items));
  await client.send(new DeleteTableCommand({ TableName: name }));
  await waitUntilTableNotExists(
    { client, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.5 },
    { TableName: name },
  );
  await createTable(client, table, name, timeToLive);
  for (let i = 0; i < items.length; i += 25) {
    let pending: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const written = await client.send(new BatchWriteItemCommand({ RequestItems: { [name]: pending } }));
      pending = written.UnprocessedItems?.[name] ?? [];
    }
  }
  await rm(saved);
}

/** Waits (up to a minute) for a new index to be backfilled and readable. */
async function indexActive(client: DynamoDBClient, name: string, indexName: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const described = await client.send(new DescribeTableCommand({ TableName: name }));
    const index = described.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === indexName);
    if (index?.IndexStatus === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new Error(`index ${indexName} of ${name} is still ${index?.IndexStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
