/**
 * Cold start and size: every handler of the app manifest bundled by cdk/bundling.ts, as the stack
 * bundles it, beside a bare hello-world handler bundled the same way and one router function that
 * serves every route; each loaded by fresh Node processes in a Lambda-like environment.
 *
 * Init is measured two ways: `importMs`, `await import(bundle)` timed inside the child (module
 * load alone), and `processInitMs`, from just before the child is spawned until it reports the
 * handler loaded (runtime start + module load, like Lambda's INIT phase). A hello world's
 * `processInitMs` is almost all Node start-up, so a handler's ratio to it says what its own code
 * adds to a cold start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { BUNDLE_OPTIONS, bundleFunction, ENTRY_FILE, initOutputs, NODE_RUNTIME } from '../cdk/bundling.ts';
import { FUNCTIONS, type FunctionSpec, type TableAccess } from '../lib/app.ts';
import { median } from './routing-quality.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** The functions every task goes through; each must stay small. */
export const HOT_PATH_IDS = ['SubmitTask', 'GetTask', 'TaskWorker'] as const;
/** What a hot-path function may load at init, and its `processInitMs` relative to hello world. */
export const HOT_PATH_BUDGET = { initKb: 250, processInitRatio: 1.5 } as const;

const HELLO_WORLD_SOURCE = "export const handler = async () => ({ statusCode: 200, body: 'hello' });\n";

/**
 * What a handler finds in its environment in Lambda, with dummy values: the variables the stack
 * sets on every function, and those the Lambda runtime sets, so that module code that reads them
 * at load (Powertools does) takes the same path as in Lambda.
 */
export function lambdaEnvironment(spec: FunctionSpec): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: `vobee-${spec.id}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb ?? 512),
    AWS_EXECUTION_ENV: `AWS_Lambda_${NODE_RUNTIME.name}`,
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    POWERTOOLS_SERVICE_NAME: 'vobee',
    POWERTOOLS_METRICS_NAMESPACE: 'VoBee',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    VOBEE_TABLE_PREFIX: 'vobee-bench',
    NODE_OPTIONS: '--enable-source-maps',
  };
  for (const table of Object.keys(spec.tables))
    env[`VOBEE_TABLE_${table.toUpperCase()}`] = `vobee-bench-${table}`;
  if (spec.callsFactories) env.VOBEE_FACTORY_CALL_TIMEOUT_MS = '8000';
  if (spec.artifacts) env.VOBEE_ARTIFACT_BUCKET = 'vobee-bench-artifacts';
  return env;
}

/**
 * The source of one function serving every given route: it imports each route's handler
 * statically and dispatches on the HTTP API's `routeKey` (`GET /tasks/{taskId}`).
 */
export function routerSource(routes: readonly FunctionSpec[]): string {
  const imports: string[] = [];
  const entries: string[] = [];
  routes.forEach((spec, i) => {
    if (!spec.route) throw new Error(`${spec.id} has no route`);
    imports.push(`import { handler as h${i} } from ${JSON.stringify(resolve(ROOT, spec.entry))};`);
    entries.push(`  [${JSON.stringify(`${spec.route.method} ${spec.route.path}`)}, h${i}],`);
  });
  return `${imports.join('\n')}
const routes = new Map([
${entries.join('\n')}
]);
export const handler = async (event, context) => {
  const route = routes.get(event.routeKey);
  if (!route) return { statusCode: 404, body: JSON.stringify({ message: \`no route \${event.routeKey}\` }) };
  return route(event, context);
};
`;
}

/** Writes after the handler module is loaded; the parent stops its clock when it sees it. */
const LOADED = '__vobee_loaded__';
const PROBE = `const start = performance.now();
await import(process.argv[2]);
const importMs = performance.now() - start;
process.stdout.write(${JSON.stringify(LOADED)} + JSON.stringify({ importMs }) + '\\n');
process.exit(0);
`;

interface LoadTiming {
  importMs: number;
  processInitMs: number;
}

function loadOnce(probe: string, bundle: string, env: Record<string, string>): Promise<LoadTiming> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [probe, pathToFileURL(bundle).href], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let loadedAt: number | undefined;
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (loadedAt === undefined && out.includes(LOADED)) loadedAt = performance.now();
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`import of ${bundle} exited ${code}: ${err.slice(0, 500)}`));
      const line = out.slice(out.indexOf(LOADED) + LOADED.length).split('\n')[0] ?? '';
      try {
        const { importMs } = JSON.parse(line) as { importMs: number };
        if (loadedAt === undefined) throw new Error('not loaded');
        resolvePromise({ importMs, processInitMs: loadedAt - start });
      } catch {
        reject(new Error(`no timing from ${bundle}: ${out.slice(0, 200)} ${err.slice(0, 300)}`));
      }
    });
  });
}

/**
 * Where the bytes of a bundle come from: output bytes by package (or `(repository)` for our code),
 * over the given outputs (every output when omitted).
 */
