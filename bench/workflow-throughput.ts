/**
 * Workflow throughput: the 4-step Product Launch Campaign through the local runtime, side by side
 * with a plain async function that makes the same four factory calls in the same order to the
 * same example factories (the floor: what the campaign costs with no orchestrator at all).
 *
 * For each factory latency (0 ms, then 50 ms) one fresh runtime and one pair of factories are
 * started; the plain function runs first, then the runtime, each after a few untimed warm-up
 * runs. Runtime runs are started through the HTTP API and their end is read from the local
 * engine (`waitFor`), never by polling the API. DynamoDB requests are counted by command with a
 * middleware on the runtime's client. `npx tsx bench/workflow-throughput.ts` prints the report.
 *
 * The local runtime's modules are imported inside the functions, after the Powertools variables
 * are set: Powertools reads them once, when the handlers' modules load.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WorkflowTemplateInput } from '../lib/core/workflow/template.ts';
import type { RunningExampleFactory } from '../lib/local/factories/index.ts';
import type { LocalRuntime } from '../lib/local/runtime.ts';
import { TABLES, type TableDefinition, type TableId } from '../lib/store/tables.ts';
import { DATA_COMMANDS, indexWrites, writtenAttributes } from './hot-paths.ts';
import { quantile } from './routing-quality.ts';

export interface WorkflowThroughputOptions {
  /** Timed runs of each side in the throughput measurements. */
  runs: number;
  /** Runs in flight at once in the throughput measurements. */
  concurrency: number;
  /** Untimed runs before each throughput measurement (same concurrency). */
  warmupRuns: number;
  /** Timed runs, one at a time, with the factories at 50 ms. */
  singleRuns: number;
  /** Untimed runs before the one-at-a-time measurement. */
  singleWarmupRuns: number;
}

export const DEFAULT_WORKFLOW_THROUGHPUT_OPTIONS: WorkflowThroughputOptions = {
  runs: 200,
  concurrency: 8,
  warmupRuns: 16,
  singleRuns: 30,
  singleWarmupRuns: 3,
};

/** The campaign's workflow id, as in cdk/workflows/product-launch-campaign.json. */
export const CAMPAIGN_WORKFLOW_ID = 'product-launch-campaign';

/** Factory latencies measured: at once, and a latency that dominates local overheads. */
const FAST_MS = 0;
const SLOW_MS = 50;

// ---- the plain function ----------------------------------------------------------------------

export type CampaignStepId = 'research_market' | 'discover_trends' | 'generate_images' | 'generate_video';

/** One factory call of the campaign: which example factory, and the body's action and parameters. */
export interface CampaignCall {
  stepId: CampaignStepId;
  factoryType: 'research' | 'media';
  action: string;
  parameters: Record<string, unknown>;
}

/** What the plain function calls; it answers the factory's `output` or throws. */
export type CallStep = (call: CampaignCall) => Promise<unknown>;

/** Each step's dependencies, as in the template: the plain runner keeps exactly this order. */
export const CAMPAIGN_DEPENDENCIES: Readonly<Record<CampaignStepId, readonly CampaignStepId[]>> = {
  research_market: [],
  discover_trends: [],
  generate_images: ['research_market'],
  generate_video: ['generate_images'],
};

/** A field of an earlier output, as a `{{steps.<id>.output.<field>}}` reference reads it. */
function field(output: unknown, name: string, stepId: CampaignStepId): unknown {
  const value = (output as Record<string, unknown> | null | undefined)?.[name];
  if (value === undefined) throw new Error(`${stepId}: the output has no '${name}'`);
  return value;
}

/** A reference inside longer text is put in as text, JSON for anything but a string (as the step runner does). */
const inline = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * The video the bench asks for: one second, 32×18, at 4 frames a second, small enough to come back
 * inline. The campaign's own 30-second video is a multi-MB upload whose encoding would be most of
 * each run; both sides ask for this one instead (see {@link benchCampaign}), so the runs measure
 * orchestration. The images, above the inline limit, still travel by reference in the runtime.
 */
export const BENCH_VIDEO = { duration: 1, fps: 4, width: 32, height: 18 } as const;

/** The campaign template as the bench runs it: the bundled one, with {@link BENCH_VIDEO}. */
export function benchCampaign(template: WorkflowTemplateInput): WorkflowTemplateInput {
  return {
    ...template,
    steps: template.steps.map((step) =>
      step.step_id === 'generate_video'
        ? { ...step, parameters: { ...step.parameters, ...BENCH_VIDEO } }
        : step,
    ),
  };
}

