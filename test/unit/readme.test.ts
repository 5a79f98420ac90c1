import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/app.ts';

const README = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  it('documents every route of the app manifest, and no route that does not exist', () => {
    const documented = [...README.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    const routes = FUNCTIONS.filter((f) => f.route).map((f) => `${f.route?.method} ${f.route?.path}`);
    expect(documented.sort()).toEqual(routes.sort());
  });

  it('states the two commands', () => {
    expect(README).toContain('npm install && npm start');
    expect(README).toContain('npm install && npm test');
  });
});