export function composition(
  metafile: Metafile,
  top = 8,
  outputs: readonly string[] = Object.keys(metafile.outputs),
): Array<{ source: string; kb: number }> {
  const bytes = new Map<string, number>();
  for (const outputPath of outputs) {
    for (const [path, { bytesInOutput }] of Object.entries(metafile.outputs[outputPath]?.inputs ?? {})) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const source = match?.[1] ?? '(repository)';
      bytes.set(source, (bytes.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([source, n]) => ({ source, kb: n / 1_024 }));
}

export interface ColdStartOptions {
  /** Loads per bundle; each is a fresh Node process. */
  runs: number;
  /** Only these function ids (all when undefined); the router serves the routes among them. */
  only?: readonly string[];
}

export const DEFAULT_COLD_START_OPTIONS: ColdStartOptions = { runs: 5 };

/** One bundle's sizes and load times (medians over the runs). */
export interface BundleLoad {
  id: string;
  entry: string;
  /** `index.mjs` alone. */
  entryKb: number;
  /** `index.mjs` with the chunks it imports statically: what loads at init. */
  initKb: number;
  /** Every `.mjs` file, the lazily loaded chunks included. */
  totalKb: number;
  sourceMapKb: number;
  importMs: number;
  importRunsMs: number[];
  processInitMs: number;
  processInitRunsMs: number[];
}

/** A function's bundle with its init relative to hello world's. */
export interface HandlerSize extends BundleLoad {
  importRatio: number;
  processInitRatio: number;
}

interface Target {
  spec: FunctionSpec;
  metafile: Metafile;
  bundle: string;
  env: Record<string, string>;
  sizes: Pick<BundleLoad, 'entryKb' | 'initKb' | 'totalKb' | 'sourceMapKb'>;
}

function bundleTarget(spec: FunctionSpec, outdir: string): Target {
  const { metafile, entryBytes, initBytes, totalBytes } = bundleFunction(spec.entry, outdir);
  const mapBytes = Object.entries(metafile.outputs)
    .filter(([path]) => path.endsWith('.map'))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
  return {
    spec,
    metafile,
    bundle: join(outdir, ENTRY_FILE),
    env: lambdaEnvironment(spec),
    sizes: {
      entryKb: entryBytes / 1_024,
      initKb: initBytes / 1_024,
      totalKb: totalBytes / 1_024,
      sourceMapKb: mapBytes / 1_024,
    },
  };
}

/**
 * Loads every target `runs` times, round-robin, so that changes in machine load (other processes
 * on two cores) spread evenly over the bundles and the ratios between them stay fair.
 */
async function loadAll(
  probe: string,
  targets: readonly Target[],
  runs: number,
): Promise<Map<Target, BundleLoad>> {
  const timings = new Map(targets.map((target) => [target, [] as LoadTiming[]]));
  for (let r = 0; r < runs; r++) {
    for (const target of targets) timings.get(target)?.push(await loadOnce(probe, target.bundle, target.env));
  }
  return new Map(
    [...timings].map(([target, runTimings]) => {
      const importRunsMs = runTimings.map((t) => t.importMs);
      const processInitRunsMs = runTimings.map((t) => t.processInitMs);
      const load: BundleLoad = {
        id: target.spec.id,
        entry: target.spec.entry,
        ...target.sizes,
        importMs: median(importRunsMs),
        importRunsMs,
        processInitMs: median(processInitRunsMs),
        processInitRunsMs,
      };
      return [target, load];
    }),
  );
}

/** Every table any of the functions touches, with the widest access. */
function unionTables(specs: readonly FunctionSpec[]): TableAccess {
  const tables: TableAccess = {};
  for (const spec of specs) {
    for (const [id, access] of Object.entries(spec.tables) as [keyof TableAccess, 'read' | 'write'][]) {
      if (tables[id] !== 'write') tables[id] = access;
    }
  }
  return tables;
}

const spread = (values: number[]) => ({ median: median(values), max: Math.max(...values) });

export async function coldStart(options: ColdStartOptions = DEFAULT_COLD_START_OPTIONS) {
  const folder = mkdtempSync(join(tmpdir(), 'vobee-bench-'));
  try {
    const probe = join(folder, 'probe.mjs');
    writeFileSync(probe, PROBE);
    const specs = FUNCTIONS.filter((f) => options.only === undefined || options.only.includes(f.id));
    const routes = specs.filter((f) => f.route !== undefined);

    const helloEntry = join(folder, 'hello-world.mjs');
    writeFileSync(helloEntry, HELLO_WORLD_SOURCE);
    const helloSpec: FunctionSpec = {
      id: 'HelloWorld',
      entry: helloEntry,
      description: 'A bare hello-world handler',
      tables: {},
    };
    const routerEntry = join(folder, 'router.mjs');
    writeFileSync(routerEntry, routerSource(routes));
    const routerSpec: FunctionSpec = {
      id: 'Router',
      entry: routerEntry,
      description: `One function serving ${routes.length} routes`,
      tables: unionTables(routes),
      callsFactories: routes.some((f) => f.callsFactories),
    };

    const bundleStart = performance.now();
    const hello = bundleTarget(helloSpec, join(folder, 'hello-world'));
    const functionTargets = specs.map((spec) => bundleTarget(spec, join(folder, 'functions', spec.id)));
    const router = routes.length > 1 ? bundleTarget(routerSpec, join(folder, 'router')) : undefined;
    const bundleMs = performance.now() - bundleStart;

    // What the stack's NODE_OPTIONS=--enable-source-maps costs at load, on the largest bundle.
    const largestTarget = [...functionTargets].sort((a, b) => b.sizes.initKb - a.sizes.initKb)[0];
    const withoutMaps = largestTarget && {
      ...largestTarget,
      env: { ...largestTarget.env, NODE_OPTIONS: '' },
    };

    // One unrecorded load first: the first process after a pause pays for a cold page cache.
    await loadOnce(probe, hello.bundle, hello.env);
    const loads = await loadAll(
      probe,
      [hello, ...functionTargets, ...(router ? [router] : []), ...(withoutMaps ? [withoutMaps] : [])],
      options.runs,
    );
    const loadOf = (target: Target) => loads.get(target) as BundleLoad;
    const helloLoad = loadOf(hello);
    const relative = (load: BundleLoad): HandlerSize => ({
      ...load,
      importRatio: load.importMs / helloLoad.importMs,
      processInitRatio: load.processInitMs / helloLoad.processInitMs,
    });
    const handlers = functionTargets.map((target) => relative(loadOf(target)));
    const routerLoad = router && relative(loadOf(router));

    const bySize = [...handlers].sort((a, b) => b.initKb - a.initKb);
    const byInit = [...handlers].sort((a, b) => b.processInitMs - a.processInitMs);
    const sourceMaps =
      largestTarget && withoutMaps
        ? {
            id: largestTarget.spec.id,
            withMs: loadOf(largestTarget).processInitMs,
            withoutMs: loadOf(withoutMaps).processInitMs,
            withoutRunsMs: loadOf(withoutMaps).processInitRunsMs,
            importWithMs: loadOf(largestTarget).importMs,
            importWithoutMs: loadOf(withoutMaps).importMs,
          }
        : undefined;

    const hotPathPresent = handlers.filter((h) => (HOT_PATH_IDS as readonly string[]).includes(h.id));
    const hotPath = {
      ids: hotPathPresent.map((h) => h.id),
      missing: HOT_PATH_IDS.filter((id) => !FUNCTIONS.some((f) => f.id === id)),
      budget: HOT_PATH_BUDGET,
      maxInitKb: hotPathPresent.length ? Math.max(...hotPathPresent.map((h) => h.initKb)) : undefined,
      maxProcessInitRatio: hotPathPresent.length
        ? Math.max(...hotPathPresent.map((h) => h.processInitRatio))
        : undefined,
      maxImportRatio: hotPathPresent.length
        ? Math.max(...hotPathPresent.map((h) => h.importRatio))
        : undefined,
      withinBudget:
        hotPathPresent.length > 0 &&
        hotPathPresent.every(
          (h) => h.initKb <= HOT_PATH_BUDGET.initKb && h.processInitRatio <= HOT_PATH_BUDGET.processInitRatio,
        ),
    };

    const routeLoads = handlers.filter((h) => routes.some((f) => f.id === h.id));
    return {
      setup: {
        bundler: `esbuild (cdk/bundling.ts: bundle, ESM, code splitting, minified, platform node, target ${BUNDLE_OPTIONS.target}, source map without sources, createRequire banner, AWS SDK bundled)`,
        node: process.version,
        runs: options.runs,
        definition: {
          initKb:
            'index.mjs plus every chunk it imports statically (chunks loaded only by import() excluded)',
          importMs: 'performance.now() around `await import(bundle)` inside a fresh node process',
          processInitMs:
            'from just before spawning a fresh node process until it reports the handler loaded (process start + module load, like Lambda INIT)',
          environment:
            'the stack environment (NODE_OPTIONS=--enable-source-maps) and Lambda-like variables with dummy values; median of the runs, bundles loaded round-robin',
        },
      },
      bundleMs,
      functions: handlers.length,
      helloWorld: helloLoad,
      hotPath,
      router:
        routerLoad && routeLoads.length
          ? {
              routes: routes.length,
              ...routerLoad,
              perRoute: {
                initKb: spread(routeLoads.map((h) => h.initKb)),
                totalKb: spread(routeLoads.map((h) => h.totalKb)),
                processInitMs: spread(routeLoads.map((h) => h.processInitMs)),
                processInitRatio: spread(routeLoads.map((h) => h.processInitRatio)),
              },
            }
          : undefined,
      largest: bySize[0],
      smallest: bySize[bySize.length - 1],
      slowestInit: byInit[0],
      fastestInit: byInit[byInit.length - 1],
      /** What a deployment uploads: every function's `.mjs` files. */
      totalKb: handlers.reduce((s, h) => s + h.totalKb, 0),
      processInitMedianMs: median(handlers.map((h) => h.processInitMs)),
      importMedianMs: median(handlers.map((h) => h.importMs)),
      sourceMaps,
      largestInitComposition:
        largestTarget && composition(largestTarget.metafile, 8, initOutputs(largestTarget.metafile)),
      handlers: bySize,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export type ColdStartReport = Awaited<ReturnType<typeof coldStart>>;