/** The four calls, with parameters built from earlier outputs as the template's references are. */
export const CAMPAIGN_CALLS = {
  research_market: (): CampaignCall => ({
    stepId: 'research_market',
    factoryType: 'research',
    action: 'market_analysis',
    parameters: { market_sector: 'technology', depth: 'comprehensive' },
  }),
  discover_trends: (): CampaignCall => ({
    stepId: 'discover_trends',
    factoryType: 'research',
    action: 'discover_technology',
    parameters: { query: 'emerging tech trends' },
  }),
  generate_images: (market: unknown): CampaignCall => ({
    stepId: 'generate_images',
    factoryType: 'media',
    action: 'generate_images',
    parameters: {
      prompts: ['Product hero', 'Product detail'],
      brief: `Market insight: ${inline(field(market, 'summary', 'research_market'))}`,
    },
  }),
  generate_video: (images: unknown): CampaignCall => ({
    stepId: 'generate_video',
    factoryType: 'media',
    action: 'generate_video',
    // `{{steps.generate_images.output}}`: the whole output.
    parameters: { prompt: 'Product showcase', ...BENCH_VIDEO, images },
  }),
} as const;

/**
 * The campaign as a plain async function: research_market and discover_trends start together,
 * generate_images as soon as research_market is done, generate_video once the images are. The
 * run ends when every call has answered; the first failure fails it.
 */
export async function runCampaign(call: CallStep): Promise<Record<CampaignStepId, unknown>> {
  const market = call(CAMPAIGN_CALLS.research_market());
  const trends = call(CAMPAIGN_CALLS.discover_trends());
  const images = market.then((output) => call(CAMPAIGN_CALLS.generate_images(output)));
  const video = images.then((output) => call(CAMPAIGN_CALLS.generate_video(output)));
  // Every branch is awaited, so a failure in one never leaves another's rejection unhandled.
  const [m, t, i, v] = await Promise.all([market, trends, images, video]);
  return { research_market: m, discover_trends: t, generate_images: i, generate_video: v };
}

/**
 * Differences between the plain function and a template: step ids, factory types, actions,
 * dependencies, and every parameter that holds no `{{steps...}}` reference. Empty when the two
 * do the same work, so the comparison stays like for like when the template changes.
 */
export function differencesFromTemplate(template: WorkflowTemplateInput): string[] {
  const sample = { summary: 'S', images: ['I'] };
  const plain = [
    CAMPAIGN_CALLS.research_market(),
    CAMPAIGN_CALLS.discover_trends(),
    CAMPAIGN_CALLS.generate_images(sample),
    CAMPAIGN_CALLS.generate_video(sample),
  ];
  const problems: string[] = [];
  const ids = template.steps.map((s) => s.step_id).sort();
  const plainIds = plain.map((c) => c.stepId).sort();
  if (!isDeepStrictEqual(ids, plainIds)) problems.push(`steps: template ${ids}, plain ${plainIds}`);
  for (const call of plain) {
    const step = template.steps.find((s) => s.step_id === call.stepId);
    if (!step) continue;
    if (step.factory_type !== call.factoryType)
      problems.push(`${call.stepId}: factory type ${step.factory_type}, plain ${call.factoryType}`);
    if (step.action !== call.action)
      problems.push(`${call.stepId}: action ${step.action}, plain ${call.action}`);
    const deps = [...(step.dependencies ?? [])].sort();
    const plainDeps = [...CAMPAIGN_DEPENDENCIES[call.stepId]].sort();
    if (!isDeepStrictEqual(deps, plainDeps))
      problems.push(`${call.stepId}: dependencies ${deps}, plain ${plainDeps}`);
    const keys = [...Object.keys(step.parameters ?? {})].sort();
    const plainKeys = Object.keys(call.parameters).sort();
    if (!isDeepStrictEqual(keys, plainKeys))
      problems.push(`${call.stepId}: parameters ${keys}, plain ${plainKeys}`);
    for (const [key, value] of Object.entries(step.parameters ?? {})) {
      if (typeof value === 'string' && value.includes('{{steps.')) continue;
      if (!isDeepStrictEqual(value, call.parameters[key]))
        problems.push(`${call.stepId}: parameter ${key} differs`);
    }
  }
  return problems;
}

// ---- measuring --------------------------------------------------------------------------------

