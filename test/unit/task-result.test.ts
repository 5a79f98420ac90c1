import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.ts';
import { patternKeys, type TaskResultInput, taskResultSchema } from '../../lib/core/task-result.ts';
import { parseInput } from '../../lib/core/validation.ts';
import { fieldsOf } from '../helpers/errors.ts';

const base = {
  taskId: 'task-1',
  taskType: 'email_campaign',
  service: 'email-ai',
  success: true,
  executionMs: 120,
  completedAt: '2026-01-15T09:30:00.000Z',
} satisfies TaskResultInput;

const parse = (input: unknown) => parseInput(taskResultSchema, input, 'result');

const issuesOf = (input: unknown) => fieldsOf(() => parse(input));

describe('taskResultSchema', () => {
  it('fills the defaults of a minimal successful result', () => {
    expect(parse(base)).toEqual({ ...base, priority: 'normal', parameters: {} });
  });

  it('normalises completedAt to toISOString() form', () => {
    expect(parse({ ...base, completedAt: '2026-01-15T09:30:00Z' }).completedAt).toBe(
      '2026-01-15T09:30:00.000Z',
    );
    expect(parse({ ...base, completedAt: '2026-01-15T09:30:00.5Z' }).completedAt).toBe(
      '2026-01-15T09:30:00.500Z',
    );
  });

  it('stamps completedAt with the current time when it is missing', () => {
    const { completedAt: _omitted, ...rest } = base;
    const parsed = parse(rest);
    expect(parsed.completedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Number.isNaN(Date.parse(parsed.completedAt))).toBe(false);
  });

  it('accepts a failed result that says why', () => {
    const parsed = parse({
      ...base,
      success: false,
      error: { kind: 'timeout', message: 'no answer in 30 s' },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error).toEqual({ kind: 'timeout', message: 'no answer in 30 s' });
  });

  it('refuses a failed result that does not say why, naming the error field', () => {
    expect(issuesOf({ ...base, success: false })).toEqual(['error']);
    expect(() => parse({ ...base, success: false })).toThrow('error: a failed result must say why');
  });

  it.each([
    [{ taskId: '' }, 'taskId'],
    [{ taskType: 'has space' }, 'taskType'],
    [{ service: 'a#b' }, 'service'],
    [{ executionMs: -1 }, 'executionMs'],
    [{ executionMs: 86_400_001 }, 'executionMs'],
    [{ priority: 'urgent' }, 'priority'],
    [{ completedAt: 'yesterday' }, 'completedAt'],
    [{ error: { kind: 'crash', message: 'x' } }, 'error.kind'],
    [{ error: { kind: 'error', message: 'x'.repeat(2_001) } }, 'error.message'],
    [{ contextId: '' }, 'contextId'],
  ])('rejects %o, naming %s', (patch, field) => {
    expect(issuesOf({ ...base, ...patch })).toContain(field);
  });

  it('rejects unknown fields', () => {
    expect(() => parse({ ...base, extra: 1 })).toThrow(ValidationError);
    expect(() => parse({ ...base, error: { kind: 'error', message: 'x', code: 3 } })).toThrow(
      ValidationError,
    );
  });
});

describe('patternKeys', () => {
  it('names the service and the UTC hour', () => {
    expect(patternKeys(parse(base))).toEqual(['service:email-ai', 'hour:09']);
    expect(patternKeys(parse({ ...base, completedAt: '2026-01-15T23:59:59.999Z' }))).toEqual([
      'service:email-ai',
      'hour:23',
    ]);
  });

  it('adds short scalar parameters, sorted by name', () => {
    const keys = patternKeys(
      parse({ ...base, parameters: { tone: 'formal', batch: 50, dryRun: false, lang: 'en' } }),
    );
    expect(keys).toEqual([
      'service:email-ai',
      'hour:09',
      'param:batch=50',
      'param:dryRun=false',
      'param:lang=en',
      'param:tone=formal',
    ]);
  });

  it('leaves out long and structured values', () => {
    const keys = patternKeys(
      parse({
        ...base,
        parameters: {
          prompt: 'x'.repeat(41),
          exactly40: 'y'.repeat(40),
          list: ['a'],
          nested: { a: 1 },
          nothing: null,
          absent: undefined,
        },
      }),
    );
    expect(keys).toEqual(['service:email-ai', 'hour:09', `param:exactly40=${'y'.repeat(40)}`]);
  });

  it('keeps at most five parameters, the first by name', () => {
    const parameters = Object.fromEntries(['g', 'f', 'e', 'd', 'c', 'b', 'a'].map((k) => [k, 1]));
    const keys = patternKeys(parse({ ...base, parameters }));
    expect(keys.slice(2)).toEqual(['param:a=1', 'param:b=1', 'param:c=1', 'param:d=1', 'param:e=1']);
  });
});
