import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../lib/core/errors.ts';
import { assertSameRequest, parseIdempotencyKey, requestHash } from '../../lib/core/idempotency.ts';

describe('idempotency', () => {
  it('fingerprints a request the same whatever its key order, and differently for other values', () => {
    const a = requestHash({ type: 'x', parameters: { b: [1, { d: 1, c: 2 }], a: null } });
    const b = requestHash({ parameters: { a: null, b: [1, { c: 2, d: 1 }] }, type: 'x' });
    expect(a).toBe(b);
    expect(requestHash({ parameters: { a: null, b: [{ c: 2, d: 1 }, 1] }, type: 'x' })).not.toBe(a);
  });

  it.each([
    ['', 'Idempotency-Key: must not be empty'],
    ['k'.repeat(257), 'Idempotency-Key: must be at most 256 characters'],
    ['line\nbreak', 'Idempotency-Key: must not contain control characters'],
  ])('refuses the key %j', (key, message) => {
    expect(() => parseIdempotencyKey(key)).toThrow(ValidationError);
    expect(() => parseIdempotencyKey(key)).toThrow(message);
  });

  it('takes keys up to 256 characters, Unicode included', () => {
    expect(parseIdempotencyKey('k'.repeat(256))).toHaveLength(256);
    expect(parseIdempotencyKey('lancement-été 2027')).toBe('lancement-été 2027');
  });

  it('names the key in the conflict of a reused key', () => {
    expect(() => assertSameRequest({ requestHash: 'a' }, 'a', 'task id', 't1')).not.toThrow();
    expect(() => assertSameRequest({ requestHash: 'a' }, 'b', 'task id', 't1')).toThrow(
      new ConflictError("task id 't1' was already used for a different request"),
    );
  });
});