/** One run as the pool saw it. */
export interface RunResult {
  ms: number;
  ok: boolean;
  error?: string;
}

/**
 * Runs `count` runs with at most `concurrency` in flight, each starting as soon as one ends.
 * A run that throws is a failed run with its message; the pool itself never throws.
 */
export async function runPool(
  count: number,
  concurrency: number,
  one: (index: number) => Promise<void>,
): Promise<{ results: RunResult[]; wallMs: number }> {
  const results: RunResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const start = performance.now();
      try {
        await one(index);
        results.push({ ms: performance.now() - start, ok: true });
      } catch (error) {
        results.push({ ms: performance.now() - start, ok: false, error: (error as Error).message });
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.max(0, Math.min(concurrency, count)) }, worker));
  return { results, wallMs: performance.now() - start };
}

/** Latency quantiles of the succeeded runs (ms). */
export interface LatencySummary {
  p50: number;
  p95: number;
  max: number;
}

/** One side of one measurement: throughput counts succeeded runs only. */
export interface SideSummary {
  runs: number;
  concurrency: number;
  succeeded: number;
  failed: number;
  /** Distinct failure messages, at most five. */
  errors: string[];
  wallMs: number;
  /** Succeeded runs per second of wall time. */
  runsPerSecond: number;
  latencyMs: LatencySummary;
}

