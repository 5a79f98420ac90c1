import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, main } from '../../lib/cli/main.ts';
import { sink, useFakeApi } from '../helpers/fake-api.ts';

/**
 * `main()` against a fake API on loopback: each route answers canned JSON in the shapes the
 * handlers in functions/api return, and every request is recorded so the tests can check what
 * the CLI sent.
 */
const fake = useFakeApi();
const { recorded, on } = fake;

async function vobee(argv: string[], options: { ttyStderr?: boolean; endpoint?: string } = {}) {
  const stdout = sink();
  const stderr = sink(options.ttyStderr);
  const code = await main(['--endpoint', options.endpoint ?? fake.endpoint, ...argv], {
    stdout,
    stderr,
    env: {},
    sleep: async () => {},
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A command line written out as one string, for arguments without spaces. */
const words = (line: string) => line.split(' ');

const NOW = '2026-01-15T10:00:00.000Z';
const service = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  endpoint: `http://${name}:8080`,
  capabilities: ['email_campaign', 'send_newsletter'],
  weight: 1,
  enabled: true,
  health: 'healthy',
  load: 0,
  consecutiveFailures: 0,
  version: 1,
  updatedAt: NOW,
  ...extra,
});
const taskRecord = (status: string, extra: Record<string, unknown> = {}) => ({
  taskId: 't_1',
  task: {
    id: 't_1',
    type: 'email_campaign',
    priority: 'normal',
    keywords: [],
    parameters: {},
    resources: {},
  },
  status,
  requestHash: 'h',
  attempts: [],
  createdAt: NOW,
  updatedAt: NOW,
  ...extra,
});
const suggestion = (extra: Record<string, unknown> = {}) => ({
  id: 'sug_1',
  area: 'failure_rate',
  priority: 'high',
  title: 'email-ai fails 40% of email_campaign tasks',
  subject: { taskType: 'email_campaign', service: 'email-ai' },
  evidence: { count: 50, failures: 20 },
  proposedAction: { type: 'investigate_service', description: 'Investigate email-ai', parameters: {} },
  autoApply: false,
  requires: 'MANUAL_APPROVAL',
  status: 'pending',
  createdAt: NOW,
  windowHours: 24,
  version: 1,
  ...extra,
});

describe('services', () => {
  it('lists services as an aligned table without colour when not on a terminal', async () => {
    on('GET /services', {
      status: 200,
      body: {
        services: [
          service('email-ai', { load: 12, weight: 2.5 }),
          service('backup', { health: 'degraded', enabled: false }),
        ],
      },
    });
    const { code, stdout } = await vobee(['services', 'list']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toBe(
      [
        'NAME      HEALTH    ENABLED  LOAD  WEIGHT  CAPABILITIES',
        'email-ai  healthy   yes        12     2.5  email_campaign, send_newsletter',
        'backup    degraded  no          0       1  email_campaign, send_newsletter',
        '',
      ].join('\n'),
    );
    expect(stdout).not.toContain('\u001b[');
    expect(recorded).toMatchObject([{ method: 'GET', path: '/services' }]);
  });

  it('prints the raw response with --json, given before or after the command', async () => {
    const body = { services: [service('email-ai')] };
    on('GET /services', { status: 200, body });
    const after = await vobee(['services', 'list', '--json']);
    const before = await vobee(['--json', 'services', 'list']);
    expect(JSON.parse(after.stdout)).toEqual(body);
    expect(JSON.parse(before.stdout)).toEqual(body);
  });

  it('registers a service: its --endpoint is the service URL, the API endpoint comes before the command', async () => {
    on('POST /services', (request) => ({
      status: 201,
      body: service('video-ai', { ...(request.body as object), load: 0 }),
    }));
    const { code, stdout } = await vobee(
      words(
        'services register --name video-ai --endpoint http://video:9000 --capability video_generation render --capability trim,cut --weight 2 --factory-type media',
      ),
    );
    expect(code).toBe(EXIT_CODES.ok);
    expect(recorded[0]?.body).toEqual({
      name: 'video-ai',
      endpoint: 'http://video:9000',
      capabilities: ['video_generation', 'render', 'trim', 'cut'],
      factoryType: 'media',
      weight: 2,
    });
    expect(stdout).toContain('Registered service video-ai');
  });

  it('enables and disables with PATCH {enabled}, and sets health with PUT', async () => {
    on('PATCH /services/email-ai', (r) => ({
      status: 200,
      body: service('email-ai', r.body as Record<string, unknown>),
    }));
    on('PUT /services/email-ai/health', (r) => ({
      status: 200,
      body: service('email-ai', r.body as Record<string, unknown>),
    }));
    expect((await vobee(['services', 'disable', 'email-ai'])).code).toBe(0);
    expect((await vobee(['services', 'enable', 'email-ai'])).code).toBe(0);
    expect((await vobee(['services', 'health', 'email-ai', 'degraded', '--reason', 'slow'])).code).toBe(0);
    expect(recorded.map((r) => [r.method, r.path, r.body])).toEqual([
      ['PATCH', '/services/email-ai', { enabled: false }],
      ['PATCH', '/services/email-ai', { enabled: true }],
      ['PUT', '/services/email-ai/health', { health: 'degraded', reason: 'slow' }],
    ]);
  });

  it('shows what a factory reports about itself, and says when it did not answer', async () => {
    on('GET /services/email-ai/status', {
      status: 200,
      body: { service: 'email-ai', status: { status: 'healthy', inFlight: 2, completed: 40 } },
    });
    on('GET /services/email-ai/capabilities', {
      status: 200,
      body: {
        service: 'email-ai',
        registered: ['email_campaign'],
        reported: { reachable: false, error: 'timeout' },
      },
    });
    const status = await vobee(['services', 'status', 'email-ai']);
    expect(status.stdout).toMatch(/inFlight\s+2/);
    const capabilities = await vobee(['services', 'capabilities', 'email-ai']);
    expect(capabilities.stdout).toMatch(/Registered\s+email_campaign/);
    expect(capabilities.stdout).toMatch(/Reported reachable\s+no \(timeout\)/);
  });

  it('exits 3 with a hint when the service does not exist', async () => {
    on('PATCH /services/ghost', {
      status: 404,
      body: { error: { type: 'NotFoundError', message: "service 'ghost' not found" } },
    });
    const { code, stderr } = await vobee(['services', 'enable', 'ghost']);
    expect(code).toBe(EXIT_CODES.notFound);
    expect(stderr).toBe(
      "error: service 'ghost' not found\nSee the registered services with: vobee services list\n",
    );
  });
});

describe('task', () => {
  it('submits the task built from flags, with the idempotency key as a header', async () => {
    on('POST /tasks', { status: 202, body: taskRecord('PENDING') });
    const { code, stdout } = await vobee(
      words(
        'task submit --type email_campaign --action send_newsletter --priority high --param subject=Hello count:=3 --keyword urgent --strategy least-loaded --context launch-1 --idempotency-key k-1',
      ),
    );
    expect(code).toBe(EXIT_CODES.ok);
    expect(recorded[0]?.body).toEqual({
      type: 'email_campaign',
      action: 'send_newsletter',
      priority: 'high',
      parameters: { subject: 'Hello', count: 3 },
      keywords: ['urgent'],
      strategy: 'least-loaded',
      contextId: 'launch-1',
    });
    expect(recorded[0]?.headers['idempotency-key']).toBe('k-1');
    expect(recorded[0]?.headers['content-type']).toBe('application/json');
    expect(stdout).toBe('Task t_1 accepted: PENDING\nFollow it with: vobee task get t_1\n');
  });

  it('says so when the idempotency key returned an earlier task (200)', async () => {
    on('POST /tasks', { status: 200, body: taskRecord('SUCCEEDED') });
    const { stdout } = await vobee([
      'task',
      'submit',
      '--type',
      'email_campaign',
      '--idempotency-key',
      'k-1',
    ]);
    expect(stdout).toContain('already submitted with this key: SUCCEEDED');
  });

  it('--wait polls the task until it succeeds and shows it', async () => {
    on('POST /tasks', { status: 202, body: taskRecord('PENDING') });
    on('GET /tasks/t_1', (_r, n) => ({
      status: 200,
      body:
        n < 3
          ? taskRecord('RUNNING')
          : taskRecord('SUCCEEDED', {
              route: { primary: 'email-ai', fallbacks: ['backup'], strategy: 'least-loaded' },
              attempts: [
                { service: 'email-ai', attempt: 1, outcome: 'succeeded', latencyMs: 120.4, at: NOW },
              ],
              output: { sent: 10 },
            }),
    }));
    const { code, stdout, stderr } = await vobee(['task', 'submit', '--type', 'email_campaign', '--wait']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(recorded.filter((r) => r.method === 'GET')).toHaveLength(3);
    expect(stdout).toMatch(/Status\s+SUCCEEDED/);
    expect(stdout).toMatch(/Service\s+email-ai/);
    expect(stdout).toMatch(/email-ai\s+1\s+succeeded\s+120 ms/);
    expect(stdout).toContain('"sent": 10');
    expect(stderr).toBe('');
  });

  it('--wait exits 7 when the task failed, keeping progress on one rewritten stderr line on a terminal', async () => {
    on('POST /tasks', { status: 202, body: taskRecord('RUNNING') });
    on('GET /tasks/t_1', {
      status: 200,
      body: taskRecord('FAILED', { error: { kind: 'exhausted', message: 'every service failed' } }),
    });
    const { code, stdout, stderr } = await vobee(['task', 'submit', '--type', 'email_campaign', '--wait'], {
      ttyStderr: true,
    });
    expect(code).toBe(EXIT_CODES.taskFailed);
    expect(stdout).toMatch(/Error\s+exhausted: every service failed/);
    // Each update returns to the start of the line and erases it; the line is cleared at the end.
    expect(stderr).toBe(
      '\r\u001b[2KTask t_1: RUNNING (0 s)\r\u001b[2KTask t_1 FAILED: exhausted: every service failed\n',
    );
  });

  it('--wait --json prints the final task as JSON and still exits 7 on failure', async () => {
    on('POST /tasks', { status: 202, body: taskRecord('FAILED', { error: { kind: 'x', message: 'y' } }) });
    const { code, stdout } = await vobee(['task', 'submit', '--type', 'email_campaign', '--wait', '--json']);
    expect(code).toBe(EXIT_CODES.taskFailed);
    expect(JSON.parse(stdout)).toMatchObject({ taskId: 't_1', status: 'FAILED' });
  });

  it('sends nothing when the flags are invalid, and names the flag (exit 2)', async () => {
    const { code, stderr } = await vobee(['task', 'submit', '--action', 'send newsletter']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('--type: is required');
    expect(stderr).toContain('--action: may contain only letters');
    expect(recorded).toHaveLength(0);
  });

  it('maps API field issues back to flags (400 -> exit 5)', async () => {
    on('POST /tasks', {
      status: 422,
      body: {
        error: {
          type: 'ValidationError',
          message: "contextId: context 'nope' not found",
          issues: [{ field: 'contextId', message: "context 'nope' not found" }],
        },
      },
    });
    const { code, stderr } = await vobee(['task', 'submit', '--type', 'email_campaign', '--context', 'nope']);
    expect(code).toBe(EXIT_CODES.invalid);
    expect(stderr).toBe("error: the API refused the request: --context: context 'nope' not found\n");
  });

  it('task get exits 3 for an unknown task', async () => {
    const { code, stderr } = await vobee(['task', 'get', 't_missing']);
    expect(code).toBe(EXIT_CODES.notFound);
    expect(stderr).toContain('vobee task submit');
  });
});

describe('modules', () => {
  const module = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    category: 'ai',
    description: '',
    dependencies: [],
    enabled: true,
    health: 'healthy',
    pins: 0,
    version: 1,
    updatedAt: NOW,
    ...extra,
  });

  it('lists with filters as query parameters', async () => {
    on('GET /modules', {
      status: 200,
      body: { modules: [module('email-ai', { enabled: false, dependencies: ['core'] })] },
    });
    const { code, stdout } = await vobee(['modules', 'list', '--category', 'ai', '--disabled']);
    expect(code).toBe(0);
    expect(recorded[0]?.query).toEqual({ category: 'ai', enabled: 'false' });
    expect(stdout).toMatch(/^NAME\s+CATEGORY\s+ENABLED\s+HEALTH\s+DEPENDENCIES\n/);
    expect(stdout).toMatch(/email-ai\s+ai\s+no\s+healthy\s+core/);
  });

  it('refuses to disable a required module: exit 4 with the API message', async () => {
    on('POST /modules/core/disable', {
      status: 409,
      body: { error: { type: 'ConflictError', message: 'Required by email-ai, finance-ai' } },
    });
    const { code, stderr } = await vobee(['modules', 'disable', 'core']);
    expect(code).toBe(EXIT_CODES.conflict);
    expect(stderr).toBe(
      'error: Required by email-ai, finance-ai\nDisable the modules that require it first, then retry.\n',
    );
  });

  it('enables a module and shows the health summary', async () => {
    on('POST /modules/core/enable', { status: 200, body: module('core') });
    on('GET /modules/health', {
      status: 200,
      body: { totalModules: 3, enabled: 2, disabled: 1, healthy: 1, degraded: 1, unhealthy: 0 },
    });
    expect((await vobee(['modules', 'enable', 'core'])).stdout).toBe('Module core is enabled.\n');
    expect((await vobee(['modules', 'health'])).stdout).toMatch(/Degraded\s+1/);
  });
});

describe('insights', () => {
  it('routing stats, memory summary, performance and improvement report read their routes', async () => {
    on('GET /routing/stats', {
      status: 200,
      body: { totalRoutes: 4, serviceDistribution: { a: 3, b: 1 }, strategyDistribution: { weighted: 4 } },
    });
    on('GET /memory/summary', {
      status: 200,
      body: { shortTermCount: 7, longTermTypes: 2, patternsLearned: 1 },
    });
    on('GET /performance', {
      status: 200,
      body: { totalDecisions: 9, taskTypesLearned: 2, taskTypes: ['x', 'y'] },
    });
    on('GET /improvement/report', {
      status: 200,
      body: {
        total: 2,
        byStatus: { implemented: 1, rejected: 1 },
        byArea: { latency: 2 },
        acceptanceRate: 0.5,
        implemented: [
          {
            id: 'sug_1',
            title: 'slow',
            impact: { p95Ms: { before: 900, after: 450, improvement: 0.5, improved: true } },
          },
        ],
        meanImprovementByMetric: { p95Ms: 0.5 },
      },
    });
    const routing = await vobee(['routing', 'stats']);
    expect(routing.stdout).toMatch(/Total routes: 4/);
    expect(routing.stdout).toMatch(/a\s+3\s+75%/);
    expect((await vobee(['memory', 'summary'])).stdout).toMatch(/Recent results\s+7/);
    expect((await vobee(['performance'])).stdout).toMatch(/Task types\s+x, y/);
    const report = await vobee(['improvement', 'report']);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/Acceptance rate\s+50%/);
    expect(report.stdout).toMatch(/sug_1\s+p95Ms \+50%\s+slow/);
  });
});

describe('contexts', () => {
  it('creates a context from a JSON file with a TTL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vobee-cli-'));
    const file = join(dir, 'data.json');
    writeFileSync(file, JSON.stringify({ campaign: 'spring', budget: 100 }));
    on('POST /contexts', (r) => ({
      status: 201,
      body: { ...(r.body as object), version: 1, createdAt: NOW, updatedAt: NOW, expiresAt: NOW },
    }));
    const { code, stdout } = await vobee(['contexts', 'create', 'launch-1', '--data', file, '--ttl', '3600']);
    expect(code).toBe(0);
    expect(recorded[0]?.body).toEqual({
      id: 'launch-1',
      data: { campaign: 'spring', budget: 100 },
      ttlSeconds: 3600,
    });
    expect(stdout).toContain('"campaign": "spring"');
  });

  it('creates from --set pairs, and exits 4 when the id exists', async () => {
    on('POST /contexts', {
      status: 409,
      body: { error: { type: 'ConflictError', message: "context 'launch-1' already exists" } },
    });
    const { code, stderr } = await vobee([
      'contexts',
      'create',
      'launch-1',
      '--set',
      'campaign=spring',
      'budget:=100',
    ]);
    expect(recorded[0]?.body).toEqual({ id: 'launch-1', data: { campaign: 'spring', budget: 100 } });
    expect(code).toBe(EXIT_CODES.conflict);
    expect(stderr).toContain('choose another id');
  });
});

