import { describe, expect, it } from 'vitest';
import {
  buildRunRequest,
  checkTemplate,
  formatWorkflow,
  formatWorkflows,
  type WorkflowIO,
} from '../../../lib/cli/commands/workflows.ts';
import { createStyle } from '../../../lib/cli/format.ts';
import { EXIT_CODES, main } from '../../../lib/cli/main.ts';
import { productLaunchCampaign } from '../../../lib/core/workflow/examples.ts';
import { validateTemplate } from '../../../lib/core/workflow/template.ts';
import type { WorkflowDetail } from '../../../lib/core/workflow/workflow-service.ts';
import { files, usage } from './support.ts';

const plain = createStyle(false);
const template = (steps: unknown[], extra: Record<string, unknown> = {}) => ({
  workflow_id: 'demo',
  name: 'Demo',
  steps,
  ...extra,
});
const good = { step_id: 'a', name: 'A', factory_type: 'research', action: 'market_analysis' };

/** Runs the CLI with a fetch that answers from `answer`, and records what was asked. */
async function run(
  argv: string[],
  answer?: (method: string, path: string) => { status: number; body: unknown },
  extra: Partial<WorkflowIO> = {},
) {
  const out = { text: '', write: (s: string) => (out.text += s) };
  const err = { text: '', write: (s: string) => (err.text += s) };
  const calls: string[] = [];
  const fetch = (async (url: URL | string, init: RequestInit = {}) => {
    const path = new URL(String(url)).pathname;
    calls.push(`${init.method} ${path}`);
    if (!answer) throw new Error('no request expected');
    const { status, body } = answer(init.method ?? 'GET', path);
    return new Response(JSON.stringify(body), { status });
  }) as typeof globalThis.fetch;
  const io: Partial<WorkflowIO> = {
    stdout: out,
    stderr: err,
    env: {},
    fetch,
    sleep: async () => {},
    ...extra,
  };
  const code = await main(argv, io);
  return { code, stdout: out.text, stderr: err.text, calls };
}