export function summarizeLatency(values: readonly number[]): LatencySummary {
  return {
    p50: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** Throughput and latency of a pool's results; a failed run adds to the wall time, not to the runs/s. */
export function summarizeSide(
  results: readonly RunResult[],
  wallMs: number,
  concurrency: number,
): SideSummary {
  const succeeded = results.filter((r) => r.ok);
  return {
    runs: results.length,
    concurrency,
    succeeded: succeeded.length,
    failed: results.length - succeeded.length,
    errors: [...new Set(results.flatMap((r) => (r.error === undefined ? [] : [r.error])))].slice(0, 5),
    wallMs,
    runsPerSecond: wallMs > 0 ? (succeeded.length / wallMs) * 1_000 : Number.NaN,
    latencyMs: summarizeLatency(succeeded.map((r) => r.ms)),
  };
}

/** Local runs per second over the floor's; NaN when the floor did nothing. */
export function ratioToFloor(
  local: Pick<SideSummary, 'runsPerSecond'>,
  floor: Pick<SideSummary, 'runsPerSecond'>,
) {
  return floor.runsPerSecond > 0 && Number.isFinite(floor.runsPerSecond)
    ? local.runsPerSecond / floor.runsPerSecond
    : Number.NaN;
}

/** What a run through the runtime adds to one run of the plain function, at the median (ms). */
export function singleRunOverheadMs(
  local: Pick<SideSummary, 'latencyMs'>,
  floor: Pick<SideSummary, 'latencyMs'>,
): number {
  return local.latencyMs.p50 - floor.latencyMs.p50;
}

/**
 * Requests counted under `<command> <table>` keys (see `RequestCounter`), divided by the runs
 * they served: in all, by command, and by command and table; and their request units.
 */
export function perRun(tally: RequestTally, runs: number) {
  const share = (n: number) => (runs > 0 ? n / runs : Number.NaN);
  const byCommand: Record<string, number> = {};
  const byCommandAndTable: Record<string, number> = {};
  let total = 0;
  for (const [key, n] of [...tally.requests].sort(([a], [b]) => a.localeCompare(b))) {
    const command = key.split(' ')[0] as string;
    byCommand[command] = (byCommand[command] ?? 0) + n;
    byCommandAndTable[key] = n;
    total += n;
  }
  const divided = (row: Record<string, number>) =>
    Object.fromEntries(Object.entries(row).map(([key, n]) => [key, share(n)]));
  return {
    total: share(total),
    byCommand: divided(byCommand),
    byCommandAndTable: divided(byCommandAndTable),
    readUnits: share(tally.readUnits),
    writeUnits: share(tally.writeUnits),
  };
}

/**
 * The local engine's id of a run started on `startedArn` (state machine, version or alias ARN)
 * under `name`: `arn:aws:states:<region>:<account>:execution:<state machine name>:<name>`, as
 * `LocalEngine.start` makes it. Waiting on a wrong id fails at once (the engine does not know it).
 */
export function localExecutionArn(startedArn: string, name: string): string {
  const [account, machine] = startedArn.split(':stateMachine:') as [string, string];
  return `${account}:execution:${machine.split(':')[0]}:${name}`;
}

/**
 * Whether the engine ran this run of the campaign to the end: every campaign step has
 * `on_failure: 'fail'`, so a SUCCEEDED execution had all four steps succeed, and its final
 * state names the run it worked for.
 */
export function campaignSucceeded(end: { status: string; output?: unknown }, runId: string): boolean {
  return (
    end.status === 'SUCCEEDED' && (end.output as { run?: { id?: string } } | undefined)?.run?.id === runId
  );
}

// ---- the two sides over HTTP -------------------------------------------------------------------

function quietPowertools(): void {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
}

/** `POST {endpoint}/execute` and the JSON answer, as the orchestrator's factory client does it. */
function httpCaller(
  endpoints: Readonly<Record<CampaignCall['factoryType'], string>>,
  runId: string,
): CallStep {
  return async (call) => {
    const response = await fetch(`${endpoints[call.factoryType].replace(/\/+$/, '')}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        action: call.action,
        parameters: call.parameters,
        taskId: `${runId}.${call.stepId}`,
        context: {},
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { status?: string; output?: unknown };
    if (!response.ok || body.status === 'failed')
      throw new Error(`${call.stepId}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return body.output ?? null;
  };
}

/** One campaign run through the runtime: POST the start, then wait on the engine, not the API. */
async function runThroughRuntime(runtime: LocalRuntime, aliasArn: string): Promise<void> {
  const response = await fetch(`${runtime.apiUrl}/workflows/${CAMPAIGN_WORKFLOW_ID}/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await response.json()) as { executionId?: string };
  if (response.status !== 202 || body.executionId === undefined)
    throw new Error(`POST executions answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
  const end = await runtime.engine.waitFor(localExecutionArn(aliasArn, body.executionId));
  if (end.status !== 'SUCCEEDED') throw new Error(`run ${end.status}: ${end.error ?? ''} ${end.cause ?? ''}`);
  if (!campaignSucceeded(end, body.executionId)) throw new Error('run SUCCEEDED without naming its run');
}

/** Requests counted under `<command> <table>`, and the request units they consumed. */
interface RequestTally {
  requests: Map<string, number>;
  readUnits: number;
  /** Table writes as DynamoDB reports them, plus index writes estimated from the projection. */
  writeUnits: number;
}

const emptyTally = (): RequestTally => ({ requests: new Map(), readUnits: 0, writeUnits: 0 });

/**
 * The runtime's DynamoDB requests, counted into whichever tally is current under
 * `<command> <table>` (the table without its prefix: memory, patterns, registry), with their
 * request units (`ReturnConsumedCapacity: INDEXES`, which changes neither the request nor its
 * cost; dynalite reports no index writes, so those are estimated as the task benchmark does).
 */
class RequestCounter {
  current = emptyTally();
  constructor(readonly tablePrefix: string) {}
  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        const command = context.commandName ?? 'unknown';
        const tableName = String(input.TableName ?? '-');
        const tableId = tableName.replace(`${this.tablePrefix}-`, '');
        const tally = this.current;
        const key = `${command} ${tableId}`;
        tally.requests.set(key, (tally.requests.get(key) ?? 0) + 1);
        const kind = DATA_COMMANDS[command];
        if (kind) input.ReturnConsumedCapacity = 'INDEXES';
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } })
          .ConsumedCapacity;
        const units = Number(consumed?.CapacityUnits ?? 0);
        if (kind === 'read') tally.readUnits += units;
        if (kind === 'write') {
          const table = TABLES[tableId as TableId] as TableDefinition | undefined;
          const indexUnits = table
            ? indexWrites(table, writtenAttributes(input)).reduce((sum, w) => sum + w.units, 0)
            : 0;
          tally.writeUnits += units + indexUnits;
        }
        return result;
      },
      { step: 'initialize', name: 'workflowThroughputCounter' },
    );
  }
  /** Starts a new tally and returns the one that ended. */
  swap(): RequestTally {
    const ended = this.current;
    this.current = emptyTally();
    return ended;
  }
}

const total = (tally: RequestTally) => [...tally.requests.values()].reduce((a, b) => a + b, 0);

interface Setting {
  factories: RunningExampleFactory[];
  runtime: LocalRuntime;
  counter: RequestCounter;
  aliasArn: string;
  endpoints: Record<CampaignCall['factoryType'], string>;
}

