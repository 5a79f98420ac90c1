import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables } from '../store/create-tables.ts';
import { tableNames } from '../store/tables.ts';
import { LOCAL_AWS, startDynalite } from './dynamodb.ts';

/**
 * `npm start`: the embedded local runtime. Today it runs the embedded DynamoDB with the
 * orchestrator's tables, persisted under the data folder; the HTTP API, workflows and example
 * factories join it as they land.
 */
const { values } = parseArgs({
  options: {
    'db-port': { type: 'string', default: process.env.VOBEE_DB_PORT ?? '8000' },
    data: { type: 'string', default: process.env.VOBEE_DATA_DIR ?? '.vobee/data' },
    'in-memory': { type: 'boolean', default: process.env.VOBEE_IN_MEMORY === '1' },
    'table-prefix': { type: 'string', default: process.env.VOBEE_TABLE_PREFIX ?? 'vobee-local' },
  },
});

const started = Date.now();
const dataDir = values['in-memory'] ? undefined : resolve(values.data);
if (dataDir) mkdirSync(dataDir, { recursive: true });
const db = await startDynalite({ port: Number(values['db-port']), path: dataDir });
const tables = tableNames(values['table-prefix']);
const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: db.endpoint });
await createTables(client, tables);
client.destroy();

console.log(`VoBee Orchestrator (local) ready in ${Date.now() - started} ms`);
console.log(`  DynamoDB   ${db.endpoint}  (dynalite; data ${dataDir ?? 'in memory'})`);
console.log(`  tables     ${Object.values(tables).join(', ')}`);
console.log('  HTTP API, workflows and example factories: not yet part of the local runtime');
console.log('Press Ctrl-C to stop.');

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping, data is kept in ${dataDir ?? 'memory (discarded)'}`);
  await db.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
