import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { lambdaEnvironment, routerSource } from '../../../bench/cold-start.ts';
import { BUNDLE_OPTIONS } from '../../../cdk/bundling.ts';
import { NODE_RUNTIME } from '../../../cdk/constructs/manifest-function.ts';
import { FUNCTIONS, type FunctionSpec } from '../../../lib/app.ts';

describe('the cold-start bundles', () => {
  it('target the Node.js runtime the stack deploys', () => {
    expect(`${BUNDLE_OPTIONS.target.replace(/^node/, 'nodejs')}.x`).toBe(NODE_RUNTIME.name);
  });

  it('load with the table variables of the tables each function touches', () => {
    for (const spec of FUNCTIONS) {
      const env = lambdaEnvironment(spec);
      for (const table of Object.keys(spec.tables))
        expect(env[`VOBEE_TABLE_${table.toUpperCase()}`]).toBeDefined();
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(env.AWS_EXECUTION_ENV).toBe(`AWS_Lambda_${NODE_RUNTIME.name}`);
    }
  });
});

describe('the router compared with one function per route', () => {
  const folder = mkdtempSync(join(tmpdir(), 'vobee-router-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const route = (id: string, method: 'GET' | 'POST', path: string): FunctionSpec => {
    const entry = join(folder, `${id}.mjs`);
    writeFileSync(
      entry,
      `export const handler = async (event) => ({ statusCode: 200, body: '${id} ' + event.body });\n`,
    );
    return { id, entry, description: id, tables: {}, route: { method, path } };
  };

  it('dispatches on the HTTP API route key to the route handler', async () => {
    const routes = [route('GetTask', 'GET', '/tasks/{taskId}'), route('SubmitTask', 'POST', '/tasks')];
    const routerFile = join(folder, 'router.mjs');
    writeFileSync(routerFile, routerSource(routes));
    const { handler } = await import(pathToFileURL(routerFile).href);
    expect(await handler({ routeKey: 'POST /tasks', body: 'x' }, {})).toEqual({
      statusCode: 200,
      body: 'SubmitTask x',
    });
    expect(await handler({ routeKey: 'GET /tasks/{taskId}', body: 'y' }, {})).toEqual({
      statusCode: 200,
      body: 'GetTask y',
    });
    expect((await handler({ routeKey: 'GET /nowhere' }, {})).statusCode).toBe(404);
  });

  it('refuses a function without a route', () => {
    expect(() => routerSource([{ id: 'Worker', entry: 'w.ts', description: 'w', tables: {} }])).toThrow(
      'Worker',
    );
  });
});
