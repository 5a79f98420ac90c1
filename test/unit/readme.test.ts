import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/app.ts';
import { LIMITS } from '../../lib/core/limits.ts';

const README = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  it('documents every route of the app manifest, and no route that does not exist', () => {
    const documented = [...README.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    const routes = FUNCTIONS.filter((f) => f.route).map((f) => `${f.route?.method} ${f.route?.path}`);
    expect(documented.sort()).toEqual(routes.sort());
  });

  it('points "Where to change what" at files that exist', () => {
    const section = README.slice(README.indexOf('### Where to change what'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| --- |')));
    const files = [...table.matchAll(/`((?:lib|functions|cdk)\/[^`<]+\.ts)`/g)].map((m) => m[1] as string);
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(files.filter((file) => !existsSync(resolve(import.meta.dirname, '..', '..', file)))).toEqual([]);
  });

  it('lists every size limit once, with its value, as lib/core/limits.ts has it', () => {
    const section = README.slice(README.indexOf('\n## Limits\n'));
    const table = section.slice(
      section.indexOf('| limit |'),
      section.indexOf('\n\n', section.indexOf('| limit |')),
    );
    const units: Record<string, number> = { bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
    const rows = [...table.matchAll(/^\| `(\w+)` \| (\d+) (bytes|KiB|MiB|GiB) \|/gm)].map(
      (m) => [m[1], Number(m[2]) * (units[m[3] as string] as number)] as const,
    );
    expect(rows.length).toBe(table.split('\n').length - 2);
    expect(rows).toEqual(Object.entries(LIMITS).map(([name, limit]) => [name, limit.bytes]));
  });

  it('states the two commands', () => {
    expect(README).toContain('npm install && npm start');
    expect(README).toContain('npm install && npm test');
  });
});
