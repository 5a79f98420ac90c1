/**
 * `npm run bench`: runs every benchmark, writes the full report to bench/results/report.json,
 * prints a compact table and ends with the summary block of bench/summary.ts (also written to
 * bench/results/summary.json). Benchmarks report; none of them fails on a time limit, and the
 * figures worth comparing (routers, compile strategies, the runtime and its floor) are measured
 * side by side in the same run.
 *
 * `npm run bench -- --only routing,workflow` runs a subset (routing, workflow, hot-paths,
 * slow-factory, workflow-throughput, cold-start); the summary figures of the others are null,
 * with the reason.
 * A benchmark that throws leaves its figures null with its error; the others still run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MEMORY_MB, FUNCTIONS, memoryOf } from '../lib/app.ts';
import { buildConsole } from '../lib/console/build.ts';
import { productLaunchCampaign } from '../lib/core/workflow/examples.ts';
import { MAX_EXPRESS_TIMEOUT_SECONDS } from '../lib/core/workflow/template.ts';
import { budgetBench } from './budget-runs.ts';
import { type ColdStartReport, coldStart } from './cold-start.ts';
import {
  type CostAssumptions,
  type CostRow,
  costModel,
  defaultAssumptions,
  estimatedWorkflowUse,
  type MeasuredCounts,
} from './cost-model.ts';
import { DATA_COMMANDS, type HotPathsReport, hotPaths } from './hot-paths.ts';
import { PRICES } from './prices.ts';
import { economicsBench } from './routing-economics.ts';
import {
  type PolicyName,
  type RoutingQualityReport,
  routingQuality,
  type Spread,
} from './routing-quality.ts';
import { replayBench } from './routing-replay.ts';
import { type SlowFactoryReport, slowFactorySla } from './slow-factory.ts';
import { entry, missing, type Summary, type SummaryEntry, summaryJson, summaryLines } from './summary.ts';
import { type WorkflowCompileReport, workflowCompile, workflowTransitions } from './workflow-compile.ts';
import { type WorkflowThroughputReport, workflowThroughput } from './workflow-throughput.ts';

const BENCHMARKS = [
  'routing',
  'workflow',
  'hot-paths',
  'slow-factory',
  'workflow-throughput',
  'cold-start',
  'console',
  'policy',
] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const selected = new Set<BenchmarkName>(
  values.only === undefined
    ? BENCHMARKS
    : values.only.split(',').map((name) => {
        const trimmed = name.trim() as BenchmarkName;
        if (!BENCHMARKS.includes(trimmed)) {
          console.error(`--only: unknown benchmark '${name}'; choose from ${BENCHMARKS.join(', ')}`);
          process.exit(2);
        }
        return trimmed;
      }),
);

/** A benchmark's report, or why there is none (not selected, or it threw). */
type Ran<T> = { report: T } | { reason: string };

const started = performance.now();
const loadAverageAtStart = loadavg();
const timings: Record<string, number> = {};
const failures: Record<string, string> = {};
async function run<T>(name: BenchmarkName, label: string, go: () => Promise<T>): Promise<Ran<T>> {
  if (!selected.has(name)) return { reason: `${name} not run (--only)` };
  process.stderr.write(`${label}... `);
  const start = performance.now();
  try {
    const report = await go();
    timings[label] = performance.now() - start;
    process.stderr.write(`${(timings[label] / 1_000).toFixed(1)} s\n`);
    return { report };
  } catch (error) {
    timings[label] = performance.now() - start;
    const message = (error as Error).message.split('\n')[0] ?? String(error);
    failures[name] = (error as Error).stack ?? message;
    process.stderr.write(`failed after ${(timings[label] / 1_000).toFixed(1)} s: ${message}\n`);
    return { reason: `${name} failed: ${message.slice(0, 160)}` };
  }
}
const reportOf = <T>(ran: Ran<T>): T | undefined => ('report' in ran ? ran.report : undefined);
const reasonOf = <T>(ran: Ran<T>): string => ('reason' in ran ? ran.reason : '');

const routingRan = await run('routing', 'routing quality', () => routingQuality());
const workflowRan = await run('workflow', 'workflow compile', () => workflowCompile());
const hotRan = await run('hot-paths', 'hot paths', () => hotPaths());
const slowRan = await run('slow-factory', 'slow factory', () => slowFactorySla());
const throughputRan = await run('workflow-throughput', 'workflow throughput', () => workflowThroughput());
const coldRan = await run('cold-start', 'cold start and size', () => coldStart());
const consoleRan = await run('console', 'console bundle', () => buildConsole());
const replayRan = await run('policy', 'replay estimate', async () => replayBench());
const economicsRan = await run('policy', 'cost-aware and contextual routing', () => economicsBench());
const budgetRan = await run('policy', 'budgeted runs', async () => budgetBench());
const routing = reportOf(routingRan);
const workflow = reportOf(workflowRan);
const hot = reportOf(hotRan);
const slow = reportOf(slowRan);
const throughput = reportOf(throughputRan);
const cold = reportOf(coldRan);

