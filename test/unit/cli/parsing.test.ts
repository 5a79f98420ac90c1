import { describe, expect, it } from 'vitest';
import {
  list,
  parseNumber,
  parseNumberPairs,
  parsePairs,
  readJsonObject,
  validate,
} from '../../../lib/cli/commands/common.ts';
import { buildSubmitRequest } from '../../../lib/cli/commands/task.ts';
import { schemas } from '../../../lib/handler/api-schemas.ts';
import { files, usage } from './support.ts';

describe('parsePairs', () => {
  it('reads key=value as strings, and key:=json as JSON when allowed', () => {
    expect(parsePairs('--param', ['a=1', 'b=x=y', 'c:=3', 'd:={"e":[1]}'], { json: true })).toEqual({
      a: '1',
      b: 'x=y',
      c: 3,
      d: { e: [1] },
    });
    expect(parsePairs('--before', ['a:=1'])).toEqual({ 'a:': '1' });
  });

  it('names the flag and the expected form when a pair is malformed', () => {
    expect(usage(() => parsePairs('--param', ['novalue'], { json: true }))).toBe(
      '--param novalue: expected key=value (or key:=json)',
    );
    expect(usage(() => parsePairs('--set', ['=x']))).toBe('--set =x: expected key=value');
    expect(usage(() => parsePairs('--param', ['n:={bad'], { json: true }))).toContain('must be JSON');
  });

  it('requires numbers for metrics', () => {
    expect(parseNumberPairs('--before', ['p95_ms=420', 'rate=0.5'])).toEqual({ p95_ms: 420, rate: 0.5 });
    expect(usage(() => parseNumberPairs('--after', ['p95_ms=fast']))).toBe(
      '--after p95_ms=fast: the value must be a number',
    );
    expect(usage(() => parseNumberPairs('--after', ['p95_ms=']))).toContain('must be a number');
  });
});

describe('parseNumber and list', () => {
  it('checks numbers against the flag', () => {
    expect(parseNumber('--weight', '2.5')).toBe(2.5);
    expect(parseNumber('--weight', undefined)).toBeUndefined();
    expect(usage(() => parseNumber('--ttl', '1.5', { integer: true }))).toBe(
      "--ttl: expected a whole number, got '1.5'",
    );
    expect(usage(() => parseNumber('--weight', ''))).toBe("--weight: expected a number, got ''");
  });

  it('splits commas only where asked', () => {
    expect(list(['a,b', 'c'], { commas: true })).toEqual(['a', 'b', 'c']);
    expect(list(['a,b'])).toEqual(['a,b']);
    expect(list(undefined)).toBeUndefined();
  });
});

describe('readJsonObject', () => {
  it('says which flag, which file and what is wrong', () => {
    const io = {
      ...files({ 'bad.json': '{', 'list.json': '[1]' }),
      stdout: process.stdout,
      stderr: process.stderr,
      env: {},
      fetch,
    };
    expect(usage(() => readJsonObject(io, '--data', 'nope.json'))).toBe(
      '--data nope.json: cannot read the file (no such file)',
    );
    expect(usage(() => readJsonObject(io, '--data', 'bad.json'))).toMatch(/^--data bad.json: not valid JSON/);
    expect(usage(() => readJsonObject(io, '--data', 'list.json'))).toBe(
      '--data list.json: expected a JSON object ({...})',
    );
  });
});

describe('validate', () => {
  it('names the flag, says "is required" for missing fields, and numbers list items from 1', () => {
    const message = usage(() =>
      validate(
        schemas.registerService,
        { endpoint: 'ftp://x', capabilities: ['ok', 'not ok'] },
        (f) => ({ name: '--name', endpoint: '--endpoint', capabilities: '--capability' })[f] ?? f,
      ),
    );
    expect(message).toBe(
      '--name: is required; --endpoint: must be an http(s) URL; --capability #2: may contain only letters, digits, _ . : - and must start with a letter or digit',
    );
  });
});

describe('buildSubmitRequest', () => {
  it('builds the body from flags, leaving out what was not given', () => {
    expect(
      buildSubmitRequest({ type: 'email_campaign', param: ['n:=2'], keyword: ['a', 'b'] }, files({})),
    ).toEqual({
      body: { type: 'email_campaign', parameters: { n: 2 }, keywords: ['a', 'b'] },
      idempotencyKey: undefined,
    });
  });

  it('lets flags override the file and --param add to its parameters', () => {
    const io = files({
      'task.json': JSON.stringify({
        type: 'a',
        priority: 'low',
        parameters: { x: 1, y: 2 },
        resources: { cpu: 1 },
      }),
    });
    const { body } = buildSubmitRequest({ file: 'task.json', priority: 'high', param: ['y=two'] }, io);
    expect(body).toEqual({
      type: 'a',
      priority: 'high',
      parameters: { x: 1, y: 'two' },
      resources: { cpu: 1 },
    });
  });

  it('names the flag for flag values and the file for file fields', () => {
    const io = files({ 'task.json': JSON.stringify({ type: 'a', priority: 'urgent', extra: true }) });
    expect(usage(() => buildSubmitRequest({ file: 'task.json' }, io))).toBe(
      '--file task.json: priority: Invalid option: expected one of "critical"|"high"|"normal"|"low"; --file task.json: Unrecognized key: "extra"',
    );
    expect(usage(() => buildSubmitRequest({ type: 'a', context: 'no way' }, files({})))).toMatch(
      /^--context: may contain/,
    );
    expect(usage(() => buildSubmitRequest({}, files({})))).toBe('--type: is required');
  });

  it("checks the idempotency key with the API's own rules", () => {
    expect(usage(() => buildSubmitRequest({ type: 'a', idempotencyKey: 'k'.repeat(257) }, files({})))).toBe(
      '--idempotency-key: must be at most 256 characters',
    );
    expect(usage(() => buildSubmitRequest({ type: 'a', idempotencyKey: 'a\tb' }, files({})))).toBe(
      '--idempotency-key: must not contain control characters',
    );
    expect(buildSubmitRequest({ type: 'a', idempotencyKey: 'k' }, files({})).idempotencyKey).toBe('k');
  });
});
