/**
 * Cold start and size: every handler of the app manifest bundled as the stack bundles it, then
 * imported by a fresh Node process, timed around the `import()` alone (process start excluded).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { FUNCTIONS, type FunctionSpec } from '../lib/app.ts';
import { median } from './routing-quality.ts';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * The banner `cdk/constructs/manifest-function.ts` gives every bundle (a unit test keeps the two
 * equal): ESM output has no `require`, which CommonJS dependencies still call.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __vobeeCreateRequire } from 'node:module'; const require = __vobeeCreateRequire(import.meta.url);";

/** The target esbuild gets for the stack's runtime (Node.js 24). */
export const BUNDLE_TARGET = 'node24';

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
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
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
  return env;
}

const PROBE = `const start = performance.now();
await import(process.argv[2]);
const ms = performance.now() - start;
process.stdout.write(JSON.stringify({ ms }));
process.exit(0);
`;

function importOnce(probe: string, bundle: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [probe, pathToFileURL(bundle).href], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`import of ${bundle} exited ${code}: ${err.slice(0, 500)}`));
      try {
        resolvePromise((JSON.parse(out) as { ms: number }).ms);
      } catch {
        reject(new Error(`no timing from ${bundle}: ${out.slice(0, 200)} ${err.slice(0, 300)}`));
      }
    });
  });
}

/** Where the bytes of a bundle come from: output bytes by package (or `(repository)` for our code). */
export function composition(metafile: Metafile, top = 8): Array<{ source: string; kb: number }> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
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
  runs: number;
  /** Only these function ids (all when undefined). */
  only?: readonly string[];
}

export const DEFAULT_COLD_START_OPTIONS: ColdStartOptions = { runs: 5 };

export interface HandlerSize {
  id: string;
  entry: string;
  bundleKb: number;
  sourceMapKb: number;
  initMedianMs: number;
  initRunsMs: number[];
}

export async function coldStart(options: ColdStartOptions = DEFAULT_COLD_START_OPTIONS) {
  const folder = mkdtempSync(join(tmpdir(), 'vobee-bench-'));
  try {
    const probe = join(folder, 'probe.mjs');
    writeFileSync(probe, PROBE);
    const specs = FUNCTIONS.filter((f) => options.only === undefined || options.only.includes(f.id));
    const bundleStart = performance.now();
    // The stack's bundling options (cdk/constructs/manifest-function.ts via NodejsFunction).
    const metafiles = await Promise.all(
      specs.map((spec) =>
        build({
          absWorkingDir: ROOT,
          entryPoints: [resolve(ROOT, spec.entry)],
          outfile: join(folder, spec.id, 'index.mjs'),
          bundle: true,
          platform: 'node',
          target: BUNDLE_TARGET,
          format: 'esm',
          mainFields: ['module', 'main'],
          minify: true,
          sourcemap: true,
          sourcesContent: false,
          banner: { js: ESM_REQUIRE_BANNER },
          logLevel: 'error',
          metafile: true,
        }).then((result) => [spec.id, result.metafile] as const),
      ),
    );
    const bundleMs = performance.now() - bundleStart;
    const handlers: HandlerSize[] = [];
    for (const spec of specs) {
      const bundle = join(folder, spec.id, 'index.mjs');
      const env = lambdaEnvironment(spec);
      const runs: number[] = [];
      for (let r = 0; r < options.runs; r++) runs.push(await importOnce(probe, bundle, env));
      handlers.push({
        id: spec.id,
        entry: spec.entry,
        bundleKb: statSync(bundle).size / 1_024,
        sourceMapKb: statSync(`${bundle}.map`).size / 1_024,
        initMedianMs: median(runs),
        initRunsMs: runs,
      });
    }
    const bySize = [...handlers].sort((a, b) => b.bundleKb - a.bundleKb);
    const byInit = [...handlers].sort((a, b) => b.initMedianMs - a.initMedianMs);
    // What the stack's NODE_OPTIONS=--enable-source-maps costs at load, on the largest bundle.
    const largest = bySize[0];
    let sourceMaps: { id: string; withMs: number; withoutMs: number; withoutRunsMs: number[] } | undefined;
    if (largest) {
      const spec = specs.find((f) => f.id === largest.id) as FunctionSpec;
      const env = { ...lambdaEnvironment(spec), NODE_OPTIONS: '' };
      const runs: number[] = [];
      for (let r = 0; r < options.runs; r++) {
        runs.push(await importOnce(probe, join(folder, spec.id, 'index.mjs'), env));
      }
      sourceMaps = {
        id: largest.id,
        withMs: largest.initMedianMs,
        withoutMs: median(runs),
        withoutRunsMs: runs,
      };
    }
    const largestMeta = metafiles.find(([id]) => id === largest?.id)?.[1];
    return {
      setup: {
        bundler: `esbuild (bundle, ESM, minified, platform node, target ${BUNDLE_TARGET}, source map without sources, createRequire banner, AWS SDK bundled)`,
        node: process.version,
        runs: options.runs,
        definition:
          'init = performance.now() around `await import(bundle)` in a fresh node process with the stack environment (NODE_OPTIONS=--enable-source-maps) and Lambda-like variables set to dummy values; median of the runs',
      },
      bundleMs,
      functions: handlers.length,
      largest: bySize[0],
      smallest: bySize[bySize.length - 1],
      slowestInit: byInit[0],
      fastestInit: byInit[byInit.length - 1],
      totalBundleKb: handlers.reduce((s, h) => s + h.bundleKb, 0),
      initMedianOfMediansMs: median(handlers.map((h) => h.initMedianMs)),
      sourceMaps,
      largestComposition: largestMeta ? composition(largestMeta) : undefined,
      handlers: bySize,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export type ColdStartReport = Awaited<ReturnType<typeof coldStart>>;