// ---------------------------------------------------------------------------------------------
// The cost model, from what the benchmarks measured.

/** cdk/constructs/manifest-function.ts gives 512 MB to every function whose manifest entry sets none. */

/** States a successful run of the campaign enters on Express, where it also records its end. */
async function expressTransitions(): Promise<number> {
  const template = {
    ...productLaunchCampaign,
    engine: 'express' as const,
    timeout: MAX_EXPRESS_TIMEOUT_SECONDS,
  };
  return (await workflowTransitions(template)).transitions;
}

/** A workflow run's DynamoDB requests split into reads and writes, by command. */
function readsAndWrites(byCommand: Readonly<Record<string, number>>) {
  const sum = (kind: 'read' | 'write') =>
    Object.entries(byCommand).reduce(
      (total, [command, n]) => total + (DATA_COMMANDS[command] === kind ? n : 0),
      0,
    );
  return { readRequests: sum('read'), writeRequests: sum('write') };
}

interface Cost {
  measured: MeasuredCounts;
  assumptions: CostAssumptions;
  rows: CostRow[];
}

async function priced(h: HotPathsReport): Promise<Cost> {
  const assumptions = defaultAssumptions();
  const r = h.requests;
  const task: MeasuredCounts['task'] = {
    submit: r.invocations.submit,
    worker: r.invocations.worker,
    status: r.invocations.status,
    readRequests: r.readRequestsPerTask,
    writeRequests: r.writeRequestsPerTask,
    readUnits: r.unitsPerTask.read,
    writeUnits: r.unitsPerTask.totalWrite,
    statusReadUnits: r.byFunction.GetTask.readUnits,
  };
  const measured: MeasuredCounts = {
    task,
    workflow: workflow && {
      name: workflow.example.name,
      steps: workflow.example.steps,
      stepsOnCriticalPath: workflow.example.stepsOnCriticalPath,
      standardTransitions: workflow.example.transitions,
      expressTransitions: await expressTransitions(),
      ...(throughput
        ? {
            ...readsAndWrites(throughput.dynamodb.byCommand),
            readUnits: throughput.dynamodb.readUnitsPerRun,
            writeUnits: throughput.dynamodb.writeUnitsPerRun,
            requestsSource: `counted by workflow-throughput, one run at a time: ${throughput.dynamodb.requestsPerRun.toFixed(1)} requests, ${throughput.dynamodb.writeUnitsPerRun.toFixed(1)} WRU per run (the example factories' outputs as they are)`,
          }
        : {
            ...estimatedWorkflowUse(task, workflow.example.steps, assumptions),
            requestsSource: `estimated (${reasonOf(throughputRan)}): each step as one task's requests, plus the start handler's; units at the task path's units per read and per write`,
          }),
    },
    processInitMs: Object.fromEntries((cold?.handlers ?? []).map((f) => [f.id, f.processInitMs])),
    memoryMb: Object.fromEntries(FUNCTIONS.map((f) => [f.id, memoryOf(f)])),
  };
  return { measured, assumptions, rows: costModel(measured, assumptions, PRICES) };
}

const costRan: Ran<Cost> = hot
  ? await priced(hot).then(
      (report) => ({ report }),
      (error: Error) => ({ reason: `cost model failed: ${error.message}` }),
    )
  : { reason: `cost model needs hot paths (${reasonOf(hotRan)})` };
const cost = reportOf(costRan);
const wallMs = performance.now() - started;

// ---------------------------------------------------------------------------------------------
// The summary.

/** A figure of a report; a report of another shape than expected gives null with the error. */
function from<T>(ran: Ran<T>, pick: (report: T) => number | undefined, unmeasured: string): SummaryEntry {
  if (!('report' in ran)) return missing(ran.reason);
  try {
    return entry(pick(ran.report), unmeasured);
  } catch (error) {
    return missing(`could not read it from the report: ${(error as Error).message}`);
  }
}
const workflowRow = (type: 'standard' | 'express') => (c: Cost) =>
  c.rows.find((row) => row.workflowType === type)?.per1000.total;
const NO_TASK = 'no task was counted';
const SIDE_WITHOUT_SUCCESS = 'a side had no success';
const NO_HOT_PATH = 'no hot-path function in the manifest';
const NO_DAG = 'no random DAG was compiled';
const WORKFLOW_ROWS = `the workflow rows need workflow compile (${reasonOf(workflowRan)})`;
/** The workflow-throughput figures, which its report already holds under the summary's keys. */
type ThroughputKey = keyof WorkflowThroughputReport['summary'];
const throughputFigures = (unmeasured: Record<ThroughputKey, string>) =>
  Object.fromEntries(
    (Object.entries(unmeasured) as [ThroughputKey, string][]).map(([key, reason]) => [
      key,
      from(throughputRan, (w) => w.summary[key], reason),
    ]),
  ) as Record<ThroughputKey, SummaryEntry>;
