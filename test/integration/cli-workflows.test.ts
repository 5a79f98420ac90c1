import { describe, expect, it } from 'vitest';
import type { WorkflowIO } from '../../lib/cli/commands/workflows.ts';
import { EXIT_CODES, main } from '../../lib/cli/main.ts';
import { productLaunchCampaign } from '../../lib/core/workflow/examples.ts';
import { validateTemplate } from '../../lib/core/workflow/template.ts';
import { sink, useFakeApi } from '../helpers/fake-api.ts';

/**
 * The workflow commands through `main()` against a fake API on loopback: each route answers
 * canned JSON in the shapes the handlers in functions/api return, `GET /executions/{id}` plays a
 * scripted run poll by poll, and every request is recorded. The clock and the sleep between
 * polls are injected, so a run of many polls takes no real time and its timings are exact.
 */
const fake = useFakeApi();
const { recorded, on } = fake;

const T0 = Date.parse('2026-01-15T10:00:00.000Z');
/** An ISO time `s` seconds into the run. */
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

async function vobee(
  argv: string[],
  options: {
    tty?: boolean;
    files?: Record<string, string>;
    env?: Record<string, string>;
    written?: Record<string, string>;
  } = {},
) {
  const stdout = sink();
  const stderr = sink(options.tty);
  // The clock starts just after the run did and moves only when the CLI sleeps between polls.
  let now = T0 + 120;
  const sleeps: number[] = [];
  const io: Partial<WorkflowIO> = {
    stdout,
    stderr,
    env: options.env ?? {},
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    readFile: (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return text;
    },
    writeFile: (path, text) => {
      if (!options.written) throw Object.assign(new Error('read-only'), { code: 'EACCES' });
      options.written[path] = text;
    },
  };
  const code = await main(['--endpoint', fake.endpoint, ...argv], io);
  return { code, stdout: stdout.text, stderr: stderr.text, sleeps };
}

const WF = 'product-launch-campaign';
const ID = 'product-launch-campaign-7c1d2e3f9a0b4';
const template = validateTemplate(productLaunchCampaign);
const head = {
  workflowId: WF,
  name: 'Product Launch Campaign',
  description: template.description,
  currentVersion: 1,
  latestVersion: 1,
  stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:vobee-wf-product-launch-campaign',
  aliasArn: 'arn:aws:states:local:000000000000:stateMachine:vobee-wf-product-launch-campaign:live',
  updatedAt: at(-60),
  rev: 1,
};
const detail = {
  ...head,
  template,
  versions: [
    {
      workflowId: WF,
      version: 1,
      versionArn: `${head.stateMachineArn}:1`,
      states: 9,
      strategy: 'gated-parallel',
      createdAt: at(-60),
      steps: 4,
    },
  ],
};

type Step = { stepId: string; status: string; attempts: number; [key: string]: unknown };
const step = (stepId: string, status: string, extra: Record<string, unknown> = {}): Step => ({
  stepId,
  status,
  attempts: 1,
  ...extra,
});
const execution = (status: string, steps: Step[], extra: Record<string, unknown> = {}) => ({
  executionId: ID,
  workflowId: WF,
  version: 1,
  status,
  startedAt: at(0),
  currentSteps: steps
    .filter((s) => ['RUNNING', 'WAITING', 'CALLBACK'].includes(s.status))
    .map((s) => s.stepId),
  steps,
  results: Object.fromEntries(steps.filter((s) => s.status === 'SUCCEEDED').map((s) => [s.stepId, {}])),
  ...extra,
});

const marketDone = step('research_market', 'SUCCEEDED', {
  service: 'research-factory',
  startedAt: at(0.1),
  endedAt: at(0.5),
});
const trendsDone = step('discover_trends', 'SUCCEEDED', {
  service: 'research-factory',
  startedAt: at(0.1),
  endedAt: at(0.7),
});
const imagesDone = step('generate_images', 'SUCCEEDED', {
  service: 'media-factory',
  startedAt: at(0.52),
  endedAt: at(0.8),
});

/**
 * The launch campaign, poll by poll: both research steps start; market research ends and the run
 * is paused (running steps finish, the video waits); it is resumed; the video fails once, is
 * retried and succeeds. `end` replaces the last poll, for runs that end otherwise.
 */