describe('exit codes', () => {
  it('give a cancelled run its own code, 8', () => {
    expect(EXIT_CODES.cancelled).toBe(8);
  });

  it.each([
    ['SUCCEEDED', EXIT_CODES.ok],
    ['FAILED', EXIT_CODES.taskFailed],
    ['CANCELLED', EXIT_CODES.cancelled],
  ])('a run that ends %s exits %i', async (status, code) => {
    const view = {
      executionId: 'demo-1',
      workflowId: 'demo',
      version: 1,
      status,
      startedAt: '2026-01-15T10:00:00.000Z',
      stoppedAt: '2026-01-15T10:00:01.000Z',
      currentSteps: [],
      steps: [{ stepId: 'a', status: status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED', attempts: 1 }],
      results: {},
    };
    const result = await run(['executions', 'watch', 'demo-1'], (_method, path) =>
      path === '/executions/demo-1'
        ? { status: 200, body: view }
        : { status: 200, body: { workflowId: 'demo', currentVersion: 1, template: template([good]) } },
    );
    expect(result.code).toBe(code);
    expect(result.calls).toEqual(['GET /executions/demo-1', 'GET /workflows/demo']);
  });
});

describe('checkTemplate', () => {
  it('accepts a valid template and fills its defaults', () => {
    expect(checkTemplate(productLaunchCampaign, 'x.json').steps[0]?.dependencies).toEqual([]);
  });

  it.each([
    [template([{ ...good, action: 'bad action' }]), 'steps.0.action: may contain only letters'],
    [template([{ step_id: 'a', factory_type: 'research', action: 'x' }]), 'steps.0.name: is required'],
    [template([{ ...good, extra: 1 }]), 'steps.0: Unrecognized key: "extra"'],
    [template([]), 'steps: must contain at least one step'],
    [template([{ ...good, dependencies: ['ghost'] }]), "steps.0.dependencies.0: unknown step 'ghost'"],
    [
      template([
        { ...good, dependencies: ['b'] },
        { ...good, step_id: 'b', dependencies: ['a'] },
      ]),
      'steps.0.dependencies: dependency cycle: a -> b -> a',
    ],
  ])('names the field of each problem (%#)', (input, message) => {
    expect(usage(() => checkTemplate(input, 'wf.json'))).toContain(`wf.json: ${message}`);
  });
});

describe('workflows register FILE (checked before anything is sent)', () => {
  it('exits 2 naming the field and the file, and sends nothing', async () => {
    const bad = JSON.stringify(template([good, { ...good, step_id: 'b', action: 'no spaces allowed' }]));
    const result = await run(['workflows', 'register', 'bad.json'], undefined, files({ 'bad.json': bad }));
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr).toMatch(/^error: bad\.json: steps\.1\.action: may contain only letters/);
    expect(result.stderr).toContain("Run 'vobee workflows register --help' for usage.");
    expect(result.calls).toEqual([]);
  });

  it('exits 2 for a file that is missing or not JSON', async () => {
    const missing = await run(['workflows', 'register', 'nope.json'], undefined, files({}));
    expect(missing.code).toBe(EXIT_CODES.usage);
    expect(missing.stderr).toContain('nope.json: cannot read the file (no such file)');
    const broken = await run(['workflows', 'register', 'b.json'], undefined, files({ 'b.json': '{' }));
    expect(broken.stderr).toContain('b.json: not valid JSON');
  });
});

describe('buildRunRequest', () => {
  const io = files({ 'wf.json': JSON.stringify(productLaunchCampaign), 'in.json': '{"region":"eu","n":2}' });

  it('takes an id or a template file, not both and not neither', () => {
    expect(usage(() => buildRunRequest(undefined, {}, io))).toContain('either a workflow ID or --file');
    expect(usage(() => buildRunRequest('x', { file: 'wf.json' }, io))).toContain('not both');
    expect(usage(() => buildRunRequest('bad id', {}, io))).toContain('ID: may contain only');
  });

  it('reads the input from --input pairs (key:=json for JSON) or from --input-file', () => {
    expect(buildRunRequest('demo', { input: ['product=Widget', 'budget:=1500'] }, io)).toMatchObject({
      workflowId: 'demo',
      input: { product: 'Widget', budget: 1500 },
      file: undefined,
    });
    expect(buildRunRequest('demo', { inputFile: 'in.json' }, io).input).toEqual({ region: 'eu', n: 2 });
    expect(usage(() => buildRunRequest('demo', { input: ['oops'] }, io))).toContain('--input oops: expected');
  });

  it('with --file, checks the template and runs its workflow id', () => {
    const request = buildRunRequest(undefined, { file: 'wf.json' }, io);
    expect(request.workflowId).toBe('product-launch-campaign');
    expect(request.file?.raw).toEqual(productLaunchCampaign);
    expect(request.file?.template.steps).toHaveLength(4);
  });

  it('refuses an idempotency key the API would refuse', () => {
    expect(usage(() => buildRunRequest('demo', { idempotencyKey: 'k'.repeat(257) }, io))).toContain(
      '--idempotency-key: must be at most 256 characters',
    );
  });

  it('--input and --input-file together are a usage error, caught by the parser', async () => {
    const result = await run(['workflows', 'run', 'demo', '--input-file', 'in.json', '--input', 'a=1']);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain('cannot be used with option');
    expect(result.calls).toEqual([]);
  });
});

describe('formatting workflows', () => {
  const head = {
    workflowId: 'product-launch-campaign',
    name: 'Product Launch Campaign',
    description: 'Generate media and conduct research for product launch',
    currentVersion: 1,
    latestVersion: 2,
    stateMachineArn: 'arn:sm',
    aliasArn: 'arn:sm:live',
    updatedAt: '2026-01-15T10:00:00.000Z',
    rev: 3,
  };

  it('lists workflows with the version runs use', () => {
    expect(formatWorkflows([head], plain)).toBe(
      [
        'WORKFLOW                 NAME                     LIVE  LATEST  UPDATED',
        'product-launch-campaign  Product Launch Campaign    v1      v2  2026-01-15T10:00:00.000Z',
      ].join('\n'),
    );
  });

  it('shows the steps by layer with their dependencies, then the versions', () => {
    const version = (v: number) => ({
      workflowId: head.workflowId,
      version: v,
      versionArn: `arn:sm:${v}`,
      states: 9,
      strategy: 'gated-parallel',
      createdAt: '2026-01-15T10:00:00.000Z',
      steps: 4,
    });
    const detail: WorkflowDetail = {
      ...head,
      template: validateTemplate(productLaunchCampaign),
      versions: [version(1), version(2)],
    };
    expect(formatWorkflow(detail, plain)).toBe(
      [
        'Workflow        product-launch-campaign',
        'Name            Product Launch Campaign',
        'Description     Generate media and conduct research for product launch',
        'Live version    v1',
        'Latest version  v2',
        'Updated         2026-01-15T10:00:00.000Z',
        '',
        'LAYER  STEP             NAME             FACTORY   ACTION               RETRIES  ON FAILURE  DEPENDS ON',
        '    0  research_market  Market Research  research  market_analysis            3  fail        -',
        '    0  discover_trends  Trend Discovery  research  discover_technology        3  fail        -',
        '    1  generate_images  Product Images   media     generate_images            3  fail        research_market',
        '    2  generate_video   Product Video    media     generate_video             3  fail        generate_images',
        '',
        'VERSION  LIVE  STEPS  STATES  STRATEGY        CREATED',
        '     v1  yes       4       9  gated-parallel  2026-01-15T10:00:00.000Z',
        '     v2  -         4       9  gated-parallel  2026-01-15T10:00:00.000Z',
      ].join('\n'),
    );
  });

  it('says so when the workflow is deployed with the stack and has no stored template', () => {
    const text = formatWorkflow({ ...head, template: undefined, versions: [] }, plain);
    expect(text).toContain('No template stored: this workflow is deployed with the stack (cdk/workflows).');
  });
});
