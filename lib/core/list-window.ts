import * as z from 'zod';
import { ValidationError } from './errors.ts';

/**
 * The window of a newest-first list (`GET /tasks`, `GET /executions`): a creation-time range, a
 * page size and where the previous page ended. The position is handed to clients as an opaque
 * `nextToken`, so its format can change without breaking them.
 */
export interface ListWindow {
  /** Oldest creation time included (ISO-8601). */
  since: string;
  /** Creation times strictly before this are included (ISO-8601). */
  until: string;
  /** A position from an earlier page: only older items follow it. */
  after?: string | undefined;
  limit: number;
}

/** Without `since`, a list reaches back this far from `until`. */
export const DEFAULT_LIST_DAYS = 30;
export const DEFAULT_LIST_LIMIT = 25;
export const MAX_LIST_LIMIT = 100;

const TOKEN_MESSAGE = 'is not a nextToken from this list: pass it back as it was given';

/** A point in time as queries give it: an ISO-8601 date or date-time. */
export const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error: 'is not an ISO-8601 date or date-time',
});

/**
 * The query parameters every list takes besides its own filters: `since` and `until` are ISO-8601
 * dates or date-times. A list's schema adds {@link IN_ORDER} so a bad window is refused before
 * any read.
 */
export const listWindowShape = {
  since: instant.optional(),
  until: instant.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).optional(),
  nextToken: z
    .string()
    .max(512)
    .refine((token) => decodePosition(token) !== undefined, TOKEN_MESSAGE)
    .optional(),
};

/** The refinement that `since` is not after `until`. */
export const IN_ORDER = {
  check: (q: { since?: string | undefined; until?: string | undefined }): boolean =>
    q.since === undefined || q.until === undefined || Date.parse(q.since) <= Date.parse(q.until),
  issue: { path: ['since'], message: 'is after until' },
};

export interface ListWindowInput {
  since?: string | undefined;
  until?: string | undefined;
  limit?: number | undefined;
  nextToken?: string | undefined;
}

/** The window a query asks for, with defaults: the last {@link DEFAULT_LIST_DAYS} days up to `now`. */
export function listWindow(input: ListWindowInput, now: Date): ListWindow {
  const until = input.until === undefined ? now.toISOString() : new Date(input.until).toISOString();
  const since =
    input.since === undefined
      ? new Date(Date.parse(until) - DEFAULT_LIST_DAYS * 86_400_000).toISOString()
      : new Date(input.since).toISOString();
  if (since > until) {
    throw new ValidationError([{ field: 'query.since', message: `is after until (${until})` }]);
  }
  return {
    since,
    until,
    limit: input.limit ?? DEFAULT_LIST_LIMIT,
    ...(input.nextToken === undefined ? {} : { after: positionOf(input.nextToken) }),
  };
}

/** A position from the lists' indexes: an ISO-8601 time, or a day, then what follows it. */
const POSITION = /^\d{4}-\d{2}-\d{2}T[0-9:.Z~#A-Za-z_-]*$/;

/** The opaque token of a position. */
export function nextToken(position: string | undefined): string | undefined {
  return position === undefined
    ? undefined
    : Buffer.from(JSON.stringify({ after: position })).toString('base64url');
}

function positionOf(token: string): string {
  const position = decodePosition(token);
  if (position === undefined)
    throw new ValidationError([{ field: 'query.nextToken', message: TOKEN_MESSAGE }]);
  return position;
}

function decodePosition(token: string): string | undefined {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const after = (decoded as { after?: unknown } | null)?.after;
  return typeof after === 'string' && POSITION.test(after) ? after : undefined;
}