const summary: Summary = {
  dynamodb_requests_per_task: from(hotRan, (h) => h.requests.requestsPerTask, NO_TASK),
  wru_per_task: from(hotRan, (h) => h.requests.unitsPerTask.totalWrite, NO_TASK),
  local_tasks_per_s: from(hotRan, (h) => h.throughput.tasks.perSecond, 'no task succeeded'),
  direct_factory_calls_per_s: from(hotRan, (h) => h.throughput.direct.perSecond, 'no direct call succeeded'),
  local_throughput_ratio_to_direct: from(hotRan, (h) => h.throughput.ratioToDirect, SIDE_WITHOUT_SUCCESS),
  local_p50_overhead_ms: from(hotRan, (h) => h.throughput.p50OverheadMs, SIDE_WITHOUT_SUCCESS),
  cost_per_1k_tasks_usd: from(costRan, (c) => c.rows[0]?.per1000.total, 'no task row'),
  cost_per_1k_tasks_at_load_usd: from(costRan, (c) => c.rows[1]?.per1000.total, 'no at-load task row'),
  cost_per_1k_workflow4_standard_usd: from(costRan, workflowRow('standard'), WORKFLOW_ROWS),
  cost_per_1k_workflow4_express_usd: from(costRan, workflowRow('express'), WORKFLOW_ROWS),
  hot_path_bundle_kb_max: from(coldRan, (c) => c.hotPath.maxInitKb, NO_HOT_PATH),
  hot_path_init_ratio_to_hello_max: from(coldRan, (c) => c.hotPath.maxProcessInitRatio, NO_HOT_PATH),
  decisions_per_s: from(
    hotRan,
    (h) => h.inMemory.strategies.learned?.medianPerSecond,
    'the learned strategy was not measured',
  ),
  slow_factory_within_sla: from(slowRan, (s) => s.withinSla, 'no task was simulated'),
  hottest_key_wru_per_s_at_1k_tasks_per_s: from(
    hotRan,
    (h) => h.requests.hottestKey?.wruPerSecondAt1kTasksPerSecond,
    'no write was counted',
  ),
  ...throughputFigures({
    workflow_dynamodb_requests_per_run: 'no run was counted',
    workflow_floor_runs_per_s_0ms: 'no plain run succeeded',
    local_workflow_ratio_to_floor_0ms: SIDE_WITHOUT_SUCCESS,
    local_workflow_ratio_to_floor_50ms: SIDE_WITHOUT_SUCCESS,
    local_workflow_single_overhead_ms_50ms: SIDE_WITHOUT_SUCCESS,
  }),
  compile_makespan_ratio_mean: from(workflowRan, (w) => w.makespan.ratio.mean, NO_DAG),
  compile_makespan_ratio_worst: from(workflowRan, (w) => w.makespan.ratio.max, NO_DAG),
  transitions_per_step: from(workflowRan, (w) => w.transitionsPerStep.mean, NO_DAG),
  gates_per_step: from(workflowRan, (w) => w.gatesPerStep.mean, NO_DAG),
  replay_abs_error: from(replayRan, (r) => r.absError, 'the doubly robust estimate had no support'),
  cost_aware_cost_ratio: from(economicsRan, (e) => e.costAware.costAwareCostRatio, SIDE_WITHOUT_SUCCESS),
  cost_aware_success_ratio: from(
    economicsRan,
    (e) => e.costAware.costAwareSuccessRatio,
    SIDE_WITHOUT_SUCCESS,
  ),
  budget_overruns: from(budgetRan, (b) => b.overruns, 'no budgeted run was simulated'),
  contextual_success_ratio: from(
    economicsRan,
    (e) => e.contextual.contextualSuccessRatio,
    'the oracle had no success',
  ),
  noncontextual_success_ratio: from(
    economicsRan,
    (e) => e.contextual.nonContextualSuccessRatio,
    'the oracle had no success',
  ),
  console_bundle_gzip_kb: from(
    consoleRan,
    (b) => Math.round((b.gzipBytes / 1024) * 10) / 10,
    'the console was not built',
  ),
};

