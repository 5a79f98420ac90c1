import { describe, expect, it } from 'vitest';
import { EXIT_CODE_MEANINGS, EXIT_CODES, main } from '../../../lib/cli/main.ts';

/** Runs the CLI with a fetch that answers from `answer` and never touches the network. */
async function run(
  argv: string[],
  answer?: (url: string, init: RequestInit) => Response | Promise<Response>,
) {
  const out = { text: '', write: (s: string) => (out.text += s) };
  const err = { text: '', write: (s: string) => (err.text += s) };
  const calls: string[] = [];
  const fetch = (async (url: URL | string, init: RequestInit = {}) => {
    calls.push(`${init.method} ${new URL(String(url)).pathname}`);
    if (!answer) throw new Error('no request expected');
    return answer(String(url), init);
  }) as typeof globalThis.fetch;
  const code = await main(argv, { stdout: out, stderr: err, env: {}, fetch, sleep: async () => {} });
  return { code, stdout: out.text, stderr: err.text, calls };
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status });
const apiError = (status: number, type: string, message: string) =>
  json(status, { error: { type, message } });

describe('exit codes', () => {
  it('are documented in `vobee --help`, each code the CLI can exit with and no other', async () => {
    const { stdout } = await run(['--help']);
    const section = stdout.split('Exit codes:\n')[1]?.split('\n\n')[0] ?? '';
    const documented = section.split('\n').map((line) => /^ {2}(\d+) {2}(.+)$/.exec(line)?.slice(1));
    expect(documented.every((entry) => entry !== undefined)).toBe(true);
    const codes = Object.values(EXIT_CODES);
    // Every code means one thing: no two names share a number.
    expect(new Set(codes).size).toBe(codes.length);
    expect(documented.map((entry) => Number(entry?.[0]))).toEqual([...codes].sort((a, b) => a - b));
    for (const [code, meaning] of documented as [string, string][]) {
      expect(meaning).toBe(EXIT_CODE_MEANINGS[Number(code) as keyof typeof EXIT_CODE_MEANINGS]);
    }
  });

  it.each([
    [404, 'NotFoundError', EXIT_CODES.notFound],
    [409, 'ConflictError', EXIT_CODES.conflict],
    [400, 'ValidationError', EXIT_CODES.invalid],
    [422, 'ValidationError', EXIT_CODES.invalid],
    [500, 'InternalError', EXIT_CODES.unexpected],
    [403, 'Forbidden', EXIT_CODES.unexpected],
  ])('HTTP %i (%s) means exit %i', async (status, type, code) => {
    const result = await run(['modules', 'disable', 'core'], apiError(status, type, 'nope'));
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(/^error: .*nope/);
    expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('6 when the endpoint refuses the connection', async () => {
    const result = await run(['services', 'list'], () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    expect(result.code).toBe(EXIT_CODES.unreachable);
    expect(result.stderr).toBe(
      'error: cannot reach the VoBee API at http://127.0.0.1:3000 (connection refused)\n' +
        'Start the local runtime with `npm start`, or point --endpoint / VOBEE_ENDPOINT at a deployed API.\n',
    );
  });

  it('0 for a successful command', async () => {
    const result = await run(
      ['performance'],
      json(200, { totalDecisions: 1, taskTypesLearned: 0, taskTypes: [] }),
    );
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(result.calls).toEqual(['GET /performance']);
  });
});

describe('usage errors (exit 2, nothing sent)', () => {
  it.each([
    [['task', 'submit', '--type', 'a', '--bogus'], "unknown option '--bogus'"],
    [['task', 'get'], "missing required argument 'id'"],
    [
      ['task', 'submit', '--priority', 'urgent', '--type', 'a'],
      'Allowed choices are critical, high, normal, low',
    ],
    [['modules', 'list', '--enabled', '--disabled'], "'--enabled' cannot be used with option '--disabled'"],
    [['suggestions', 'accept', 'sug_1'], "required option '--by <name>' not specified"],
    [['services', 'health', 'email-ai', 'sick'], 'STATE: Invalid option: expected one of'],
    [['task', 'submit'], '--type: is required'],
    [['suggestions', 'list', '--priority', 'urgent'], '--priority: Invalid option'],
    [['contexts', 'create', 'c1', '--ttl', 'soon'], "--ttl: expected a whole number, got 'soon'"],
    [
      ['contexts', 'create', 'c1', '--data', 'x.json', '--set', 'a=1'],
      "'--data <file.json>' cannot be used with option '--set",
    ],
    [['--endpoint', 'ftp://x', 'services', 'list'], "--endpoint: 'ftp://x' is not an http(s) URL"],
    [['--endpoint', 'https://api.example.com', 'services', 'list'], '--region: needed to sign requests'],
    [['nope'], "unknown command 'nope'"],
    [['task'], 'Usage: vobee task'],
    [[], 'Usage: vobee'],
  ])('%j', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain(message);
    expect(result.calls).toEqual([]);
  });
});

describe('global options', () => {
  it('work after the command too, and win over those before it', async () => {
    const urls: string[] = [];
    const result = await run(
      [
        '--endpoint',
        'http://localhost:1111',
        'services',
        'list',
        '--endpoint',
        'http://localhost:2222',
        '--json',
      ],
      (url) => {
        urls.push(url);
        return new Response('{"services":[]}', { status: 200 });
      },
    );
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(urls).toEqual(['http://localhost:2222/services']);
    expect(JSON.parse(result.stdout)).toEqual({ services: [] });
  });

  it('sign with the --region given after the command', async () => {
    let authorization = '';
    const result = await main(
      ['routing', 'stats', '--endpoint', 'https://api.example.com', '--region', 'ap-south-1'],
      {
        stdout: { write: () => true },
        stderr: { write: () => true },
        env: {},
        credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
        fetch: (async (_url: URL, init: RequestInit) => {
          authorization = (init.headers as Record<string, string>).authorization ?? '';
          return new Response('{"totalRoutes":0,"serviceDistribution":{},"strategyDistribution":{}}');
        }) as unknown as typeof fetch,
      },
    );
    expect(result).toBe(EXIT_CODES.ok);
    expect(authorization).toContain('/ap-south-1/execute-api/aws4_request');
  });
});

describe('help', () => {
  it('lists every command and documents the exit codes, exit 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(EXIT_CODES.ok);
    for (const command of [
      'task submit',
      'task get',
      'services list',
      'services register',
      'services health',
      'services enable',
      'services disable',
      'services status',
      'services capabilities',
      'modules list',
      'modules enable',
      'modules disable',
      'modules health',
      'routing stats',
      'memory summary',
      'performance',
      'contexts create',
      'contexts get',
      'suggestions list',
      'suggestions accept',
      'suggestions reject',
      'suggestions impact',
      'improvement report',
      'workflows run',
      'workflows register',
      'executions watch',
      'executions pause',
      'executions cancel',
    ]) {
      expect(result.stdout).toContain(`  ${command} `);
    }
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toMatch(/ {2}7 {2}the task or workflow run finished FAILED/);
    expect(result.stdout).toMatch(/ {2}8 {2}the workflow run was CANCELLED/);
  });

  it('shows the options of one command', async () => {
    const result = await run(['task', 'submit', '--help']);
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(result.stdout).toContain('--idempotency-key <key>');
    expect(result.stdout).toContain('Global Options:');
  });
});