describe('suggestions', () => {
  it('lists with filters and shows ID, PRIORITY, AREA, STATUS, TITLE', async () => {
    on('GET /suggestions', { status: 200, body: { suggestions: [suggestion({ status: 'accepted' })] } });
    const { stdout } = await vobee(['suggestions', 'list', '--priority', 'high', '--status', 'accepted']);
    expect(recorded[0]?.query).toEqual({ priority: 'high', status: 'accepted' });
    expect(stdout).toMatch(/^ID\s+PRIORITY\s+AREA\s+STATUS\s+TITLE\n/);
    expect(stdout).toMatch(/sug_1\s+high\s+failure_rate\s+accepted\s+email-ai fails 40%/);
  });

  it('accepts and rejects with the decider and note', async () => {
    on('POST /suggestions/sug_1/accept', (r) => ({
      status: 200,
      body: suggestion({ status: 'accepted', decidedBy: (r.body as { decidedBy: string }).decidedBy }),
    }));
    on('POST /suggestions/sug_1/reject', {
      status: 409,
      body: { error: { type: 'ConflictError', message: "suggestion 'sug_1' is already accepted" } },
    });
    const accepted = await vobee(['suggestions', 'accept', 'sug_1', '--by', 'ana', '--note', 'go']);
    expect(accepted.stdout).toContain('Suggestion sug_1 accepted by ana');
    expect(recorded[0]?.body).toEqual({ decidedBy: 'ana', note: 'go' });
    const rejected = await vobee(['suggestions', 'reject', 'sug_1', '--by', 'ana']);
    expect(rejected.code).toBe(EXIT_CODES.conflict);
  });

  it('records impact with numeric metrics', async () => {
    on('POST /suggestions/sug_1/impact', {
      status: 200,
      body: suggestion({
        status: 'implemented',
        impact: {
          recordedAt: NOW,
          metrics: { latency_ms: { before: 800, after: 400, improvement: 0.5, improved: true } },
        },
      }),
    });
    const { code, stdout } = await vobee([
      'suggestions',
      'impact',
      'sug_1',
      '--before',
      'latency_ms=800',
      '--after',
      'latency_ms=400',
      '--note',
      'moved traffic',
    ]);
    expect(code).toBe(0);
    expect(recorded[0]?.body).toEqual({
      before: { latency_ms: 800 },
      after: { latency_ms: 400 },
      notes: 'moved traffic',
    });
    expect(stdout).toMatch(/latency_ms\s+800\s+400\s+\+50%\s+yes/);
  });
});

describe('failures', () => {
  it('exits 6 naming the URL and suggesting npm start when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { code, stderr } = await vobee(['services', 'list'], { endpoint: `http://127.0.0.1:${port}` });
    expect(code).toBe(EXIT_CODES.unreachable);
    expect(stderr).toContain(`http://127.0.0.1:${port} (connection refused)`);
    expect(stderr).toContain('npm start');
  });

  it('exits 1 on an API fault, giving the request id', async () => {
    on('GET /routing/stats', {
      status: 500,
      body: { error: { type: 'InternalError', message: 'internal error', requestId: 'req-42' } },
    });
    const { code, stderr } = await vobee(['routing', 'stats']);
    expect(code).toBe(EXIT_CODES.unexpected);
    expect(stderr).toBe('error: the API answered 500: internal error (request id req-42)\n');
  });

  it('does not sign requests to a loopback endpoint', async () => {
    on('GET /services', { status: 200, body: { services: [] } });
    await vobee(['services', 'list']);
    expect(recorded[0]?.headers.authorization).toBeUndefined();
    expect(recorded[0]?.headers['x-amz-date']).toBeUndefined();
  });
});