function script(end?: ReturnType<typeof execution>) {
  const polls = [
    execution('RUNNING', [
      step('research_market', 'RUNNING', { startedAt: at(0.1) }),
      step('discover_trends', 'RUNNING', { startedAt: at(0.1) }),
    ]),
    execution('PAUSED', [
      marketDone,
      step('discover_trends', 'RUNNING', { startedAt: at(0.1) }),
      step('generate_images', 'RUNNING', { startedAt: at(0.52) }),
    ]),
    execution('PAUSED', [marketDone, trendsDone, imagesDone, step('generate_video', 'WAITING')]),
    execution('RUNNING', [
      marketDone,
      trendsDone,
      imagesDone,
      step('generate_video', 'RUNNING', { startedAt: at(1.02) }),
    ]),
    execution('RUNNING', [
      marketDone,
      trendsDone,
      imagesDone,
      step('generate_video', 'FAILED', {
        startedAt: at(1.02),
        endedAt: at(1.2),
        error: 'media-factory: 503',
      }),
    ]),
    execution('RUNNING', [
      marketDone,
      trendsDone,
      imagesDone,
      step('generate_video', 'RUNNING', { attempts: 2, startedAt: at(1.4), endedAt: at(1.2) }),
    ]),
    end ??
      execution(
        'SUCCEEDED',
        [
          marketDone,
          trendsDone,
          imagesDone,
          step('generate_video', 'SUCCEEDED', {
            attempts: 2,
            service: 'media-factory',
            startedAt: at(1.4),
            endedAt: at(1.8),
          }),
        ],
        { stoppedAt: at(1.82) },
      ),
  ];
  on(`POST /workflows/${WF}/executions`, { status: 202, body: execution('RUNNING', []) });
  on(`GET /workflows/${WF}`, { status: 200, body: detail });
  on(`GET /executions/${ID}`, (_r, n) => ({
    status: 200,
    body: polls[Math.min(n, polls.length) - 1],
  }));
  return polls;
}

const FINAL_VIEW = [
  `Execution ${ID}  ${WF} v1  SUCCEEDED  1.8s`,
  '',
  'L0 ✓ research_market  Market Research  research-factory             0.4s',
  '   ✓ discover_trends  Trend Discovery  research-factory             0.6s',
  'L1 ✓ generate_images  Product Images   media-factory                0.3s  ← research_market',
  'L2 ✓ generate_video   Product Video    media-factory     attempt 2  0.4s  ← generate_images',
  '',
  'Succeeded in 1.8s: 4 of 4 steps succeeded.',
  '',
].join('\n');