/** A fresh runtime (in memory) and a pair of example factories answering after `latencyMs`. */
async function startSetting(latencyMs: number): Promise<Setting> {
  quietPowertools();
  const { startLocalRuntime } = await import('../lib/local/runtime.ts');
  const { startExampleFactory } = await import('../lib/local/factories/index.ts');
  const { seedExamples, bundledWorkflowTemplates } = await import('../lib/local/seed.ts');
  const bundled = bundledWorkflowTemplates().find((t) => t.workflow_id === CAMPAIGN_WORKFLOW_ID);
  if (!bundled) throw new Error(`no bundled template '${CAMPAIGN_WORKFLOW_ID}'`);
  const template = benchCampaign(bundled);
  const differences = differencesFromTemplate(template);
  if (differences.length > 0)
    throw new Error(`the plain function no longer does the template's work: ${differences.join('; ')}`);

  const faults = { latencyMs: { kind: 'fixed', ms: latencyMs } as const, seed: 1 };
  const factories = await Promise.all([
    startExampleFactory('media', faults),
    startExampleFactory('research', faults),
  ]);
  const tablePrefix = `wfbench${latencyMs}`;
  const counter = new RequestCounter(tablePrefix);
  const runtime = await startLocalRuntime({
    port: 0,
    dbPort: 0,
    dataDir: undefined,
    tablePrefix,
    schedules: false,
    onDynamoClient: (client) => counter.attach(client),
  });
  await seedExamples(runtime.orchestrator, factories);
  await runtime.orchestrator.workflows.register(template);
  const { aliasArn } = await runtime.orchestrator.workflows.get(CAMPAIGN_WORKFLOW_ID);
  const endpoint = (kind: 'media' | 'research') =>
    (factories.find((f) => f.kind === kind) as RunningExampleFactory).endpoint;
  return {
    factories,
    runtime,
    counter,
    aliasArn,
    endpoints: { media: endpoint('media'), research: endpoint('research') },
  };
}

async function stopSetting(setting: Setting): Promise<{ unfinished: string[] }> {
  await Promise.all(setting.factories.map((f) => f.close()));
  return setting.runtime.stop(5_000);
}

/** Both sides at one latency: warm-up, then the timed pool; the runtime's requests per timed run. */
async function throughputAt(setting: Setting, options: WorkflowThroughputOptions, latencyMs: number) {
  const { runtime, counter, aliasArn, endpoints } = setting;
  let plainRun = 0;
  const plain = () => runCampaign(httpCaller(endpoints, `plain-${latencyMs}-${plainRun++}`)).then(() => {});
  const local = () => runThroughRuntime(runtime, aliasArn);

  counter.swap();
  await runPool(options.warmupRuns, options.concurrency, plain);
  const plainTimed = await runPool(options.runs, options.concurrency, plain);
  const requestsDuringPlain = total(counter.swap());

  await runPool(options.warmupRuns, options.concurrency, local);
  counter.swap();
  const localTimed = await runPool(options.runs, options.concurrency, local);
  const localRequests = counter.swap();

  const plainSide = summarizeSide(plainTimed.results, plainTimed.wallMs, options.concurrency);
  const localSide = summarizeSide(localTimed.results, localTimed.wallMs, options.concurrency);
  return {
    factoryLatencyMs: latencyMs,
    plain: plainSide,
    local: localSide,
    ratioToFloor: ratioToFloor(localSide, plainSide),
    /** The runtime's DynamoDB requests during the timed runs, per run (succeeded or not). */
    dynamodbPerRun: perRun(localRequests, options.runs),
    /** Requests while only the plain function ran: 0 unless the runtime works in the background. */
    dynamodbRequestsDuringPlain: requestsDuringPlain,
  };
}

/** One run at a time on each side: what the runtime adds to a single run. */
async function singleAt(setting: Setting, options: WorkflowThroughputOptions, latencyMs: number) {
  const { runtime, counter, aliasArn, endpoints } = setting;
  let plainRun = 0;
  const plain = () => runCampaign(httpCaller(endpoints, `single-${latencyMs}-${plainRun++}`)).then(() => {});
  const local = () => runThroughRuntime(runtime, aliasArn);

  await runPool(options.singleWarmupRuns, 1, plain);
  const plainTimed = await runPool(options.singleRuns, 1, plain);
  await runPool(options.singleWarmupRuns, 1, local);
  counter.swap();
  const localTimed = await runPool(options.singleRuns, 1, local);
  const localRequests = counter.swap();

  const plainSide = summarizeSide(plainTimed.results, plainTimed.wallMs, 1);
  const localSide = summarizeSide(localTimed.results, localTimed.wallMs, 1);
  return {
    factoryLatencyMs: latencyMs,
    plain: plainSide,
    local: localSide,
    overheadMsP50: singleRunOverheadMs(localSide, plainSide),
    dynamodbPerRun: perRun(localRequests, options.singleRuns),
  };
}

