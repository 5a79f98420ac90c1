import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * The console's sources (`console/` at the repository root), found from where this code runs:
 * `lib/console/` when run from source, `dist/` inside the bundled `vobee` command.
 */
export function findConsoleSources(from: string = import.meta.dirname): string | undefined {
  for (let dir = from, up = 0; up < 4; dir = dirname(dir), up++) {
    const candidate = join(dir, 'console');
    if (existsSync(join(candidate, 'src', 'main.tsx'))) return candidate;
  }
  return undefined;
}

/** A prebuilt console: the files of a bundle and how each is served, written by {@link writeConsole}. */
const MANIFEST = 'manifest.json';

/** One file of the built console: its bytes, their gzip, and how it is served. */
export interface ConsoleFile {
  body: Buffer;
  gzip: Buffer;
  contentType: string;
  /** Hashed assets never change under their name; the page itself is checked on every load. */
  immutable: boolean;
}

/** The console as served: files by path below `/console` (`/index.html`, `/assets/main-HASH.js`). */
export interface ConsoleBundle {
  files: Map<string, ConsoleFile>;
  /** Gzipped size of the script and style sheet together: what a first visit downloads besides the page. */
  gzipBytes: number;
  buildMs: number;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Builds the console in memory with esbuild: one minified ES module (Preact and the pages) and
 * one style sheet, named by content hash so browsers may keep them forever, and the page that
 * loads them. Nothing is written to disk.
 */
export async function buildConsole(
  sourceDir: string | undefined = findConsoleSources(),
): Promise<ConsoleBundle> {
  if (!sourceDir) throw new Error('the console sources (console/src) are not in this installation');
  const started = performance.now();
  // Loaded here, not at the top: esbuild is a build tool, needed only when the console is built.
  // Named through a variable so that bundling the `vobee` command leaves it out.
  const esbuild = 'esbuild';
  const { build } = (await import(esbuild)) as typeof import('esbuild');
  const result = await build({
    entryPoints: [join(sourceDir, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    write: false,
    outdir: join(sourceDir, 'assets'),
    entryNames: '[name]-[hash]',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map<string, ConsoleFile>();
  const assets: Record<'.js' | '.css', string | undefined> = { '.js': undefined, '.css': undefined };
  let gzipBytes = 0;
  for (const output of result.outputFiles) {
    const name = basename(output.path);
    const extension = name.endsWith('.css') ? '.css' : '.js';
    const body = Buffer.from(output.contents);
    const file = asset(body, extension, true);
    files.set(`/assets/${name}`, file);
    assets[extension] = `/console/assets/${name}`;
    gzipBytes += file.gzip.length;
  }
  if (!assets['.js']) throw new Error('the console build produced no script');
  const page = readFileSync(join(sourceDir, 'index.html'), 'utf8')
    .replace('%SCRIPT%', assets['.js'])
    .replace('%STYLES%', assets['.css'] ?? '');
  files.set('/index.html', asset(Buffer.from(page, 'utf8'), '.html', false));
  return { files, gzipBytes, buildMs: Math.round(performance.now() - started) };
}

function asset(body: Buffer, extension: string, immutable: boolean): ConsoleFile {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
    immutable,
  };
}

/** Writes a built console to `dir`, for an installation without its sources or esbuild. */
export function writeConsole(bundle: ConsoleBundle, dir: string): void {
  const manifest: Record<string, { contentType: string; immutable: boolean }> = {};
  for (const [path, file] of bundle.files) {
    const target = join(dir, 'files', path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.body);
    manifest[path] = { contentType: file.contentType, immutable: file.immutable };
  }
  writeFileSync(join(dir, MANIFEST), JSON.stringify(manifest, null, 2));
}

/** Reads a console written by {@link writeConsole}. */
export function readConsole(dir: string): ConsoleBundle {
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Record<
    string,
    { contentType: string; immutable: boolean }
  >;
  const files = new Map<string, ConsoleFile>();
  let gzipBytes = 0;
  for (const [path, { contentType, immutable }] of Object.entries(manifest)) {
    const body = readFileSync(join(dir, 'files', path));
    const file = { body, gzip: gzipSync(body, { level: 9 }), contentType, immutable };
    files.set(path, file);
    if (path.startsWith('/assets/')) gzipBytes += file.gzip.length;
  }
  return { files, gzipBytes, buildMs: 0 };
}

/**
 * The console to serve: built from its sources where they are (a checkout), else the copy written
 * beside the bundled command (`dist/console/`, see {@link writeConsole}).
 */
export async function loadConsole(): Promise<ConsoleBundle> {
  const sources = findConsoleSources();
  if (sources) return buildConsole(sources);
  const prebuilt = join(import.meta.dirname, 'console');
  if (existsSync(join(prebuilt, MANIFEST))) return readConsole(prebuilt);
  throw new Error(
    'neither the console sources (console/src) nor a prebuilt console (dist/console) were found',
  );
}

let shared: Promise<ConsoleBundle> | undefined;

/**
 * The console built once per process, on first use: every server of the process (a test may start
 * several runtimes) shares it. A failed build is not kept, so the next request tries again.
 */
export function sharedConsoleBundle(): Promise<ConsoleBundle> {
  shared ??= loadConsole().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}
