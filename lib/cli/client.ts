import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type * as z from 'zod';
import { type ApiIssue, errorBodyOf, parseJson, plainErrorText } from './error-body.ts';

/** The local runtime's API, used when neither `--endpoint` nor `VOBEE_ENDPOINT` says otherwise. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';

/** How long one request may take before the endpoint counts as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

/** AWS credentials as the signer needs them. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}
export type CredentialProvider = () => Promise<Credentials>;

export type { ApiIssue } from './error-body.ts';

/** The API answered with an error status; `type`, `message` and `issues` come from its `{error}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly issues: ApiIssue[] = [],
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** No answer at all: connection refused, unknown host, timeout. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly loopback: boolean,
  ) {
    super(`cannot reach ${url}: ${reason}`);
    this.name = 'UnreachableError';
  }
}

/** The client cannot be set up as asked (endpoint, region); `flag` names what to change. */
export class ClientConfigError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientConfigError';
  }
}

/** Credentials were needed to sign a request and none could be found. */
export class CredentialsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialsError';
  }
}

export interface ClientOptions {
  /** `--endpoint`; falls back to `VOBEE_ENDPOINT`, then {@link DEFAULT_ENDPOINT}. */
  endpoint?: string | undefined;
  /** `--region`; falls back to `AWS_REGION`, `AWS_DEFAULT_REGION`, then the execute-api host name. */
  region?: string | undefined;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  /** Overrides the standard AWS credential chain (tests, embedding). */
  credentials?: CredentialProvider | undefined;
  timeoutMs?: number | undefined;
}

export interface RequestOptions {
  query?: Record<string, string | undefined> | undefined;
  body?: unknown;
  headers?: Record<string, string> | undefined;
  /** `manual`: a redirect is the answer (its JSON body), not followed (`GET /artifacts/{id}`). */
  redirect?: 'follow' | 'manual' | undefined;
}

/** A successful answer: the status tells a created task (202) from a repeated one (200). */
export interface ApiResponse<T> {
  status: number;
  body: T;
}

/**
 * One call of the API with the schema its route declares for the answer (see `api-calls.ts`):
 * the answer takes the schema's type. The schema types the answer; it is not checked at run time,
 * so a CLI older or newer than the API still shows what it gets.
 */
export interface ApiCall<S extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  answers: S;
  options?: RequestOptions;
}

/**
 * Whether a host is this machine. Only such endpoints go unsigned: anything else is taken to be
 * API Gateway with IAM authorisation, which refuses unsigned requests.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    host === '::ffff:127.0.0.1'
  );
}

/** Joins path segments, each percent-encoded, so a name can never change the route it is sent to. */
export function apiPath(...segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}

/** HTTP client for the VoBee API: JSON in and out, SigV4-signed unless the endpoint is loopback. */
export class ApiClient {
  /** The API's base URL; a path in it (an API Gateway stage) prefixes every route. */
  readonly baseUrl: URL;
  /** Whether requests are signed (the endpoint is not loopback). */
  readonly signed: boolean;
  readonly region: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #credentials: CredentialProvider | undefined;
  readonly #timeoutMs: number;
  #signer: Promise<SignatureV4> | undefined;

  constructor(options: ClientOptions) {
    const raw = options.endpoint ?? nonEmpty(options.env.VOBEE_ENDPOINT) ?? DEFAULT_ENDPOINT;
    const flag =
      options.endpoint === undefined && nonEmpty(options.env.VOBEE_ENDPOINT)
        ? 'VOBEE_ENDPOINT'
        : '--endpoint';
    if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) {
      throw new ClientConfigError(flag, `${flag}: '${raw}' is not an http(s) URL, e.g. ${DEFAULT_ENDPOINT}`);
    }
    this.baseUrl = new URL(raw);
    this.signed = !isLoopback(this.baseUrl.hostname);
    this.#fetch = options.fetch;
    this.#credentials = options.credentials;
    this.#timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.region =
      options.region ??
      nonEmpty(options.env.AWS_REGION) ??
      nonEmpty(options.env.AWS_DEFAULT_REGION) ??
      /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(this.baseUrl.hostname)?.[1];
    if (this.signed && this.region === undefined) {
      throw new ClientConfigError(
        '--region',
        `--region: needed to sign requests to ${this.baseUrl.origin}; pass --region or set AWS_REGION`,
      );
    }
  }

  /** The full URL of a route, with the base path in front and the query appended. */
  url(path: string, query: Record<string, string | undefined> = {}): URL {
    const url = new URL(this.baseUrl.href);
    url.pathname = `${this.baseUrl.pathname.replace(/\/+$/, '')}${path}`;
    // Encoded by hand rather than with URLSearchParams, whose `+` for spaces would not match the
    // %20 that SigV4 canonicalises to.
    url.search = Object.entries(query)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join('&');
    return url;
  }

  /**
   * Sends one request and returns the parsed JSON answer. Error statuses become {@link ApiError},
   * a missing answer becomes {@link UnreachableError}.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'vobee-cli',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    };
    if (this.signed) headers = await this.sign(method, url, headers, body);

    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        body,
        redirect: options.redirect ?? 'follow',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      // Inside the try: a connection that drops mid-answer is as unreachable as one refused.
      text = await response.text();
    } catch (error) {
      throw new UnreachableError(url.origin, networkReason(error, this.#timeoutMs), !this.signed);
    }
    const parsed = parseJson(text);
    const redirected = options.redirect === 'manual' && response.status >= 300 && response.status < 400;
    if (!response.ok && !redirected) throw toApiError(response, parsed, text);
    return { status: response.status, body: parsed as T };
  }

  /** Sends one {@link ApiCall}: {@link request}, with the answer typed by the call's schema. */
  async call<S extends z.ZodType>(call: ApiCall<S>): Promise<ApiResponse<z.output<S>>> {
    return this.request<z.output<S>>(call.method, call.path, call.options);
  }

  /**
   * SigV4 headers for one request (service `execute-api`). The `host` header is signed but not
   * returned: fetch sets it itself, to the same value.
   */
  async sign(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Record<string, string>> {
    this.#signer ??= this.#createSigner();
    const signer = await this.#signer;
    const query = Object.fromEntries(url.searchParams);
    let signed: { headers: Record<string, string> };
    try {
      signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        body,
      });
    } catch (error) {
      throw new CredentialsError(
        `no AWS credentials to sign requests to ${url.origin}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const { host: _host, ...rest } = signed.headers;
    return rest;
  }

  async #createSigner(): Promise<SignatureV4> {
    // Loaded only when signing: local use never pays for the credential chain.
    const credentials =
      this.#credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
    return new SignatureV4({
      service: 'execute-api',
      region: this.region as string,
      credentials,
      sha256: Sha256,
    });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Reads the API's `{error: {type, message, issues?}}`; anything else (API Gateway's own
 * `{message}`, a proxy's HTML page) still becomes an ApiError with what can be said.
 */
function toApiError(response: Response, parsed: unknown, text: string): ApiError {
  const body = errorBodyOf(parsed, response.statusText);
  if (body) return new ApiError(response.status, body.type, body.message, body.issues, body.requestId);
  const detail = plainErrorText(parsed, text, 200) ?? (response.statusText || `HTTP ${response.status}`);
  return new ApiError(response.status, 'HttpError', detail);
}

/** A short reason for a failed fetch, from the system error code when there is one. */
function networkReason(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  switch (err.cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return err.cause?.message ?? (error as Error).message ?? 'network error';
  }
}
