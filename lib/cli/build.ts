/**
 * Builds the `vobee` command into `dist/`: one ESM bundle of `lib/cli/main.ts` with everything it
 * imports, so the command runs on plain Node.js with no TypeScript loader and no `node_modules`.
 * `npm run build` runs it, and so does `prepare` (a fresh `npm install`, `npm pack`).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { isEntryPoint } from '../entry-point.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Where the command is built; `bin/vobee.js` imports {@link CLI_ENTRY} from it. */
export const CLI_DIST = join(ROOT, 'dist');
export const CLI_ENTRY = join(CLI_DIST, 'vobee.mjs');

/**
 * The oldest Node.js the built command runs on: the `engines` of package.json says the same, and
 * the command's own dependencies (commander, the AWS credential chain) ask for no newer one.
 */
export const CLI_NODE_TARGET = 'node20';

/**
 * esbuild's ESM output has no `require`, and a CommonJS module bundled into it (the AWS SDK's) may
 * still call one for a Node.js built-in, so every output file defines it.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __vobeeCreateRequire } from 'node:module'; const require = __vobeeCreateRequire(import.meta.url);";

const OPTIONS = {
  absWorkingDir: ROOT,
  entryPoints: [join(ROOT, 'lib', 'cli', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: CLI_NODE_TARGET,
  format: 'esm',
  // One file: what `import()` loads only when needed (the AWS credential chain) is inlined behind
  // a lazy initialiser, so it is parsed but not run; chunks would save about 15 ms a call.
  splitting: false,
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: 'warning',
} as const satisfies BuildOptions;

/**
 * Bundles the command and moves it into place with one rename, so a `vobee` started while a build
 * runs (tests do both) loads either the old build or the new one, never half of one.
 */
export async function buildCli(): Promise<{ entry: string; bytes: number }> {
  const result = await build({ ...OPTIONS, write: false, outfile: CLI_ENTRY });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) {
    throw new Error(`expected one output file, got ${result.outputFiles.length}`);
  }
  mkdirSync(CLI_DIST, { recursive: true });
  const partial = `${CLI_ENTRY}.${randomUUID()}.partial`;
  try {
    writeFileSync(partial, output.contents);
    renameSync(partial, CLI_ENTRY);
  } finally {
    rmSync(partial, { force: true });
  }
  return { entry: CLI_ENTRY, bytes: output.contents.byteLength };
}

if (isEntryPoint(import.meta.url)) {
  const { entry, bytes } = await buildCli();
  console.log(`built ${relative(ROOT, entry)} (${Math.round(bytes / 1024)} KiB)`);
}
