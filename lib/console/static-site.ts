import type { IncomingHttpHeaders } from 'node:http';
import type { ConsoleBundle, ConsoleFile } from './build.ts';

/** The path the console is served under, on the local runtime and on `vobee console` alike. */
export const CONSOLE_BASE_PATH = '/console';

/** A request as a static page handler sees it. */
export interface PageRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** A complete answer: status, headers and body (empty for HEAD). */
export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Answers the requests it serves, and `undefined` for every other one (they go on to the API). */
export type PageHandler = (request: PageRequest) => Promise<PageResponse | undefined>;

/**
 * What the console may load: its own script and styles, API calls to its own origin, and images,
 * audio and video from anywhere, since artifacts redirect to presigned URLs of the artifact store.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob: http: https:",
  "media-src 'self' data: blob: http: https:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Serves the console under {@link CONSOLE_BASE_PATH}: its hashed assets, and the page for every
 * other path below it, since the console routes on the client (`/console/runs/<id>` is the page).
 * The bundle is asked for only when a console path is requested.
 */
export function consolePages(bundle: () => Promise<ConsoleBundle>): PageHandler {
  return async ({ method, path, headers }) => {
    if (path !== CONSOLE_BASE_PATH && !path.startsWith(`${CONSOLE_BASE_PATH}/`)) return undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      return text(405, `${method} is not served under ${CONSOLE_BASE_PATH}`, { allow: 'GET, HEAD' });
    }
    let built: ConsoleBundle;
    try {
      built = await bundle();
    } catch (error) {
      return text(500, `the console could not be built: ${(error as Error).message}`);
    }
    const below = path.slice(CONSOLE_BASE_PATH.length);
    const asset = below.startsWith('/assets/') ? built.files.get(below) : undefined;
    if (below.startsWith('/assets/') && !asset) return text(404, `no console asset ${below}`);
    const file = asset ?? (built.files.get('/index.html') as ConsoleFile);
    const gzip = acceptsGzip(headers['accept-encoding']);
    const body = gzip ? file.gzip : file.body;
    return {
      status: 200,
      headers: {
        'content-type': file.contentType,
        'content-length': String(body.length),
        'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        ...(file.immutable ? {} : { 'content-security-policy': CONTENT_SECURITY_POLICY }),
      },
      body: method === 'HEAD' ? Buffer.alloc(0) : body,
    };
  };
}

function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const refused = params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
    return (coding === 'gzip' || coding === '*') && !refused;
  });
}

function text(status: number, message: string, extra: Record<string, string> = {}): PageResponse {
  const body = Buffer.from(`${message}\n`, 'utf8');
  return {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      ...extra,
    },
    body,
  };
}