const loadAverageAtEnd = loadavg();
const report = {
  generatedAt: new Date().toISOString(),
  environment: {
    node: process.version,
    platform: `${platform()} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    /** Other work on the machine skews the timings: the 1, 5 and 15 minute load averages. */
    loadAverageAtStart,
    loadAverageAtEnd,
  },
  wallMs,
  timingsMs: timings,
  failures,
  routingQuality: routing,
  policy: { replay: reportOf(replayRan), economics: reportOf(economicsRan), budget: reportOf(budgetRan) },
  workflowCompile: workflow,
  hotPaths: hot,
  slowFactory: slow,
  workflowThroughput: throughput,
  coldStart: cold,
  costModel: cost && { prices: PRICES, ...cost },
  summary: summaryJson(summary),
};
const resultsDir = resolve(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
const out = resolve(resultsDir, 'report.json');
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
const summaryOut = resolve(resultsDir, 'summary.json');
writeFileSync(summaryOut, `${JSON.stringify(summaryJson(summary), null, 2)}\n`);

// ---------------------------------------------------------------------------------------------
// The printed table.

const lines: string[] = [];
const print = (line = '') => lines.push(line);
const n = (x: number | undefined, digits = 3) =>
  x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
const int = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? '-' : Math.round(x).toLocaleString('en-US');
const sp = (s: Spread | undefined, digits = 3) =>
  s === undefined || !Number.isFinite(s.mean)
    ? '-'
    : s.min === s.max
      ? n(s.mean, digits)
      : `${n(s.mean, digits)} [${n(s.min, digits)}-${n(s.max, digits)}]`;
const pad = (cells: string[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  print(pad(header, widths));
  for (const row of rows) print(pad(row, widths));
}
/** A table given as columns: each a header and how it writes a row's cell. */
function columns<R>(rows: readonly R[], spec: ReadonlyArray<readonly [string, (row: R) => string]>) {
  table(
    spec.map(([header]) => header),
    rows.map((row) => spec.map(([, cell]) => cell(row))),
  );
}
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join('/');
/** DynamoDB requests by command (`2.00 PutItem`), most first when `sorted`. */
function commands(byCommand: Readonly<Record<string, number>>, separator: string, sorted = false) {
  const entries = Object.entries(byCommand);
  if (sorted) entries.sort((a, b) => b[1] - a[1]);
  return entries.map(([c, k]) => `${n(k, 2)} ${c.replace(/Command$/, '')}`).join(separator);
}

print(
  `VoBee bench  ${report.generatedAt}  node ${report.environment.node}  ${report.environment.cpus} cpus  load ${load(loadAverageAtStart)} at start, ${load(loadAverageAtEnd)} at end  wall ${(wallMs / 1_000).toFixed(1)} s`,
);

// A section that cannot print (a report of another shape) says so; the summary still follows.
for (const [name, printSection] of [
  ['routing', () => routing && printRouting(routing)],
  ['workflow', () => workflow && printWorkflow(workflow)],
  ['hot-paths', () => hot && printHotPaths(hot)],
  ['slow-factory', () => slow && printSlowFactory(slow)],
  ['workflow-throughput', () => throughput && printWorkflowThroughput(throughput)],
  ['cold-start', () => cold && printColdStart(cold)],
  ['cost', () => cost && printCost(cost)],
  ['policy', () => printPolicy()],
] as const) {
  try {
    printSection();
  } catch (error) {
    print(`   (${name}: could not print the section: ${(error as Error).message})`);
  }
}
for (const [name, stack] of Object.entries(failures)) {
  print();
  print(`${name} FAILED: ${stack.split('\n').slice(0, 4).join(' | ')}`);
}
print();
print(`full report: ${out}`);
print(`summary: ${summaryOut}`);
print();
for (const line of summaryLines(summary)) print(line);
console.log(lines.join('\n'));

function printPolicy() {
  const replay = reportOf(replayRan);
  const economics = reportOf(economicsRan);
  const budget = reportOf(budgetRan);
  if (!replay && !economics && !budget) return;
  print();
  print('8. ROUTING POLICY: REPLAY, COST, CONTEXT, BUDGETS');
  if (replay) {
    print(
      `replay: ${replay.setup.decisions} logged decisions; target policy's actual success ${n(replay.actual.successRate)}; effective sample size ${n(replay.effectiveSampleSize, 0)}`,
    );
    columns(Object.entries(replay.estimators), [
      ['estimator', ([name]) => name],
      ['estimate', ([, e]) => n(e.successRate?.estimate)],
      ['95% CI', ([, e]) => (e.successRate ? `${n(e.successRate.low)}-${n(e.successRate.high)}` : '-')],
      ['|error|', ([, e]) => n(e.error ?? undefined, 4)],
    ]);
  }
  if (economics) {
    const c = economics.costAware;
    print(
      `cost-aware learned vs success-only: cost x${n(c.costAwareCostRatio)}, success x${n(c.costAwareSuccessRatio)}; cost strategy: cost x${n(c.costStrategyCostRatio)}, success x${n(c.costStrategySuccessRatio)}`,
    );
    print(
      `contextual learned / oracle success: ${n(economics.contextual.contextualSuccessRatio)} (without features ${n(economics.contextual.nonContextualSuccessRatio)})`,
    );
  }
  if (budget) {
    print(
      `budgeted runs: ${budget.runs} simulated, ${budget.refusedAtStart} refused at start, ${budget.completed} completed, ${budget.stoppedBudgetExceeded} stopped with BudgetExceeded, ${budget.overruns} cost overruns, ${budget.deadlineOverruns} past their deadline, ${budget.switchedToCheaper} switched to cheaper services`,
    );
  }
}

