import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  ConflictError,
  NoRouteError,
  NotFoundError,
  ValidationError,
  VobeeError,
} from '../../lib/core/errors.ts';
import { identifier } from '../../lib/core/names.ts';
import { parseInput } from '../../lib/core/validation.ts';
import { caught } from '../helpers/errors.ts';

describe('parseInput', () => {
  const schema = z
    .object({
      name: z.string().min(2),
      steps: z.array(z.object({ action: z.string() })).default([]),
      count: z.number().int().default(1),
    })
    .strict();

  it('returns the parsed value with defaults filled', () => {
    expect(parseInput(schema, { name: 'ab' })).toEqual({ name: 'ab', steps: [], count: 1 });
  });

  it('names a nested field with a dotted path', () => {
    const error = caught(() => parseInput(schema, { name: 'ab', steps: [{ action: 'x' }, { action: 3 }] }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['steps.1.action']);
    expect((error as ValidationError).message).toMatch(/^steps\.1\.action: /);
  });

  it('names the input itself when the problem is the input as a whole', () => {
    const error = caught(() => parseInput(schema, 'not an object', 'workflow')) as ValidationError;
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.field).toBe('workflow');
    expect(error.message.startsWith('workflow: ')).toBe(true);
    const unnamed = caught(() => parseInput(schema, 42)) as ValidationError;
    expect(unnamed.issues[0]?.field).toBe('input');
  });

  it('reports every problem, joined with "; "', () => {
    const error = caught(() => parseInput(schema, { name: 'a', count: 1.5 })) as ValidationError;
    expect(error.issues.map((i) => i.field).sort()).toEqual(['count', 'name']);
    expect(error.message.split('; ')).toHaveLength(2);
  });

  it('keeps the zod error as the cause and never throws it raw', () => {
    const error = caught(() => parseInput(schema, { name: 'ab', extra: true })) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(VobeeError);
    expect(error.cause).toBeInstanceOf(z.ZodError);
    expect(error.name).toBe('ValidationError');
  });

  it('uses the custom messages of the identifier schema', () => {
    expect(() => parseInput(identifier, '', 'name')).toThrow('name: must not be empty');
    expect(() => parseInput(identifier, 'x'.repeat(129), 'name')).toThrow(
      'name: must be at most 128 characters',
    );
    expect(() => parseInput(identifier, '_leading', 'name')).toThrow(/name: may contain only/);
    expect(parseInput(identifier, 'email-ai.v2:eu_1', 'name')).toBe('email-ai.v2:eu_1');
  });
});

describe('error classes', () => {
  it('ValidationError accepts a plain message', () => {
    const error = new ValidationError('bad input');
    expect(error.message).toBe('bad input');
    expect(error.issues).toEqual([{ field: '', message: 'bad input' }]);
  });

  it('ValidationError formats field issues', () => {
    const error = new ValidationError([
      { field: 'a', message: 'is wrong' },
      { field: '', message: 'overall' },
    ]);
    expect(error.message).toBe('a: is wrong; overall');
  });

  it('NotFoundError names the kind and id', () => {
    const error = new NotFoundError('service', 'email-ai');
    expect(error.message).toBe("service 'email-ai' not found");
    expect(error).toMatchObject({ kind: 'service', id: 'email-ai', name: 'NotFoundError' });
    expect(error).toBeInstanceOf(VobeeError);
  });

  it('ConflictError and NoRouteError are VobeeErrors with their own names', () => {
    expect(new ConflictError('moved')).toMatchObject({ name: 'ConflictError', message: 'moved' });
    expect(new NoRouteError('none')).toMatchObject({ name: 'NoRouteError', message: 'none' });
    expect(new NoRouteError('none')).toBeInstanceOf(VobeeError);
    expect(new ConflictError('x', { cause: 'why' }).cause).toBe('why');
  });
});
