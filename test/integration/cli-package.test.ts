import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_NODE_TARGET } from '../../lib/cli/build.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
};
const run = promisify(execFile);

/**
 * The environment of a user's shell: without the `node_modules/.bin` folders npm puts first on the
 * PATH of the process running the tests (so `node` and `npm` are the system's, which may be older
 * than the Node.js of the project), and without npm's own `npm_*` variables.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.split(sep).includes('node_modules'))
    .join(delimiter);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
  return { ...env, PATH: path, npm_config_update_notifier: 'false', npm_config_fund: 'false', ...extra };
}

/** The oldest major version of Node.js `engines` allows (`>=20` -> 20). */
const MIN_NODE_MAJOR = Number(/^>=\s*(\d+)/.exec(PACKAGE.engines.node)?.[1]);

describe('the vobee package', () => {
  const work = mkdtempSync(join(tmpdir(), 'vobee-package-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('declares the Node.js its built command is built for', () => {
    expect(`node${MIN_NODE_MAJOR}`).toBe(CLI_NODE_TARGET);
  });

  it('packs only the command (bin/ and the built dist/), which runs installed in a clean folder with nothing else', {
    timeout: 120_000,
  }, async () => {
    const started = Date.now();
    // `npm pack` runs `prepare`, which builds dist/vobee.mjs.
    const packed = await run('npm', ['pack', '--pack-destination', work], { cwd: ROOT, env: userEnv() });
    const tarball = packed.stdout.trim().split('\n').pop() as string;
    expect(tarball).toBe(`${PACKAGE.name}-${PACKAGE.version}.tgz`);
    const listed = (await run('tar', ['-tzf', join(work, tarball)])).stdout.trim().split('\n').sort();
    expect(listed).toEqual([
      'package/README.md',
      'package/bin/vobee.js',
      'package/dist/vobee.mjs',
      'package/package.json',
    ]);

    // The package alone, offline: the lockfile lists it without the dependencies its manifest
    // names (the orchestrator's, which the bundle inlines), so nothing else is installed and no
    // registry is asked; the command must then run on the bundle alone.
    const app = join(work, 'app');
    mkdirSync(app);
    const spec = `file:../${tarball}`;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ private: true, dependencies: { [PACKAGE.name]: spec } }),
    );
    writeFileSync(
      join(app, 'package-lock.json'),
      JSON.stringify({
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { dependencies: { [PACKAGE.name]: spec } },
          [`node_modules/${PACKAGE.name}`]: {
            version: PACKAGE.version,
            resolved: spec,
            bin: { vobee: 'bin/vobee.js' },
            engines: PACKAGE.engines,
          },
        },
      }),
    );
    await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: app,
      env: userEnv(),
    });
    expect(existsSync(join(app, 'node_modules', PACKAGE.name, 'dist', 'vobee.mjs'))).toBe(true);

    // `vobee` by name, as the shell finds it, run by the system's Node.js.
    const env = userEnv({ PATH: `${join(app, 'node_modules', '.bin')}${delimiter}${userEnv().PATH}` });
    const node = (await run('node', ['--version'], { env })).stdout.trim();
    expect(Number(/^v(\d+)/.exec(node)?.[1])).toBeGreaterThanOrEqual(MIN_NODE_MAJOR);
    const help = await run('vobee', ['--help'], { cwd: app, env });
    expect(help.stdout).toMatch(/^Usage: vobee \[options\] \[command\]/);
    expect(help.stdout).toContain('-v, --version');
    expect(help.stdout).toContain('task submit');
    expect(help.stderr).toBe('');
    for (const flag of ['--version', '-v']) {
      const version = await run('vobee', [flag], { cwd: app, env });
      expect(version).toMatchObject({ stdout: `${PACKAGE.version}\n`, stderr: '' });
    }
    console.log(
      `packed, installed and ran the vobee package on Node.js ${node} in ${Date.now() - started} ms`,
    );
  });

  it('`npx vobee --version` prints the version line and nothing else, also with the system Node.js', {
    timeout: 60_000,
  }, async () => {
    // A fresh npm cache: npx then installs the project into it, checking its `engines` against
    // the Node.js npm itself runs on, as on a user's first call.
    const cache = join(work, 'npm-cache');
    const result = await run('npx', ['vobee', '--version'], {
      cwd: ROOT,
      env: userEnv({ npm_config_cache: cache, npm_config_offline: 'true' }),
    });
    expect(result).toMatchObject({ stdout: `${PACKAGE.version}\n`, stderr: '' });
  });
});