function printHotPaths(h: HotPathsReport) {
  print();
  print('3. HOT PATHS');
  const strategies = Object.entries(h.inMemory.strategies);
  print(
    `   in memory, brain.decideTask + router.routeTask, median of ${h.inMemory.runs} x ${int(h.inMemory.iterationsPerRun)}: ${strategies.map(([s, v]) => `${s} ${int(v.medianPerSecond)}/s`).join(', ')}`,
  );
  const t = h.throughput;
  print(
    `   local runtime (in memory) over HTTP, ${t.factory} answering at once, ${t.concurrency} clients, ${t.operations} of each after ${t.warmups} warm-ups, ${t.rounds} alternating rounds:`,
  );
  table(
    ['     side', 'per s', 'p50 ms', 'p95 ms', 'max ms', 'ok', 'failed'],
    [
      ['     POST /tasks, end from the task queue', t.tasks],
      ['     POST /execute directly (the worker body)', t.direct],
      ["     a task's 3 writes alone (the store's ceiling)", t.storeOnly],
    ].map(([label, side]) => {
      const s = side as typeof t.tasks;
      return [
        label as string,
        n(s.perSecond, 1),
        n(s.latencyMs.p50, 1),
        n(s.latencyMs.p95, 1),
        n(s.latencyMs.max, 1),
        int(s.succeeded),
        int(s.failed),
      ];
    }),
  );
  const statuses = Object.entries(t.records.statuses)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  print(
    `     tasks/direct ${n(t.ratioToDirect, 3)}, tasks/store alone ${n(t.ratioToStoreOnly, 3)}, p50 overhead ${n(t.p50OverheadMs, 1)} ms; ${t.records.read} task records read back: ${statuses}${t.records.failures.length ? `; e.g. ${JSON.stringify(t.records.failures[0])}` : ''}${[...t.tasks.errors, ...t.direct.errors, ...t.storeOnly.errors].length ? `; errors: ${[...t.tasks.errors, ...t.direct.errors, ...t.storeOnly.errors].join(' | ')}` : ''}`,
  );
  const q = h.requests;
  print(
    `   one task at a time (${q.tasks} counted after ${q.warmupTasks} warm-ups, which fill the routing caches and note the task type; ${Object.entries(
      q.statuses,
    )
      .map(([s, c]) => `${c} ${s}`)
      .join(
        ', ',
      )}): from POST to the end of the worker p50 ${n(q.latencyMs.p50, 1)} ms, p95 ${n(q.latencyMs.p95, 1)} ms`,
  );
  print(
    `     DynamoDB requests per task ${n(q.requestsPerTask, 2)} = ${commands(q.byCommand, ' + ', true)}; ${n(q.unitsPerTask.read, 2)} RRU, ${n(q.unitsPerTask.write, 2)} WRU + ${n(q.unitsPerTask.indexWrite, 2)} index WRU = ${n(q.unitsPerTask.totalWrite, 2)} WRU`,
  );
  table(
    ['     function', 'requests', 'rounds', 'RRU', 'WRU', 'index WRU', 'local ms', 'of it DB ms', 'log B'],
    (['SubmitTask', 'TaskWorker', 'GetTask'] as const).map((name) => {
      const f = q.byFunction[name];
      return [
        `     ${name}${name === 'GetTask' ? ' (not in the task)' : ''}`,
        `${n(f.requests, 2)} (${commands(f.byCommand, ', ')})`,
        n(f.roundTrips, 2),
        n(f.readUnits, 2),
        n(f.writeUnits, 2),
        n(f.indexWriteUnits, 2),
        n(f.localMs, 1),
        n(f.localDbMs, 1),
        int(f.logBytes),
      ];
    }),
  );
  print(
    `     WRU per task by item written: ${Object.entries(q.writeUnitsByItem)
      .sort((a, b) => b[1] - a[1])
      .map(([item, units]) => `${item} ${n(units, 2)}`)
      .join(', ')}`,
  );
  const key = (k: (typeof q.keys)[number] | undefined) =>
    k
      ? `${k.key}: ${n(k.wruPerTask, 3)} WRU per task, ${int(k.wruPerSecondAt1kTasksPerSecond)} WRU/s at 1,000 tasks/s`
      : '-';
  print(`     hottest table key ${key(q.hottestKey)} (a partition takes at most 1,000 WRU/s)`);
  print(`     hottest index key ${key(q.hottestIndexKey)}`);
  print(
    `     next keys: ${q.keys
      .slice(1, 4)
      .map((k) => `${k.key} ${n(k.wruPerTask, 3)}`)
      .join(', ')}; between tasks: ${q.outside.requests} requests, ${q.outside.logBytes} log bytes`,
  );
}

