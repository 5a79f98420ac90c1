/**
 * How a Lambda function is bundled: the one definition the stack (cdk/constructs/manifest-function.ts)
 * and the cold-start benchmark (bench/cold-start.ts) both use.
 *
 * esbuild bundles the handler with the AWS SDK v3 into ESM with code splitting: what the handler
 * imports statically lands in `index.mjs` and the chunks it imports statically; what the SDK loads
 * through `import()` only when it needs it (the SSO, ini-file, process and web-identity credential
 * providers, the nested STS and SSO clients, event streams) lands in chunks that a function whose
 * credentials come from its environment, as in Lambda, never loads.
 */
import { resolve } from 'node:path';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync, type Metafile } from 'esbuild';

/** The repository root: manifest entry paths are relative to it, and esbuild works from it. */
const ROOT = resolve(import.meta.dirname, '..');

/** The newest Node.js runtime aws-cdk-lib knows; cdk-nag's L1 check compares against the same list. */
export const NODE_RUNTIME = Runtime.NODEJS_24_X;

/** The file every bundle starts from, and the `Handler` Lambda is given for it. */
export const ENTRY_FILE = 'index.mjs';
export const LAMBDA_HANDLER = 'index.handler';

/**
 * esbuild's ESM output has no `require`, and a CommonJS module bundled into it may still call
 * one (for a Node.js built-in), so every output file defines it.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __vobeeCreateRequire } from 'node:module'; const require = __vobeeCreateRequire(import.meta.url);";

/** `nodejs24.x` → `node24`. */
function esbuildTarget(runtime: Runtime): string {
  const major = /^nodejs(\d+)/.exec(runtime.name)?.[1];
  if (major === undefined) throw new Error(`not a Node.js runtime: ${runtime.name}`);
  return `node${major}`;
}

/**
 * The esbuild options of every function bundle, apart from the entry point and the output folder.
 * The AWS SDK is bundled rather than taken from the runtime, so the functions run the SDK versions
 * package-lock.json pins and the tests ran against.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: esbuildTarget(NODE_RUNTIME),
  format: 'esm',
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  mainFields: ['module', 'main'],
  minify: true,
  // Shipped, and read at run time because the stack sets NODE_OPTIONS=--enable-source-maps.
  sourcemap: true,
  sourcesContent: false,
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** Bytes of a bundle: the entry file, what loads with it at init, and every output file. */
export interface BundleSizes {
  /** `index.mjs` alone. */
  entryBytes: number;
  /** `index.mjs` and every chunk it reaches through static imports: what loads at init. */
  initBytes: number;
  /** Every `.mjs` file, including the chunks loaded only by `import()`. */
  totalBytes: number;
}

export interface BundleResult extends BundleSizes {
  metafile: Metafile;
}

/**
 * Bundles one handler into `outdir` (`index.mjs`, `chunks/*.mjs`, their source maps).
 * `entry` is absolute or relative to the repository root. Synchronous, because CDK's local
 * bundling hook is.
 */
export function bundleFunction(entry: string, outdir: string): BundleResult {
  const { metafile } = buildSync({
    ...BUNDLE_OPTIONS,
    absWorkingDir: ROOT,
    entryPoints: [resolve(ROOT, entry)],
    outdir,
    metafile: true,
  });
  return { metafile, ...bundleSizes(metafile) };
}

/** The sizes of a bundle from its metafile. */
export function bundleSizes(metafile: Metafile): BundleSizes {
  const entry = entryOutput(metafile);
  return {
    entryBytes: outputBytes(metafile, [entry]),
    initBytes: outputBytes(metafile, initOutputs(metafile)),
    totalBytes: outputBytes(
      metafile,
      Object.keys(metafile.outputs).filter((path) => path.endsWith('.mjs')),
    ),
  };
}

/**
 * The metafile key of `index.mjs`. Modules the code loads with `import()` are entry points too in
 * esbuild's metafile (named like chunks), so the entry is found by its file name.
 */
export function entryOutput(metafile: Metafile): string {
  const entries = Object.keys(metafile.outputs).filter(
    (path) => path === ENTRY_FILE || path.endsWith(`/${ENTRY_FILE}`),
  );
  if (entries.length !== 1 || entries[0] === undefined) {
    throw new Error(`expected one ${ENTRY_FILE} among the outputs, found ${entries.length}`);
  }
  return entries[0];
}

/**
 * The outputs loaded when the entry is imported: the entry and, transitively, every output it
 * imports with a static `import` statement. Outputs reached only through `import()` are left out,
 * and so are external modules (`node:*`).
 */
export function initOutputs(metafile: Metafile): string[] {
  const seen = new Set<string>();
  const pending = [entryOutput(metafile)];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path)) continue;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external && imported.path in metafile.outputs) {
        pending.push(imported.path);
      }
    }
  }
  return [...seen];
}

/** The summed size of some outputs of a metafile. */
export function outputBytes(metafile: Metafile, paths: readonly string[]): number {
  return paths.reduce((sum, path) => sum + (metafile.outputs[path]?.bytes ?? 0), 0);
}