describe('workflows run: waits with progress on stderr, the result on stdout', () => {
  it('prints one line per step event when stderr is not a terminal, then the final view (exit 0)', async () => {
    script();
    const { code, stdout, stderr, sleeps } = await vobee([
      'workflows',
      'run',
      WF,
      '--input',
      'product=Widget',
      'budget:=1500',
      '--idempotency-key',
      'launch-1',
    ]);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stderr).toBe(
      [
        `Execution ${ID}  ${WF} v1`,
        ' 0.1s  research_market  RUNNING',
        ' 0.1s  discover_trends  RUNNING',
        ' 0.5s  research_market  SUCCEEDED (0.4s, research-factory)',
        ' 0.5s  generate_images  RUNNING',
        ' 0.6s  (execution)      PAUSED',
        ' 0.7s  discover_trends  SUCCEEDED (0.6s, research-factory)',
        ' 0.8s  generate_images  SUCCEEDED (0.3s, media-factory)',
        ' 0.9s  generate_video   WAITING (paused)',
        ' 1.0s  generate_video   RUNNING',
        ' 1.1s  (execution)      RUNNING',
        ' 1.2s  generate_video   FAILED (0.2s): media-factory: 503',
        ' 1.4s  generate_video   RUNNING (attempt 2)',
        ' 1.8s  generate_video   SUCCEEDED (0.4s, media-factory, 2 attempts)',
        ' 1.8s  (execution)      SUCCEEDED',
        '',
      ].join('\n'),
    );
    expect(stdout).toBe(FINAL_VIEW);
    // One start, one template fetch, then a poll every 250 ms until the run ended.
    expect(recorded.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /workflows/${WF}/executions`,
      `GET /workflows/${WF}`,
      ...Array.from({ length: 7 }, () => `GET /executions/${ID}`),
    ]);
    expect(sleeps).toEqual(Array.from({ length: 7 }, () => 250));
    expect(recorded[0]?.body).toEqual({ input: { product: 'Widget', budget: 1500 } });
    expect(recorded[0]?.headers['idempotency-key']).toBe('launch-1');
  });

  it('redraws the DAG in place on a terminal, then erases it and prints the final view', async () => {
    script();
    // Without colour, so the frames compare as plain text; colour itself is tested with the view.
    const { code, stdout, stderr } = await vobee(['workflows', 'run', WF], {
      tty: true,
      env: { NO_COLOR: '1' },
    });
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toBe(FINAL_VIEW);
    // Eight frames of nine lines (the started run, then seven polls): the first drawn where the
    // cursor is, each next one after moving up over the last, and the last one erased.
    const frames = stderr.split('\u001b[9A');
    expect(frames).toHaveLength(9);
    expect(frames[0]?.startsWith(`\r\u001b[2KExecution ${ID}  ${WF} v1  RUNNING  0.1s\n`)).toBe(true);
    expect(frames[8]).toBe('\r\u001b[J');
    for (const frame of frames.slice(0, 8)) {
      expect(frame.split('\r\u001b[2K')).toHaveLength(10);
      expect(frame.endsWith('\u001b[J')).toBe(true);
    }
    // The paused frame: market research done, the images still running, the video not reached.
    expect(frames[2]).toBe(
      [
        `\r\u001b[2KExecution ${ID}  ${WF} v1  PAUSED  0.6s\n`,
        '\r\u001b[2K\n',
        '\r\u001b[2KL0 ✓ research_market  Market Research  research-factory  0.4s\n',
        '\r\u001b[2K   ▶ discover_trends  Trend Discovery                    0.5s\n',
        '\r\u001b[2KL1 ▶ generate_images  Product Images                     0.1s  ← research_market\n',
        '\r\u001b[2KL2 · generate_video   Product Video                            ← generate_images\n',
        '\r\u001b[2K\n',
        `\r\u001b[2KCtrl-C stops watching, not the run (vobee executions pause|cancel ${ID})\n`,
        '\r\u001b[2K· pending  ▶ running  ⧗ callback  ⏸ paused  ✓ succeeded  ✗ failed  ↷ skipped\n',
        '\u001b[J',
      ].join(''),
    );
    expect(frames[3]).toContain('L2 ⏸ generate_video');
    expect(frames[6]).toContain(
      'L2 ▶ generate_video   Product Video                      attempt 2  0.2s  ← generate_images\n',
    );
  });

  it('--json prints only the raw final view on stdout; the events still go to stderr', async () => {
    const polls = script();
    const { code, stdout, stderr } = await vobee(['workflows', 'run', WF, '--json'], { tty: true });
    expect(code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(stdout)).toEqual(polls[polls.length - 1]);
    expect(stderr).not.toContain('\u001b[');
    expect(stderr).toContain(' 1.8s  (execution)      SUCCEEDED\n');
  });

  it('exits 7 when the run FAILED, naming the failed step and its error', async () => {
    script(
      execution(
        'FAILED',
        [
          marketDone,
          trendsDone,
          imagesDone,
          step('generate_video', 'FAILED', {
            attempts: 4,
            startedAt: at(1.4),
            endedAt: at(1.9),
            error: 'every video service failed: media-factory: 503',
          }),
        ],
        { stoppedAt: at(2), error: { error: 'StepFailed', cause: 'every video service failed' } },
      ),
    );
    const { code, stdout, stderr } = await vobee(['workflows', 'run', WF]);
    expect(code).toBe(EXIT_CODES.taskFailed);
    expect(stdout).toContain(
      'L2 ✗ generate_video   Product Video                      attempt 4  0.5s  ← generate_images',
    );
    expect(stdout).toContain(
      'Failed after 2.0s at step generate_video (Product Video): every video service failed: media-factory: 503',
    );
    expect(stderr).toContain(' 1.9s  generate_video   FAILED (0.5s, 4 attempts): every video service failed');
    expect(stderr.trimEnd().split('\n').pop()).toBe(
      `Execution ${ID} FAILED at step generate_video: every video service failed: media-factory: 503`,
    );
  });

  it('exits 8 when the run was CANCELLED', async () => {
    script(
      execution(
        'CANCELLED',
        [
          marketDone,
          trendsDone,
          imagesDone,
          step('generate_video', 'FAILED', {
            attempts: 2,
            startedAt: at(1.4),
            error: 'the run ended (CANCELLED) before the step did',
          }),
        ],
        { stoppedAt: at(1.5) },
      ),
    );
    const { code, stdout, stderr } = await vobee(['workflows', 'run', WF]);
    expect(code).toBe(EXIT_CODES.cancelled);
    expect(code).toBe(8);
    expect(stdout).toContain('Cancelled after 1.5s: 3 of 4 steps succeeded.');
    expect(stderr).toContain(' 1.5s  (execution)      CANCELLED\n');
    expect(stderr.trimEnd().split('\n').pop()).toBe(`Execution ${ID} was CANCELLED`);
  });

  it('--file checks and registers the template first, then runs it, drawing from the file', async () => {
    script();
    on('POST /workflows', {
      status: 201,
      body: {
        ...head,
        currentVersion: 2,
        latestVersion: 2,
        compiled: {
          states: 9,
          taskStates: 4,
          parallelStates: 1,
          passStates: 3,
          failStates: 1,
          parallelDepth: 1,
          strategy: 'gated-parallel',
        },
      },
    });
    const file = JSON.stringify(productLaunchCampaign);
    const { code, stdout, stderr } = await vobee(['workflows', 'run', '--file', 'launch.json'], {
      files: { 'launch.json': file },
    });
    expect(code).toBe(EXIT_CODES.ok);
    expect(recorded.slice(0, 3).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /workflows',
      `POST /workflows/${WF}/executions`,
      `GET /executions/${ID}`,
    ]);
    expect(recorded[0]?.body).toEqual(productLaunchCampaign);
    expect(stderr.split('\n')[0]).toBe(`Registered workflow ${WF} v2: 4 steps, 9 states (gated-parallel)`);
    // The run is v1 in the script while the file was registered as v2: the view says so.
    expect(stdout).toContain('Drawn from the template of v2, the current version; this run is v1.');
  });

  it('--file with a bad template exits 2 naming the field, and sends nothing', async () => {
    const bad = JSON.stringify({
      ...productLaunchCampaign,
      steps: [{ ...productLaunchCampaign.steps[0], action: 'market analysis' }],
    });
    const { code, stderr } = await vobee(['workflows', 'run', '--file', 'bad.json'], {
      files: { 'bad.json': bad },
    });
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('error: --file bad.json: steps.0.action: may contain only letters');
    expect(recorded).toHaveLength(0);
  });

  it('--no-wait prints the started run and returns at once', async () => {
    script();
    const started = await vobee(['workflows', 'run', WF, '--no-wait']);
    expect(started.code).toBe(EXIT_CODES.ok);
    expect(started.stdout).toBe(
      `Execution ${ID} started: RUNNING\nFollow it with: vobee executions watch ${ID}\n`,
    );
    expect(recorded).toHaveLength(1);
    on(`POST /workflows/${WF}/executions`, { status: 200, body: execution('RUNNING', []) });
    const again = await vobee(['workflows', 'run', WF, '--no-wait', '--idempotency-key', 'k']);
    expect(again.stdout).toContain('was already started with this key: RUNNING');
  });

  it('a workflow that does not exist exits 3 with a hint', async () => {
    const { code, stderr } = await vobee(['workflows', 'run', 'ghost']);
    expect(code).toBe(EXIT_CODES.notFound);
    expect(stderr).toContain('See the registered workflows with: vobee workflows list');
  });
});

describe('executions', () => {
  it('show draws the run once, without waiting', async () => {
    const polls = script();
    const { code, stdout, sleeps } = await vobee(['executions', 'show', ID]);
    expect(code).toBe(EXIT_CODES.ok);
    expect(sleeps).toEqual([]);
    expect(stdout).toContain(`Execution ${ID}  ${WF} v1  RUNNING  0.1s`);
    expect(stdout).toContain(`Running: 0 of 4 steps succeeded. Follow it with: vobee executions watch ${ID}`);
    expect(stdout).toContain('L0 ▶ research_market');
    const json = await vobee(['executions', 'show', ID, '--json']);
    expect(JSON.parse(json.stdout)).toEqual(polls[1]);
    // --json needs no template: only the execution was read.
    expect(recorded.filter((r) => r.path.startsWith('/workflows'))).toHaveLength(1);
  });

  it('watch follows an existing run to its end', async () => {
    script();
    const { code, stdout, stderr } = await vobee(['executions', 'watch', ID]);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toBe(FINAL_VIEW);
    expect(stderr).toContain(' 0.1s  research_market  RUNNING\n');
    expect(recorded[0]?.path).toBe(`/executions/${ID}`);
  });

  it('pause, resume and cancel post to the run and print its new status', async () => {
    on(`POST /executions/${ID}/pause`, { status: 200, body: execution('PAUSED', []) });
    on(`POST /executions/${ID}/resume`, { status: 200, body: execution('RUNNING', []) });
    on(`POST /executions/${ID}/cancel`, { status: 200, body: execution('CANCELLED', []) });
    const pause = await vobee(['executions', 'pause', ID]);
    expect(pause.stdout).toBe(
      `Paused execution ${ID}: PAUSED\nResume it with: vobee executions resume ${ID}\n`,
    );
    expect((await vobee(['executions', 'resume', ID])).stdout).toContain(`Resumed execution ${ID}: RUNNING`);
    const cancel = await vobee(['executions', 'cancel', ID, '--json']);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ status: 'CANCELLED' });
    expect(recorded.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /executions/${ID}/pause`,
      `POST /executions/${ID}/resume`,
      `POST /executions/${ID}/cancel`,
    ]);
  });

  it('redrive posts to the run and says how to follow it; a run that did not fail cannot be redriven', async () => {
    on(`POST /executions/${ID}/redrive`, { status: 200, body: execution('RUNNING', []) });
    const redrive = await vobee(['executions', 'redrive', ID]);
    expect(redrive.code).toBe(EXIT_CODES.ok);
    expect(redrive.stdout).toBe(
      `Redriven execution ${ID}: RUNNING\nFollow it with: vobee executions watch ${ID}\n`,
    );
    expect(recorded.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /executions/${ID}/redrive`]);
    on(`POST /executions/${ID}/redrive`, {
      status: 409,
      body: {
        error: {
          type: 'ConflictError',
          message: `cannot redrive execution '${ID}': it is SUCCEEDED; only FAILED and TIMED_OUT runs are redriven`,
        },
      },
    });
    const refused = await vobee(['executions', 'redrive', ID]);
    expect(refused.code).toBe(EXIT_CODES.conflict);
    expect(refused.stderr).toContain('only FAILED and TIMED_OUT runs are redriven');
  });

  it('a run that already ended cannot be paused: exit 4 with a hint', async () => {
    on(`POST /executions/${ID}/pause`, {
      status: 409,
      body: { error: { type: 'ConflictError', message: `cannot pause execution '${ID}': it is SUCCEEDED` } },
    });
    const { code, stderr } = await vobee(['executions', 'pause', ID]);
    expect(code).toBe(EXIT_CODES.conflict);
    expect(stderr).toBe(
      `error: cannot pause execution '${ID}': it is SUCCEEDED\n` +
        'The run has already ended, or is not in that state: see it with `vobee executions show ID`.\n',
    );
  });

  it('a malformed execution id is a usage error before anything is sent', async () => {
    const { code, stderr } = await vobee(['executions', 'show', 'no/such id']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('ID: is not an execution id');
    expect(recorded).toHaveLength(0);
  });
});

describe('workflows list, show, register, rollback', () => {
  it('lists workflows', async () => {
    on('GET /workflows', { status: 200, body: { workflows: [head] } });
    const { stdout } = await vobee(['workflows', 'list']);
    expect(stdout).toBe(
      [
        'WORKFLOW                 NAME                     LIVE  LATEST  UPDATED',
        `${WF}  Product Launch Campaign    v1      v1  2026-01-15T09:59:00.000Z`,
        '',
      ].join('\n'),
    );
    on('GET /workflows', { status: 200, body: { workflows: [] } });
    expect((await vobee(['workflows', 'list'])).stdout).toContain('No workflows registered.');
  });

  it('shows a workflow: steps by layer with dependencies, and versions', async () => {
    on(`GET /workflows/${WF}`, { status: 200, body: detail });
    const { stdout } = await vobee(['workflows', 'show', WF]);
    expect(stdout).toContain('    2  generate_video   Product Video    media     generate_video');
    expect(stdout).toMatch(/v1\s+yes\s+4\s+9\s+gated-parallel/);
  });

  it('registers a checked template and says how to run it', async () => {
    on('POST /workflows', {
      status: 201,
      body: {
        ...head,
        compiled: { states: 9, taskStates: 4, strategy: 'gated-parallel' },
      },
    });
    const { code, stdout } = await vobee(['workflows', 'register', 'launch.json'], {
      files: { 'launch.json': JSON.stringify(productLaunchCampaign) },
    });
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toBe(
      `Registered workflow ${WF} v1: 4 steps, 9 states (gated-parallel)\nRun it with: vobee workflows run ${WF}\n`,
    );
  });

  it('passes on what the API refuses (an unknown factory), exit 5', async () => {
    on('POST /workflows', {
      status: 400,
      body: {
        error: {
          type: 'ValidationError',
          message: 'invalid',
          issues: [{ field: 'body.steps.0.factory_type', message: "unknown factory type 'research'" }],
        },
      },
    });
    const { code, stderr } = await vobee(['workflows', 'register', 'launch.json'], {
      files: { 'launch.json': JSON.stringify(productLaunchCampaign) },
    });
    expect(code).toBe(EXIT_CODES.invalid);
    expect(stderr).toContain("steps.0.factory_type: unknown factory type 'research'");
  });

  it('rolls back to a version given as a whole number', async () => {
    on(`POST /workflows/${WF}/rollback`, (request) => ({
      status: 200,
      body: { ...head, currentVersion: (request.body as { version: number }).version, latestVersion: 3 },
    }));
    const { code, stdout } = await vobee(['workflows', 'rollback', WF, '--version', '2']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(recorded[0]?.body).toEqual({ version: 2 });
    expect(stdout).toBe(`Workflow ${WF} now runs v2 (latest v3)\n`);
    const bad = await vobee(['workflows', 'rollback', WF, '--version', '1.5']);
    expect(bad.code).toBe(EXIT_CODES.usage);
    expect(bad.stderr).toContain("--version: expected a whole number, got '1.5'");
  });
});

describe('workflows export and import', () => {
  const { version: _, ...portable } = template;
  const file = `${JSON.stringify(portable, null, 2)}\n`;
  const registered = {
    ...head,
    currentVersion: 2,
    latestVersion: 2,
    compiled: { states: 9, taskStates: 4, strategy: 'gated-parallel' },
  };

  it('export prints the template as registered, without its version, as 2-space JSON ending in a newline', async () => {
    on(`GET /workflows/${WF}`, { status: 200, body: detail });
    const { code, stdout } = await vobee(['workflows', 'export', WF]);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toBe(file);
    expect(stdout.startsWith('{\n  "workflow_id": "product-launch-campaign",\n')).toBe(true);
    expect(JSON.parse(stdout)).not.toHaveProperty('version');
    expect(JSON.parse(stdout)).toEqual({ ...template, version: undefined });
    expect(recorded.map((r) => [r.method, r.path, r.query])).toEqual([['GET', `/workflows/${WF}`, {}]]);
  });

  it('export -o writes the file, --version asks for that version', async () => {
    on(`GET /workflows/${WF}`, (request) => ({
      status: 200,
      body: {
        ...detail,
        currentVersion: 3,
        template: { ...template, version: Number(request.query.version) },
      },
    }));
    const written: Record<string, string> = {};
    const { code, stdout } = await vobee(['workflows', 'export', WF, '-o', 'launch.json', '--version', '2'], {
      written,
    });
    expect(code).toBe(EXIT_CODES.ok);
    expect(recorded[0]?.query).toEqual({ version: '2' });
    expect(written).toEqual({ 'launch.json': file });
    expect(stdout).toBe(`Exported workflow ${WF} v2 to launch.json\n`);
  });

  it('export refuses a bad --version before asking, and says when the version does not exist', async () => {
    const zero = await vobee(['workflows', 'export', WF, '--version', '0']);
    expect(zero.code).toBe(EXIT_CODES.usage);
    expect(zero.stderr).toContain('--version: ');
    expect(recorded).toHaveLength(0);
    on(`GET /workflows/${WF}`, {
      status: 404,
      body: { error: { type: 'NotFoundError', message: `workflow version '${WF}@9' not found` } },
    });
    const missing = await vobee(['workflows', 'export', WF, '--version', '9']);
    expect(missing.code).toBe(EXIT_CODES.notFound);
    expect(missing.stderr).toContain('See the workflow and its versions with: vobee workflows show ID');
  });

  it('export of a workflow deployed with the stack names its file, and writes nothing', async () => {
    on(`GET /workflows/${WF}`, { status: 200, body: { ...detail, template: undefined, versions: [] } });
    const written: Record<string, string> = {};
    const { code, stderr } = await vobee(['workflows', 'export', WF, '-o', 'out.json'], { written });
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain(`its file is cdk/workflows/${WF}.json`);
    expect(written).toEqual({});
  });

  it('export says when the file cannot be written', async () => {
    on(`GET /workflows/${WF}`, { status: 200, body: detail });
    const { code, stderr } = await vobee(['workflows', 'export', WF, '-o', '/read-only/out.json']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain(
      'error: --output /read-only/out.json: cannot write the file (permission denied)',
    );
  });

  it('import registers the exported file and prints what register prints', async () => {
    on('POST /workflows', { status: 201, body: registered });
    const { code, stdout } = await vobee(['workflows', 'import', 'launch.json'], {
      files: { 'launch.json': file },
    });
    expect(code).toBe(EXIT_CODES.ok);
    expect(recorded.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /workflows']);
    expect(recorded[0]?.body).toEqual(portable);
    const register = await vobee(['workflows', 'register', 'launch.json'], {
      files: { 'launch.json': file },
    });
    expect(stdout).toBe(register.stdout);
    expect(stdout).toBe(
      `Registered workflow ${WF} v2: 4 steps, 9 states (gated-parallel)\nRun it with: vobee workflows run ${WF}\n`,
    );
  });

  it('import refuses a file it cannot read, that is not JSON, or that is no valid template, sending nothing', async () => {
    const missing = await vobee(['workflows', 'import', 'gone.json']);
    expect(missing.code).toBe(EXIT_CODES.usage);
    expect(missing.stderr).toContain('error: template gone.json: cannot read the file (no such file)');
    const garbled = await vobee(['workflows', 'import', 'bad.json'], {
      files: { 'bad.json': '{"workflow_id": ' },
    });
    expect(garbled.code).toBe(EXIT_CODES.usage);
    expect(garbled.stderr).toContain('error: template bad.json: not valid JSON');
    const invalid = await vobee(['workflows', 'import', 'wf.json'], {
      files: { 'wf.json': JSON.stringify({ ...portable, inputs: { n: { type: 'integer', default: 'x' } } }) },
    });
    expect(invalid.code).toBe(EXIT_CODES.usage);
    expect(invalid.stderr).toContain(
      'error: wf.json: inputs.n.default: must be an integer (the declared type)',
    );
    expect(recorded).toHaveLength(0);
  });

  it('show lists the declared inputs', async () => {
    const withInputs = {
      ...template,
      inputs: { product: { type: 'string' }, budget: { type: 'number', default: 1500 } },
    };
    on(`GET /workflows/${WF}`, { status: 200, body: { ...detail, template: withInputs } });
    const { stdout } = await vobee(['workflows', 'show', WF]);
    expect(stdout).toMatch(/Inputs\s+product \(string, required\), budget \(number, default 1500\)\n/);
    on(`GET /workflows/${WF}`, { status: 200, body: detail });
    expect((await vobee(['workflows', 'show', WF])).stdout).not.toContain('Inputs');
  });
});