function printSlowFactory(s: SlowFactoryReport) {
  const o = s.setup;
  print();
  print(
    `4. SLOW FACTORY  ${o.tasks.toLocaleString('en-US')} tasks at ${o.tasksPerSecond}/s over ${o.workers} workers, ${o.strategy} routing; ${o.slowFactory} turns ${o.slowdown}x slower at task ${o.turnAtTask.toLocaleString('en-US')} (simulated time)`,
  );
  print(
    `   within the ${o.slaSeconds} s SLA ${n(s.withinSla, 4)}, succeeded ${n(s.succeeded, 4)}, missed after the turn ${s.missedAfterTurn}, routed to ${o.slowFactory} ${n(s.routedToSlowShare, 4)}`,
  );
}

function printWorkflowThroughput(w: WorkflowThroughputReport) {
  print();
  print(
    `5. WORKFLOW THROUGHPUT  ${w.workflowId} through the local runtime against a plain async function making the same calls (the floor)`,
  );
  table(
    [
      '   setting',
      'floor runs/s',
      'local runs/s',
      'ratio',
      'floor p50 ms',
      'local p50 ms',
      'failed (floor/local)',
    ],
    Object.entries(w.throughput).map(([latency, t]) => [
      `   factories at ${latency}, ${t.local.concurrency} at a time`,
      n(t.plain.runsPerSecond, 1),
      n(t.local.runsPerSecond, 1),
      n(t.ratioToFloor, 3),
      n(t.plain.latencyMs.p50, 1),
      n(t.local.latencyMs.p50, 1),
      `${t.plain.failed}/${t.local.failed}`,
    ]),
  );
  print(
    `   one run at a time at ${w.single.factoryLatencyMs} ms: overhead p50 ${n(w.single.overheadMsP50, 1)} ms; DynamoDB requests per run ${n(w.dynamodb.requestsPerRun, 2)} = ${commands(w.dynamodb.byCommand, ' + ')}`,
  );
}

function printCost({ rows, assumptions: a, measured }: Cost) {
  print();
  print(
    `7. COST per 1,000 runs, USD, ${PRICES.region} list prices as of ${PRICES.asOf} (bench/prices.ts; check before use)`,
  );
  const per1000 = (key: keyof CostRow['per1000']) => (r: CostRow) => n(r.per1000[key], 4);
  columns(rows, [
    ['   run', (r) => `   ${r.name}`],
    ['type', (r) => (r.workflowType === 'none' ? '-' : r.workflowType)],
    ['SFN', per1000('stepFunctions')],
    ['Lambda req', per1000('lambdaRequests')],
    ['Lambda time', per1000('lambdaDuration')],
    ['INIT', per1000('lambdaInit')],
    ['DynamoDB', per1000('dynamodb')],
    ['API GW', per1000('apiGateway')],
    ['SQS', per1000('sqs')],
    ['logs', per1000('logs')],
    ['total', per1000('total')],
  ]);
  const perRun = (key: keyof CostRow['perRun'], digits: number) => (r: CostRow) => n(r.perRun[key], digits);
  columns(rows, [
    [
      '   per run',
      (r) => `   ${r.name} (${r.workflowType === 'none' ? 'no state machine' : r.workflowType})`,
    ],
    ['transitions', perRun('stateTransitions', 0)],
    ['Express ms', perRun('expressDurationMs', 0)],
    ['invocations', perRun('lambdaInvocations', 1)],
    ['GB-s', perRun('lambdaGbSeconds', 4)],
    ['INIT GB-s', perRun('initGbSeconds', 5)],
    ['RRU', perRun('readUnits', 2)],
    ['WRU', perRun('writeUnits', 2)],
    ['API', perRun('apiRequests', 0)],
    ['SQS', perRun('sqsRequests', 1)],
    ['log B', (r) => int(r.perRun.logBytes)],
  ]);
  print('   the parts of each run:');
  for (const r of rows) {
    const p = r.profile;
    const lambdas = p.lambda
      .map(
        (u) =>
          `${u.name} ${n(u.invocations, 1)} x ${int(u.durationMs)} ms (INIT ${int(u.initMs)} ms, ${int(u.logBytes)} log B)`,
      )
      .join(', ');
    const machine =
      p.workflowType === 'standard'
        ? `${p.stateTransitions} transitions; `
        : p.workflowType === 'express'
          ? `1 Express request, ${int(p.expressDurationMs)} ms at ${p.expressMemoryMb} MB; `
          : '';
    print(
      `   - ${r.name}${p.workflowType === 'none' ? '' : ` (${p.workflowType})`}: ${machine}API ${p.apiRequests} requests; SQS ${n(p.sqsRequests, 1)}; Lambda ${lambdas}; DynamoDB ${n(p.readUnits, 2)} RRU + ${n(p.writeUnits, 2)} WRU; logs ${int(r.perRun.logBytes)} B (${int(p.otherLogBytes)} B of them API access logs and state machine logs)`,
    );
  }
  print(
    `   assumed: factory wait ${a.factoryWaitMs} ms per call; ${a.dynamoRoundTripMs} ms per DynamoDB round; local compute x ${a.vcpuMb} MB / memory (memory from the manifest, ${DEFAULT_MEMORY_MB} MB default); INIT on ${n(a.coldStartShare * 100, 1)}% of invocations, each the measured local process init (INIT has burst CPU; ${a.initMs} ms where not measured); ${a.statusReadsPerRun} status read per run; SQS send + receive + delete per task message, the receive and delete shared by a batch; at load ${a.loadBatchSize} messages per worker invocation, sharing its factory wait; ${a.platformLogBytes} B of START/END/REPORT per invocation (Lambda's system log level WARN); ${a.apiAccessLogBytes} B per API access log line; ${a.stateMachineLogBytesPerRun} B of state machine logs per successful run (ERROR level, no execution data); ${a.transitionOverheadMs} ms per Express state, Express at ${a.expressMemoryMb} MB; ${a.stepFunctionsCallMs} ms per Step Functions API call`,
  );
  print(
    `   the workflow's functions are priced from the task path's measurements: RunWorkflowStep as TaskWorker plus writes and rounds: ${a.stepExtraWrites} (its start); StartExecution as SubmitTask with reads: ${a.workflowStart.reads}, writes: ${a.workflowStart.writes} (a round each), Step Functions calls: ${a.workflowStart.stepFunctionsCalls}; GetExecution as GetTask with reads: ${a.workflowStatus.reads} (a round each), Step Functions calls: ${a.workflowStatus.stepFunctionsCalls}`,
  );
  if (measured.workflow) print(`   DynamoDB of a workflow run: ${measured.workflow.requestsSource}`);
  print(
    '   not counted: X-Ray, custom metrics (monthly per metric), log storage and queries, data transfer, table storage, free tiers, idle SQS polling',
  );
}

