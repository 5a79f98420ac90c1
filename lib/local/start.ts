import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExampleFactoryKind, FaultOptions, RunningExampleFactory } from './factories/index.ts';

/**
 * `npm start`: the whole orchestrator on this machine, no AWS account, no Docker. Options come
 * from flags (`npm start -- --port 3100`) or the environment.
 */
const HELP = `Usage: npm start -- [options]

  --port N            API port (VOBEE_PORT, default 3000; 0 picks a free port)
  --host H            API host (VOBEE_HOST, default 127.0.0.1)
  --db-port N         embedded DynamoDB port (VOBEE_DB_PORT, default 8000; 0 picks a free port)
  --s3-port N         embedded S3-compatible artifact store port (VOBEE_S3_PORT, default 0: a free port)
  --data DIR          data folder (VOBEE_DATA_DIR, default .vobee/data)
  --in-memory         keep nothing on disk (VOBEE_IN_MEMORY=1)
  --factories LIST    example factories to start: media,research or none (VOBEE_FACTORIES, default media,research)
  --faults JSON       fault and latency injection per example factory (VOBEE_FACTORY_FAULTS), e.g.
                      '{"research":{"latencyMs":{"kind":"fixed","ms":300}},"media":{"failureRate":0.3,"seed":7}}'
  --no-seed           do not register the example factories as services and modules (VOBEE_SEED=0)
  --no-schedules      do not run health probes and the daily analysis on their timers (VOBEE_SCHEDULES=0)
  --table-prefix P    table name prefix (VOBEE_TABLE_PREFIX, default vobee-local)
  --help              this text`;

const env = process.env;
// Handlers log as in Lambda; locally only warnings and errors are worth a terminal line. Set
// before the handlers' modules load (hence the dynamic imports below): Powertools reads it once.
env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { startExampleFactory } = await import('./factories/index.ts');
const { startLocalRuntime } = await import('./runtime.ts');
const { seedExamples, seedWorkflows } = await import('./seed.ts');
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: env.VOBEE_PORT ?? '3000' },
    host: { type: 'string', default: env.VOBEE_HOST ?? '127.0.0.1' },
    'db-port': { type: 'string', default: env.VOBEE_DB_PORT ?? '8000' },
    's3-port': { type: 'string', default: env.VOBEE_S3_PORT ?? '0' },
    data: { type: 'string', default: env.VOBEE_DATA_DIR ?? '.vobee/data' },
    'in-memory': { type: 'boolean', default: env.VOBEE_IN_MEMORY === '1' },
    factories: { type: 'string', default: env.VOBEE_FACTORIES ?? 'media,research' },
    faults: { type: 'string', default: env.VOBEE_FACTORY_FAULTS ?? '{}' },
    'no-seed': { type: 'boolean', default: env.VOBEE_SEED === '0' },
    'no-schedules': { type: 'boolean', default: env.VOBEE_SCHEDULES === '0' },
    'table-prefix': { type: 'string', default: env.VOBEE_TABLE_PREFIX ?? 'vobee-local' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    console.error(`--${name}: expected a port number (0-65535), got '${value}'`);
    process.exit(2);
  }
  return n;
}
const kinds = values.factories === 'none' ? [] : values.factories.split(',').map((s) => s.trim());
for (const kind of kinds) {
  if (kind !== 'media' && kind !== 'research') {
    console.error(`--factories: unknown factory '${kind}'; choose from media, research or none`);
    process.exit(2);
  }
}

const started = performance.now();
const dataDir = values['in-memory'] ? undefined : resolve(values.data);
const runtime = await startLocalRuntime({
  port: port('port', values.port),
  host: values.host,
  dbPort: port('db-port', values['db-port']),
  s3Port: port('s3-port', values['s3-port']),
  dataDir,
  tablePrefix: values['table-prefix'],
  schedules: !values['no-schedules'],
  log: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
});
let faults: Partial<Record<ExampleFactoryKind, FaultOptions>>;
try {
  faults = JSON.parse(values.faults);
} catch {
  console.error(`--faults: expected JSON such as '{"media":{"failureRate":0.3}}', got '${values.faults}'`);
  process.exit(2);
}
const factories: RunningExampleFactory[] = await Promise.all(
  kinds.map((kind) =>
    startExampleFactory(kind as ExampleFactoryKind, faults[kind as ExampleFactoryKind] ?? {}),
  ),
).catch((error: Error) => {
  console.error(`--faults: ${error.message}`);
  process.exit(2);
});
const seeded = values['no-seed']
  ? []
  : [
      ...(await seedExamples(runtime.orchestrator, factories)),
      ...(factories.length === 2 ? await seedWorkflows(runtime.orchestrator) : []),
    ];
const readyMs = Math.round(performance.now() - started);

console.log(`VoBee Orchestrator (local) ready in ${readyMs} ms

  API          ${runtime.apiUrl}
  console      ${runtime.apiUrl}/console
  DynamoDB     ${runtime.dynamoEndpoint} (dynalite; data ${dataDir ?? 'in memory'})
  artifacts    ${runtime.s3Endpoint} (s3rver; ${dataDir ? `data ${dataDir}/artifacts` : 'a temporary folder'})
  factories    ${factories.map((f) => `${f.name} ${f.endpoint}`).join('\n               ') || 'none'}
  registered   ${seeded.length > 0 ? seeded.join(', ') : values['no-seed'] ? 'nothing (--no-seed)' : 'nothing new'}
  schedules    ${runtime.schedules
    .list()
    .map((s) => `${s.id} ${s.expression}`)
    .join(', ')}${values['no-schedules'] ? ' (on demand only)' : ''}

Try:  curl ${runtime.apiUrl}/services
      npx vobee services list
Local-only routes: POST /local/events, POST /local/queues/intake/messages, GET /local/queues/{intake,tasks}/dead-letters,
                   GET /local/schedules, POST /local/schedules/{id}/run, GET /local/executions/{id}
Press Ctrl-C to stop.`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping; letting running tasks finish (up to 10 s)...`);
  await Promise.all(factories.map((f) => f.close()));
  const { unfinished } = await runtime.stop(10_000);
  if (unfinished.length > 0)
    console.log(`${unfinished.length} executions were still running and were stopped`);
  console.log(`stopped; data ${dataDir ? `kept in ${dataDir}` : 'discarded (in memory)'}`);
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
