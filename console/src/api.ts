/**
 * The console's only way to the API: JSON over fetch, to the origin that served the page (the
 * local runtime, or `vobee console`, which signs and forwards). It also keeps one fact for the
 * whole page: whether the API answered the last request, so a banner can say when it does not.
 */

import { type ApiIssue, errorBodyOf, parseJson, plainErrorText } from '../../lib/cli/error-body.ts';

export type { ApiIssue };

/** The API answered with an error status; `message` and `issues` come from its `{error}` body. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/** No answer from the API at all. */
export class ApiUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnreachable';
  }
}

type DownListener = (reason: string | undefined) => void;
let downReason: string | undefined;
const downListeners = new Set<DownListener>();

/** Why the API is not answering, or undefined while it is. */
export function apiDownReason(): string | undefined {
  return downReason;
}

/** Calls `listener` whenever the API stops or starts answering; returns the unsubscribe. */
export function onApiDown(listener: DownListener): () => void {
  downListeners.add(listener);
  return () => downListeners.delete(listener);
}

function setDown(reason: string | undefined): void {
  if (reason === downReason) return;
  downReason = reason;
  for (const listener of downListeners) listener(reason);
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

/** Sends one request; answers the parsed body or throws {@link ApiFailure} / {@link ApiUnreachable}. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const query = Object.entries(options.query ?? {})
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const url = query ? `${path}?${query}` : path;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    text = await response.text();
  } catch (error) {
    const reason = `no answer from the API at ${location.origin} (${(error as Error).message})`;
    setDown(reason);
    throw new ApiUnreachable(reason);
  }
  const parsed = parseJson(text);
  const failure = response.ok ? undefined : toFailure(response, parsed, text);
  // `vobee console` answers 502/504 when the deployed API cannot be reached, 503 without credentials.
  if (failure && failure.status >= 502 && failure.status <= 504) {
    setDown(failure.message);
    throw failure;
  }
  setDown(undefined);
  if (failure) throw failure;
  return parsed as T;
}

function toFailure(response: Response, parsed: unknown, text: string): ApiFailure {
  const body = errorBodyOf(parsed, response.statusText);
  if (body) return new ApiFailure(response.status, body.type, body.message, body.issues);
  // Plain text of fewer than 300 characters is shown as it is.
  const detail = plainErrorText(parsed, text, 299) ?? `HTTP ${response.status} ${response.statusText}`;
  return new ApiFailure(response.status, 'HttpError', detail);
}

/** A path from segments, each percent-encoded, so an id can never change the route. */
export function apiPath(...segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}

/** What to tell a person about a failed request, in one sentence. */
export function describeError(error: unknown): string {
  if (error instanceof ApiFailure) {
    // The gateway's own answer for a route it does not have (an API older than the console).
    if ((error.status === 404 || error.status === 405) && /^no route /.test(error.message)) {
      return `This API does not offer that yet: ${error.message} (HTTP ${error.status}).`;
    }
    return `${error.message} (HTTP ${error.status})`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
