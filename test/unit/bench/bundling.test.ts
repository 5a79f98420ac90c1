import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BundleResult,
  bundleFunction,
  bundleSizes,
  ENTRY_FILE,
  entryOutput,
  initOutputs,
} from '../../../cdk/bundling.ts';

type Output = Metafile['outputs'][string];
const output = (bytes: number, imports: Output['imports'] = []): Output => ({
  bytes,
  imports,
  exports: [],
  inputs: {},
});

/**
 * index.mjs ─static→ a ─static→ c ─static→ a (a cycle)
 *     │              └─dynamic→ d ─static→ c
 *     └─dynamic→ b;  index.mjs also imports node:fs, and every file has a source map.
 */
const FIXTURE: Metafile = {
  inputs: {},
  outputs: {
    'out/index.mjs': output(1_000, [
      { path: 'out/chunks/a-1.mjs', kind: 'import-statement' },
      { path: 'out/chunks/b-2.mjs', kind: 'dynamic-import' },
      { path: 'node:fs', kind: 'import-statement', external: true },
    ]),
    'out/index.mjs.map': output(9_000),
    'out/chunks/a-1.mjs': output(200, [
      { path: 'out/chunks/c-3.mjs', kind: 'import-statement' },
      { path: 'out/chunks/d-4.mjs', kind: 'dynamic-import' },
    ]),
    'out/chunks/a-1.mjs.map': output(900),
    'out/chunks/b-2.mjs': output(30, [{ path: 'out/chunks/c-3.mjs', kind: 'import-statement' }]),
    'out/chunks/c-3.mjs': output(4, [{ path: 'out/chunks/a-1.mjs', kind: 'import-statement' }]),
    'out/chunks/d-4.mjs': output(50_000, [{ path: 'out/chunks/c-3.mjs', kind: 'import-statement' }]),
    // Named like an entry, but a dynamically imported module: not the bundle's entry.
    'out/chunks/index-5.mjs': output(7),
  },
};

describe('bundle sizes from a metafile', () => {
  it('finds the entry file among outputs that esbuild also marks as entry points', () => {
    expect(entryOutput(FIXTURE)).toBe('out/index.mjs');
  });

  it('follows static imports through chunks, cycles included, and leaves out dynamic imports', () => {
    expect(initOutputs(FIXTURE).sort()).toEqual([
      'out/chunks/a-1.mjs',
      'out/chunks/c-3.mjs',
      'out/index.mjs',
    ]);
  });

  it('counts the entry, the init closure, and every .mjs file without source maps', () => {
    expect(bundleSizes(FIXTURE)).toEqual({
      entryBytes: 1_000,
      initBytes: 1_000 + 200 + 4,
      totalBytes: 1_000 + 200 + 30 + 4 + 50_000 + 7,
    });
  });

  it('refuses a metafile without exactly one entry file', () => {
    const { 'out/index.mjs': _, ...withoutEntry } = FIXTURE.outputs;
    expect(() => entryOutput({ ...FIXTURE, outputs: withoutEntry })).toThrow(ENTRY_FILE);
  });
});

describe('a real bundle with a dynamic import', () => {
  let folder: string;
  let outdir: string;
  let result: BundleResult;
  const files = () =>
    readdirSync(outdir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => join(outdir, file));
  const fileWith = (marker: string) => {
    const found = files().filter((file) => readFileSync(file, 'utf8').includes(marker));
    expect(found).toHaveLength(1);
    return found[0] as string;
  };
  const size = (file: string) => statSync(file).size;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'vobee-bundling-'));
    outdir = join(folder, 'out');
    writeFileSync(join(folder, 'shared.mjs'), "export const shared = 'SHARED_MARKER';\n");
    writeFileSync(
      join(folder, 'lazy.mjs'),
      "import { shared } from './shared.mjs';\nexport const lazy = ['LAZY_MARKER', shared].join(' ');\n",
    );
    // A CommonJS dependency calling require(), which ESM output only has through the banner.
    writeFileSync(join(folder, 'legacy.cjs'), "module.exports = require('node:path').sep;\n");
    writeFileSync(
      join(folder, 'entry.mjs'),
      [
        "import { shared } from './shared.mjs';",
        "import sep from './legacy.cjs';",
        'export const handler = async () => ({ shared, sep, lazy: (await import("./lazy.mjs")).lazy });',
        '',
      ].join('\n'),
    );
    result = bundleFunction(join(folder, 'entry.mjs'), outdir);
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('writes index.mjs and its chunks', () => {
    expect(readdirSync(outdir)).toContain(ENTRY_FILE);
    expect(files().filter((file) => file.includes('/chunks/')).length).toBeGreaterThanOrEqual(2);
  });

  it('counts what loads at init apart from the dynamically imported chunk', () => {
    const entry = join(outdir, ENTRY_FILE);
    const shared = fileWith('SHARED_MARKER');
    const lazy = fileWith('LAZY_MARKER');
    expect(new Set([entry, shared, lazy]).size).toBe(3);
    expect(result.entryBytes).toBe(size(entry));
    expect(result.initBytes).toBe(size(entry) + size(shared));
    expect(result.totalBytes).toBe(files().reduce((sum, file) => sum + size(file), 0));
    expect(result.totalBytes).toBe(result.initBytes + size(lazy));
  });

  it('runs as ESM, CommonJS require and the dynamic import included', async () => {
    const { handler } = await import(pathToFileURL(join(outdir, ENTRY_FILE)).href);
    expect(await handler()).toEqual({ shared: 'SHARED_MARKER', sep: '/', lazy: 'LAZY_MARKER SHARED_MARKER' });
  });
});
