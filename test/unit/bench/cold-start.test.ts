import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaEnvironment, routerSource } from '../../../bench/cold-start.ts';
import { BUNDLE_OPTIONS } from '../../../cdk/bundling.ts';
import { FUNCTIONS, type FunctionSpec } from '../../../lib/app.ts';
import { logicalIdIn, makeApp } from '../../helpers/cdk-app.ts';

/** The properties of every Lambda function in the synthesized stack, by manifest id. */
interface DeployedFunction {
  Runtime: string;
  Environment: { Variables: Record<string, unknown> };
}

describe('the cold-start bundles, against the functions the stack deploys', () => {
  let deployed: Map<string, DeployedFunction>;
  beforeAll(() => {
    const { stack } = makeApp();
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
      string,
      { Properties: DeployedFunction }
    >;
    deployed = new Map(
      [...stack.functions].map(([id, construct]) => [
        id,
        resources[logicalIdIn(stack, construct.function)]?.Properties as DeployedFunction,
      ]),
    );
  });

  /** `node24` and `nodejs24.x` alike: the Node.js major version a target or a runtime names. */
  const nodeMajor = (name: string) => Number(/^node(?:js)?(\d+)(?:\.x)?$/.exec(name)?.[1]);

  it('are bundled for the Node.js major version every deployed function runs', () => {
    expect([...deployed.keys()].sort()).toEqual(FUNCTIONS.map((f) => f.id).sort());
    const target = nodeMajor(BUNDLE_OPTIONS.target);
    expect(target).toBeGreaterThan(0);
    for (const [id, properties] of deployed)
      expect([id, nodeMajor(properties.Runtime)]).toEqual([id, target]);
  });

  /**
   * What the stack wires in after it builds a function, which the benchmark leaves out: addresses
   * of other resources (queue, API, step function, workflows) and the workflow settings.
   */
  const WIRED_LATER = new Set([
    'VOBEE_TASK_QUEUE_URL',
    'VOBEE_CALLBACK_URL',
    'VOBEE_RUN_STEP_FUNCTION',
    'VOBEE_WORKFLOW_ROLE_ARN',
    'VOBEE_WORKFLOW_PREFIX',
    'VOBEE_DEPLOYED_WORKFLOWS',
    'VOBEE_WORKFLOW_LOG_GROUP_ARN',
    'VOBEE_WORKFLOW_LOG_LEVEL',
    'VOBEE_WORKFLOW_LOG_EXECUTION_DATA',
  ]);

  it('load with every other variable the stack sets on the function, and the runtime it runs on', () => {
    for (const spec of FUNCTIONS) {
      const env = lambdaEnvironment(spec);
      const { Runtime, Environment } = deployed.get(spec.id) as DeployedFunction;
      const own = Object.keys(Environment.Variables).filter((name) => !WIRED_LATER.has(name));
      for (const table of Object.keys(spec.tables))
        expect(own).toContain(`VOBEE_TABLE_${table.toUpperCase()}`);
      expect([spec.id, Object.keys(env)]).toEqual([spec.id, expect.arrayContaining(own)]);
      // What shapes how modules load is the same; names of resources (tables, prefix) differ.
      for (const name of ['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE'])
        expect([spec.id, name, env[name]]).toEqual([spec.id, name, Environment.Variables[name]]);
      expect(env.AWS_EXECUTION_ENV).toBe(`AWS_Lambda_${Runtime}`);
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
