/**
 * `npm run bench`: runs every benchmark, writes the full report to bench/results/report.json and
 * prints a compact table. Benchmarks report; none of them fails on a time limit, and the figures
 * worth comparing (routers, compile strategies) are measured side by side in the same run.
 *
 * `npm run bench -- --only routing,workflow` runs a subset (routing, workflow, hot-paths,
 * cold-start); the cost model runs when both workflow and hot-paths did.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FUNCTIONS } from '../lib/app.ts';
import { type ColdStartReport, coldStart } from './cold-start.ts';
import {
  type CostAssumptions,
  type CostRow,
  cloudDurationMs,
  costModel,
  defaultAssumptions,
  type MeasuredCounts,
} from './cost-model.ts';
import { type HotPathsReport, hotPaths } from './hot-paths.ts';
import { PRICES } from './prices.ts';
import {
  type PolicyName,
  type RoutingQualityReport,
  routingQuality,
  type Spread,
} from './routing-quality.ts';
import { type WorkflowCompileReport, workflowCompile } from './workflow-compile.ts';

const BENCHMARKS = ['routing', 'workflow', 'hot-paths', 'cold-start'] as const;
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

const started = performance.now();
const loadAverageAtStart = loadavg();
const timings: Record<string, number> = {};
async function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
  process.stderr.write(`${name}... `);
  const start = performance.now();
  const result = await run();
  timings[name] = performance.now() - start;
  process.stderr.write(`${(timings[name] / 1_000).toFixed(1)} s\n`);
  return result;
}

const routing = selected.has('routing') ? await timed('routing quality', () => routingQuality()) : undefined;
const workflow = selected.has('workflow')
  ? await timed('workflow compile', () => workflowCompile())
  : undefined;
const hot = selected.has('hot-paths') ? await timed('hot paths', () => hotPaths()) : undefined;
const cold = selected.has('cold-start') ? await timed('cold start and size', () => coldStart()) : undefined;

/** cdk/constructs/manifest-function.ts gives 512 MB to every function whose manifest entry sets none. */
const PIPELINE_MEMORY_MB = Math.max(
  ...FUNCTIONS.filter((f) => f.pipelineStep !== undefined).map((f) => f.memoryMb ?? 512),
);
let cost:
  | {
      measured: MeasuredCounts;
      assumptions: CostAssumptions;
      lambdaMs: Record<string, number>;
      rows: CostRow[];
    }
  | undefined;
if (workflow && hot) {
  const measured: MeasuredCounts = {
    pipeline: { transitions: workflow.pipeline.succeeded, steps: hot.requests.invocations.pipeline },
    submit: hot.requests.invocations.submit,
    status: hot.requests.invocations.status,
    workflow: {
      name: workflow.example.name,
      steps: workflow.example.steps,
      transitions: workflow.example.transitions,
      stepsOnCriticalPath: workflow.example.stepsOnCriticalPath,
    },
  };
  const assumptions = defaultAssumptions(PIPELINE_MEMORY_MB);
  const lambdaMs = Object.fromEntries(
    [...measured.pipeline.steps, measured.submit, measured.status].map((m) => [
      m.name,
      cloudDurationMs(m, assumptions),
    ]),
  );
  cost = { measured, assumptions, lambdaMs, rows: costModel(measured, assumptions, PRICES) };
}
const wallMs = performance.now() - started;

