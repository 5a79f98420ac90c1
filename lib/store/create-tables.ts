import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type TableDefinition, type TableNames } from './tables.ts';

/**
 * Creates the tables on a local DynamoDB (dynalite or DynamoDB Local) from the shared
 * definitions. Tables that exist already are left as they are, so it is safe on every start.
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
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...keyAttributes].map((attribute) => ({
          AttributeName: attribute,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: 'HASH' },
          { AttributeName: table.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes:
          table.globalIndexes.length === 0
            ? undefined
            : table.globalIndexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' },
                  { AttributeName: index.sortKey, KeyType: 'RANGE' },
                ],
                Projection:
                  index.projection.type === 'ALL'
                    ? { ProjectionType: 'ALL' }
                    : { ProjectionType: 'INCLUDE', NonKeyAttributes: index.projection.attributes },
              })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
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
