/**
 * The API's error answers as its clients read them (the CLI and the web console): its own
 * `{error: {type, message, issues?, requestId?}}` (`lib/handler/http-errors.ts`), or whatever
 * else stood in the way, such as API Gateway's `{message}` or a proxy's page. No Node.js and no
 * DOM here: the console's bundle includes it.
 */

/** One problem with one field, as the API's 400 and 422 answers name them. */
export interface ApiIssue {
  field: string;
  message: string;
}

export interface ErrorBody {
  type: string;
  message: string;
  issues: ApiIssue[];
  requestId?: string | undefined;
}

/** An answer's JSON; undefined when it is empty or not JSON (a proxy's page, say). */
export function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API's own error body, or undefined when the answer is something else. */
export function errorBodyOf(parsed: unknown, statusText: string): ErrorBody | undefined {
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { type?: unknown; message?: unknown; issues?: unknown; requestId?: unknown };
  return {
    type: typeof e.type === 'string' ? e.type : 'Error',
    message: typeof e.message === 'string' ? e.message : statusText,
    issues: Array.isArray(e.issues)
      ? e.issues.filter(
          (i): i is ApiIssue =>
            typeof i === 'object' && i !== null && typeof (i as ApiIssue).message === 'string',
        )
      : [],
    ...(typeof e.requestId === 'string' ? { requestId: e.requestId } : {}),
  };
}

/**
 * What an answer that is not the API's error body says: a `{message}`, or its text when it is
 * short (at most `maxLength` characters) and not an HTML page; undefined otherwise.
 */
export function plainErrorText(parsed: unknown, text: string, maxLength: number): string | undefined {
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return message;
  return text.trim() !== '' && text.length <= maxLength && !text.trimStart().startsWith('<')
    ? text.trim()
    : undefined;
}