function printRouting(r: RoutingQualityReport) {
  const s = r.setup;
  print();
  print(
    `1. ROUTING QUALITY  ${int(s.tasks)} tasks at ${s.arrivalsPerSecond}/s, seeds ${s.seeds.join(',')}: mean [min-max] over seeds`,
  );
  print(
    `   services (true p / median ms): ${s.services.map((p) => `${p.label} ${p.success}/${p.medianMs}`).join(', ')}; oracle = ${s.services[0]?.label} (best true utility); weights = stated capacity`,
  );
  const policies = Object.keys(r.stationary) as PolicyName[];
  print('   stationary');
  /** The columns both scenarios print, over one scenario's figures by policy. */
  type Figures = RoutingQualityReport['stationary'][PolicyName];
  const quality = (of: (p: PolicyName) => Figures) =>
    [
      ['   policy', (p) => `   ${p}`],
      ['success/oracle', (p) => sp(of(p).successRatio)],
      ['p50/oracle', (p) => sp(of(p).p50Ratio, 2)],
      ['p95/oracle', (p) => sp(of(p).p95Ratio, 2)],
      ['regret/task', (p) => sp(of(p).utilityRegret)],
    ] as const satisfies ReadonlyArray<readonly [string, (p: PolicyName) => string]>;
  columns(policies, [
    ...quality((p) => r.stationary[p]),
    ['to best', (p) => sp(r.stationary[p].bestShare, 2)],
    ['explored', (p) => (p.startsWith('learned') ? sp(r.stationary[p].exploredShare, 3) : '-')],
  ]);
  const d = s.degradation;
  print(
    `   ${d.label} degrades to p=${d.success} at task ${int(d.atTask)}: tasks ${int(d.atTask)}-${int(s.tasks - 1)}; adapt = tasks until every later 200-task window sends <20% to ${d.label}`,
  );
  const adapt = (p: PolicyName) => {
    const a = r.degraded.adaptation[p];
    const never = a?.perSeed.filter((x) => x === null).length ?? 0;
    return never === a?.perSeed.length
      ? 'never'
      : `${sp(a?.adapted, 0)}${never > 0 ? ` (${never} of ${a?.perSeed.length} never)` : ''}`;
  };
  columns(
    policies.filter((p) => p !== 'oracle'),
    [...quality((p) => r.degraded.afterDegradation[p]), ['adapt (tasks)', adapt]],
  );
  print(
    `   (adapt 0: the policy never sent ${d.label} as much as 20% to begin with; never: it still does at the end)`,
  );
  print(
    '   calibration of confidenceFrom(chosen service), decisions of all seeds in deciles of prediction: predicted/observed',
  );
  for (const [scenario, policy] of [
    ['stationary', 'learned'],
    ['degraded', 'learned'],
    ['degraded', 'learned-window'],
    ['degraded', 'learned-recent'],
  ] as const) {
    const c = r.calibration[scenario][policy];
    if (!c) continue;
    print(
      `   ${`${policy}, ${scenario}`.padEnd(26)} ECE per seed ${sp(c.ece)}  ${c.pooled.bins.map((b) => `${n(b.meanPredicted, 2)}/${n(b.observed, 2)}`).join(' ')}`,
    );
  }
}