/**
 * The campaign through the local runtime against the plain function, at 0 ms and 50 ms factory
 * latency, `runs` runs `concurrency` at a time, and one at a time at 50 ms; DynamoDB requests
 * per run counted on the runtime's client. Throughput counts succeeded runs only; failures are
 * reported beside it.
 */
export async function workflowThroughput(options: Partial<WorkflowThroughputOptions> = {}) {
  const settings = { ...DEFAULT_WORKFLOW_THROUGHPUT_OPTIONS, ...options };
  const loadAverageAtStart = loadavg();
  const started = performance.now();
  const timingsMs: Record<string, number> = {};

  let phase = performance.now();
  const fast = await startSetting(FAST_MS);
  let fastResult: Awaited<ReturnType<typeof throughputAt>>;
  let fastStop: { unfinished: string[] };
  try {
    fastResult = await throughputAt(fast, settings, FAST_MS);
  } finally {
    fastStop = await stopSetting(fast);
  }
  timingsMs[`${FAST_MS}ms`] = performance.now() - phase;

  phase = performance.now();
  const slow = await startSetting(SLOW_MS);
  let slowResult: Awaited<ReturnType<typeof throughputAt>>;
  let single: Awaited<ReturnType<typeof singleAt>>;
  let slowStop: { unfinished: string[] };
  try {
    slowResult = await throughputAt(slow, settings, SLOW_MS);
    single = await singleAt(slow, settings, SLOW_MS);
  } finally {
    slowStop = await stopSetting(slow);
  }
  timingsMs[`${SLOW_MS}ms`] = performance.now() - phase;

  const failures = {
    plain: fastResult.plain.failed + slowResult.plain.failed + single.plain.failed,
    local: fastResult.local.failed + slowResult.local.failed + single.local.failed,
  };
  return {
    workflowId: CAMPAIGN_WORKFLOW_ID,
    options: settings,
    loadAverageAtStart,
    loadAverageAtEnd: loadavg(),
    wallMs: performance.now() - started,
    timingsMs,
    throughput: { [`${FAST_MS}ms`]: fastResult, [`${SLOW_MS}ms`]: slowResult },
    single,
    failures,
    unfinishedAtStop: [...fastStop.unfinished, ...slowStop.unfinished],
    /** DynamoDB requests per run, counted during the one-at-a-time runs (a run alone in the process). */
    dynamodb: {
      requestsPerRun: single.dynamodbPerRun.total,
      byCommand: single.dynamodbPerRun.byCommand,
      byCommandAndTable: single.dynamodbPerRun.byCommandAndTable,
      readUnitsPerRun: single.dynamodbPerRun.readUnits,
      writeUnitsPerRun: single.dynamodbPerRun.writeUnits,
    },
    summary: {
      workflow_floor_runs_per_s_0ms: fastResult.plain.runsPerSecond,
      local_workflow_ratio_to_floor_0ms: fastResult.ratioToFloor,
      local_workflow_ratio_to_floor_50ms: slowResult.ratioToFloor,
      local_workflow_single_overhead_ms_50ms: single.overheadMsP50,
      workflow_dynamodb_requests_per_run: single.dynamodbPerRun.total,
    },
    notes: [
      'runs/s count succeeded runs only; failures are listed per side (a run fails on any non-success, or when a step result is not SUCCEEDED)',
      'each latency setting has a fresh in-memory runtime and its own factory pair; the plain function runs first, then the runtime',
      'runtime runs end when the local engine says so (waitFor): no API polling, so the DynamoDB counts hold no client reads',
      'requests per run include the start handler (its answer describes the run) and every step handler',
      'routing reads (services, statistics, recent per-minute shards of each task type) are cached for 5 s per process: each refresh adds queries, spread over the runs of those 5 s, so slower phases show more queries per run',
    ],
  };
}

export type WorkflowThroughputReport = Awaited<ReturnType<typeof workflowThroughput>>;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await workflowThroughput();
  console.log(JSON.stringify(report, null, 2));
}