const report = {
  generatedAt: new Date().toISOString(),
  environment: {
    node: process.version,
    platform: `${platform()} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    /** Other work on the machine skews the timings: the 1, 5 and 15 minute load averages at the start. */
    loadAverageAtStart,
  },
  wallMs,
  timingsMs: timings,
  routingQuality: routing,
  workflowCompile: workflow,
  hotPaths: hot,
  coldStart: cold,
  costModel: cost && { prices: PRICES, ...cost },
};
const out = resolve(import.meta.dirname, 'results', 'report.json');
mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

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

print(
  `VoBee bench  ${report.generatedAt}  node ${report.environment.node}  ${report.environment.cpus} cpus  load ${loadAverageAtStart.map((l) => l.toFixed(1)).join('/')}  wall ${(wallMs / 1_000).toFixed(1)} s`,
);

if (routing) printRouting(routing);
if (workflow) printWorkflow(workflow);
if (hot) printHotPaths(hot);
if (cold) printColdStart(cold);
if (cost) printCost(cost.rows, cost.assumptions, cost.lambdaMs);
print();
print(`full report: ${out}`);
console.log(lines.join('\n'));

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
  table(
    ['   policy', 'success/oracle', 'p50/oracle', 'p95/oracle', 'regret/task', 'to best', 'explored'],
    policies.map((p) => {
      const m = r.stationary[p];
      return [
        `   ${p}`,
        sp(m.successRatio),
        sp(m.p50Ratio, 2),
        sp(m.p95Ratio, 2),
        sp(m.utilityRegret),
        sp(m.bestShare, 2),
        p.startsWith('learned') ? sp(m.exploredShare, 3) : '-',
      ];
    }),
  );
  const d = s.degradation;
  print(
    `   ${d.label} degrades to p=${d.success} at task ${int(d.atTask)}: tasks ${int(d.atTask)}-${int(s.tasks - 1)}; adapt = tasks until every later 200-task window sends <20% to ${d.label}`,
  );
  table(
    ['   policy', 'success/oracle', 'p50/oracle', 'p95/oracle', 'regret/task', 'adapt (tasks)'],
    policies
      .filter((p) => p !== 'oracle')
      .map((p) => {
        const m = r.degraded.afterDegradation[p];
        const a = r.degraded.adaptation[p];
        const never = a?.perSeed.filter((x) => x === null).length ?? 0;
        const adapt =
          never === a?.perSeed.length
            ? 'never'
            : `${sp(a?.adapted, 0)}${never > 0 ? ` (${never} of ${a?.perSeed.length} never)` : ''}`;
        return [
          `   ${p}`,
          sp(m.successRatio),
          sp(m.p50Ratio, 2),
          sp(m.p95Ratio, 2),
          sp(m.utilityRegret),
          adapt,
        ];
      }),
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
    `2. WORKFLOW COMPILE  ${w.setup.dags} random DAGs of ${w.setup.steps} steps (${(w.seriesParallelShare * 100).toFixed(1)}% series-parallel): mean [min-max]`,
  );
  table(
    ['   measure', 'value'],
    [
      ['   compiled / critical-path makespan', sp(w.makespan.ratio)],
      ['   ... with exact duration estimates', sp(w.makespan.ratioWithEstimates)],
      ['   state transitions per step (successful run)', sp(w.transitionsPerStep, 2)],
      ['   states per step (definition)', sp(w.statesPerStep, 2)],
      ['   definition bytes per step', sp(w.definitionBytesPerStep, 0)],
      ['   compile ms per template', sp(w.compileMs, 1)],
      [
        `   plan (series-parallel + cuts) of ${int(w.large.steps)} steps, median ms`,
        n(w.large.planMedianMs, 1),
      ],
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
    `   transitions checked by execution on ${w.transitionCheck.executed} DAGs: ${w.transitionCheck.mismatches.length} mismatches; pipeline run: ${w.pipeline.succeeded} transitions (+${w.pipeline.perRetry} per retry, +${w.pipeline.perFailover} per failover); ${w.example.name}: ${w.example.transitions} for ${w.example.steps} steps`,
  );
}

function printHotPaths(h: HotPathsReport) {
  print();
  print('3. HOT PATHS');
  const strategies = Object.entries(h.inMemory.strategies);
  print(
    `   in memory, brain.decide + router.route, median of ${h.inMemory.runs} x ${int(h.inMemory.iterationsPerRun)}: ${strategies.map(([s, v]) => `${s} ${int(v.medianPerSecond)}/s`).join(', ')}`,
  );
  const e = h.endToEnd;
  print(
    `   local runtime over HTTP: ${e.tasks} tasks, ${e.concurrency} at a time, poll every ${e.pollIntervalMs} ms: ${n(e.tasksPerSecond, 1)} tasks/s, p50 ${int(e.latencyMs.p50)} ms, p95 ${int(e.latencyMs.p95)} ms (${e.succeeded} succeeded, ${e.failed} failed)`,
  );
  const q = h.requests;
  print(
    `   DynamoDB requests per task (${q.tasks} tasks, one at a time): ${n(q.callsPerTask, 1)} = ${Object.entries(
      q.callsPerTaskByCommand,
    )
      .sort((a, b) => b[1] - a[1])
      .map(([c, k]) => `${n(k, 1)} ${c.replace(/Command$/, '')}`)
      .join(' + ')}`,
  );
  table(
    ['   function', 'requests', 'rounds', 'RRU', 'WRU', 'local ms', 'of it DB ms'],
    [...q.invocations.pipeline, q.invocations.submit, q.invocations.status].map((m) => [
      `   ${m.name}`,
      n(m.dbCalls, 1),
      n(m.dbRoundTrips, 1),
      n(m.readUnits, 1),
      n(m.writeUnits, 1),
      n(m.localMs, 1),
      n(m.localDbMs, 1),
    ]),
  );
  print(
    `   request units per task: ${n(q.requestUnitsPerTask.read, 1)} RRU, ${n(q.requestUnitsPerTask.write, 1)} WRU + ~${n(q.requestUnitsPerTask.indexWriteEstimate, 1)} index WRU`,
  );
}

function printColdStart(c: ColdStartReport) {
  print();
  print(
    `4. COLD START AND SIZE  ${c.functions} handlers, ${c.setup.bundler.split(' (')[0]}, fresh node ${c.setup.node}, median of ${c.setup.runs}; init KB = entry + static chunks`,
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

function printCost(rows: CostRow[], a: CostAssumptions, lambdaMs: Record<string, number>) {
  print();
  print(
    `5. COST per 1,000 runs, USD, ${PRICES.region} list prices as of ${PRICES.asOf} (bench/prices.ts; check before use)`,
  );
  table(
    ['   run', 'type', 'SFN', 'Lambda req', 'Lambda GB-s', 'DynamoDB', 'API GW', 'SQS', 'total'],
    rows.map((r) => [
      `   ${r.name}`,
      r.workflowType,
      n(r.per1000.stepFunctions, 4),
      n(r.per1000.lambdaRequests, 4),
      n(r.per1000.lambdaCompute, 4),
      n(r.per1000.dynamodb, 4),
      n(r.per1000.apiGateway, 4),
      n(r.per1000.sqs, 4),
      n(r.per1000.total, 4),
    ]),
  );
  table(
    ['   per run', 'transitions', 'Express ms', 'invocations', 'GB-s', 'RRU', 'WRU', 'API', 'SQS'],
    rows.map((r) => [
      `   ${r.name} (${r.workflowType})`,
      n(r.perRun.stateTransitions, 0),
      n(r.perRun.expressDurationMs, 0),
      n(r.perRun.lambdaInvocations, 0),
      n(r.perRun.lambdaGbSeconds, 3),
      n(r.perRun.readUnits, 1),
      n(r.perRun.writeUnits, 1),
      n(r.perRun.apiRequests, 0),
      n(r.perRun.sqsRequests, 0),
    ]),
  );
  print(
    `   assumed: Lambda ${a.lambdaMemoryMb} MB arm64, factory wait ${a.factoryWaitMs} ms per call, ${a.dynamoRoundTripMs} ms per DynamoDB round, local CPU x${n(a.cpuScale, 2)} (1,769 MB = 1 vCPU), ${a.transitionOverheadMs} ms per Express state, Express ${a.expressMemoryMb} MB, ${a.statusReadsPerRun} status read per run, ${a.sqsRequestsPerQueuedTask} SQS requests per queued task; request units and rounds measured on dynalite`,
  );
  print(
    `   estimated Lambda ms per invocation: ${Object.entries(lambdaMs)
      .map(([name, ms]) => `${name} ${n(ms, 0)}`)
      .join(', ')} (local compute x CPU scale + DynamoDB rounds + factory wait)`,
  );
}

process.exit(0);
