import { createHash, randomBytes } from 'node:crypto';

/** The prefix of a single task's callback token (a Step Functions token never contains a dot). */
const TASK_TOKEN_PREFIX = 't.';

/** A fresh callback token for a task: its id (so the callback finds the record) and a secret. */
export function taskCallbackToken(taskId: string): string {
  return `${TASK_TOKEN_PREFIX}${Buffer.from(taskId).toString('base64url')}.${randomBytes(24).toString('base64url')}`;
}

/** The task a callback token belongs to, or undefined when it is not a task token. */
export function taskIdOfToken(token: string): string | undefined {
  if (!token.startsWith(TASK_TOKEN_PREFIX)) return undefined;
  const [, id, secret] = token.split('.');
  if (!id || !secret) return undefined;
  return Buffer.from(id, 'base64url').toString('utf8');
}

/** Tokens are secrets: records keep only their hash. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