function printWorkflow(w: WorkflowCompileReport) {
  print();
  print(
    `2. WORKFLOW COMPILE  ${w.setup.dags} random DAGs of ${w.setup.steps} steps, gated parallel branches, durations unknown to the compiler: mean [min-max]`,
  );
  table(
    ['   measure', 'value'],
    [
      ['   compiled / critical-path makespan', sp(w.makespan.ratio)],
      ['   gates per step (success path)', sp(w.gatesPerStep, 2)],
      ['   branches per step', sp(w.branchesPerStep, 2)],
      ['   state transitions per step (successful run)', sp(w.transitionsPerStep, 2)],
      ['   states per step (definition)', sp(w.statesPerStep, 2)],
      ['   definition bytes per step', sp(w.definitionBytesPerStep, 0)],
      ['   compile ms per template', sp(w.compileMs, 1)],
      [`   plan (branches and gates) of ${int(w.large.steps)} steps, median ms`, n(w.large.planMedianMs, 1)],
      [
        `   whole compile at ${w.large.maxSteps} steps (schema max), median ms`,
        n(w.large.compileAtMaxStepsMedianMs, 1),
      ],
      [
        `   ${int(w.large.steps)}-step template through compileWorkflow`,
        w.large.compile.error ? `refused (max ${w.large.maxSteps} steps)` : 'ok',
      ],
      [
        `   projected ${int(w.large.steps)}-step definition, bytes (limit ${int(w.large.maxDefinitionBytes)})`,
        int(w.large.projectedDefinitionBytes),
      ],
    ],
  );
  print(
    `   transitions checked by execution on ${w.transitionCheck.executed} DAGs: ${w.transitionCheck.mismatches.length} mismatches; ${w.example.name}: ${w.example.transitions} for ${w.example.steps} steps`,
  );
}

function printColdStart(c: ColdStartReport) {
  print();
  print(
    `6. COLD START AND SIZE  ${c.functions} handlers, ${c.setup.bundler.split(' (')[0]}, fresh node ${c.setup.node}, median of ${c.setup.runs}; init KB = entry + static chunks`,
  );
  const h = c.helloWorld;
  print(
    `   hello world: ${n(h.initKb, 1)} KB, import ${n(h.importMs, 1)} ms, process init ${n(h.processInitMs, 0)} ms (ratios below are to these)`,
  );
  const hot = c.hotPath;
  print(
    `   hot path (${hot.ids.join(', ') || 'none'}${hot.missing.length ? `; not in the manifest: ${hot.missing.join(', ')}` : ''}): max init ${n(hot.maxInitKb, 0)} KB (budget ${hot.budget.initKb}), max process-init ratio ${n(hot.maxProcessInitRatio, 2)} (budget ${hot.budget.processInitRatio}): ${hot.withinBudget ? 'within' : 'OVER'} budget`,
  );
  const row = (label: string, f: ColdStartReport['largest']) =>
    f
      ? [
          `   ${label}`,
          f.id,
          n(f.initKb, 0),
          n(f.totalKb, 0),
          n(f.importMs, 0),
          n(f.processInitMs, 0),
          n(f.processInitRatio, 2),
        ]
      : [`   ${label}`, '-', '-', '-', '-', '-', '-'];
  table(
    ['   ', 'handler', 'init KB', 'total KB', 'import ms', 'process ms', 'x hello'],
    [
      row('largest', c.largest),
      row('smallest', c.smallest),
      row('slowest init', c.slowestInit),
      row('fastest init', c.fastestInit),
    ],
  );
  if (c.router) {
    const r = c.router;
    print(
      `   one router for ${r.routes} routes: init ${n(r.initKb, 0)} KB, total ${n(r.totalKb, 0)} KB, process init ${n(r.processInitMs, 0)} ms (x${n(r.processInitRatio, 2)}); one function per route, median [max]: init ${n(r.perRoute.initKb.median, 0)} [${n(r.perRoute.initKb.max, 0)}] KB, total ${n(r.perRoute.totalKb.median, 0)} [${n(r.perRoute.totalKb.max, 0)}] KB, process init ${n(r.perRoute.processInitMs.median, 0)} [${n(r.perRoute.processInitMs.max, 0)}] ms`,
    );
  }
  print(
    `   all (init KB/process ms): ${c.handlers.map((f) => `${f.id} ${n(f.initKb, 0)}/${n(f.processInitMs, 0)}`).join(', ')}`,
  );
  if (c.largestInitComposition) {
    print(
      `   ${c.largest?.id} init by source: ${c.largestInitComposition.map((p) => `${p.source} ${n(p.kb, 0)}KB`).join(', ')}`,
    );
  }
  if (c.sourceMaps) {
    print(
      `   --enable-source-maps on ${c.sourceMaps.id}: process init ${n(c.sourceMaps.withMs, 0)} ms with, ${n(c.sourceMaps.withoutMs, 0)} ms without; median process init over handlers ${n(c.processInitMedianMs, 0)} ms`,
    );
  }
}

process.exit(Object.keys(failures).length > 0 ? 1 : 0);
