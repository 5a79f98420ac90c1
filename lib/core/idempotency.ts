import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ConflictError } from './errors.ts';
import { parseInput } from './validation.ts';

/**
 * Idempotency for everything that can be submitted twice (tasks, workflow runs): what a key may
 * be, how a request is fingerprinted, and the conflict when a key comes back with another request.
 */

export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;

/** An idempotency key: 1 to 256 characters, none of them a control character (it travels in headers). */
export const idempotencyKeySchema = z
  .string()
  .min(1, 'must not be empty')
  .max(IDEMPOTENCY_KEY_MAX_LENGTH, `must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`)
  .regex(/^\P{Cc}+$/u, 'must not contain control characters');

/** Validates a caller's key; the error names the `Idempotency-Key` header. */
export function parseIdempotencyKey(value: string): string {
  return parseInput(idempotencyKeySchema, value, 'Idempotency-Key');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The fingerprint of a request: the same whatever the order of its object keys. */
export function requestHash(request: unknown): string {
  return sha256Hex(canonicalJson(request));
}

/** JSON with sorted object keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Throws the conflict of a key reused for a different request. `keyName` says where the key came
 * from (`Idempotency-Key`, `task id`), so the caller knows which value to change.
 */
export function assertSameRequest(
  stored: { requestHash?: string | undefined },
  hash: string,
  keyName: string,
  key: string,
): void {
  if (stored.requestHash !== hash) {
    throw new ConflictError(`${keyName} '${key}' was already used for a different request`);
  }
}
