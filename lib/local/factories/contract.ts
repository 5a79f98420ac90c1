import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { artifactIdSchema } from '../../core/artifacts.ts';
import type { FieldIssue } from '../../core/errors.ts';
import { httpUrl, httpUrlUpTo } from '../../core/names.ts';

/** Said by every example output, so nobody mistakes it for the work of a model. */
export const EXAMPLE_NOTICE = 'Example factory output: generated without an AI model';

/** Marks an output as an example: `example: true` and the {@link EXAMPLE_NOTICE}. */
export function exampleOutput<T extends object>(fields: T): { example: true; notice: string } & T {
  return { example: true, notice: EXAMPLE_NOTICE, ...fields };
}

/** The largest execute body read; workflows pass earlier outputs along, so this is generous. */
const MAX_BODY_BYTES = 1_000_000;

/** A presigned URL: its signature (and a session token on AWS) makes it longer than most. */
export const presignedUrl = httpUrlUpTo(8_192);

/** Where the caller lets this call upload one large output: a presigned PUT for one object. */
export const uploadOfferSchema = z.object({
  url: presignedUrl,
  method: z.literal('PUT'),
  artifact: z.object({ id: artifactIdSchema, uri: z.string().min(1).max(2_048) }),
  expiresAt: z.iso.datetime({ offset: true }),
  maxBytes: z.number().int().min(0),
});
export type UploadOffer = z.output<typeof uploadOfferSchema>;

/** The body of `POST /execute`. Unknown fields are ignored, so callers may add their own. */
export const executeRequestSchema = z.object({
  action: z.string().min(1, 'must not be empty').max(128),
  parameters: z.record(z.string(), z.unknown()).default({}),
  taskId: z.string().min(1, 'must not be empty').max(256),
  context: z.record(z.string(), z.unknown()).default({}),
  /** Where an asynchronous call posts its result. */
  callbackUrl: httpUrl.optional(),
  /** Echoed in the callback, so the caller can resume the waiting workflow step. */
  taskToken: z.string().min(1).max(4_096).optional(),
  /** Where a large output may be uploaded; the answer then carries its artifact reference. */
  upload: uploadOfferSchema.optional(),
});
export type ExecuteRequest = z.output<typeof executeRequestSchema>;

/** What an action knows of its call besides its parameters. */
export interface ActionCall {
  /** The upload offered with the call, if any. */
  upload?: UploadOffer | undefined;
  /** Aborted when nobody waits for the result any more: stop transfers. */
  signal: AbortSignal;
}

/**
 * The call cannot be done as asked, and asking again will not help (a reference that does not
 * hold, an input that is not what it claims): answered 422, which callers do not retry.
 */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** One action of a factory: its parameters (a zod schema, checked before it runs) and its work. */
export interface FactoryAction<S extends z.ZodType = z.ZodType> {
  description: string;
  parameters: S;
  /**
   * Checks of valid parameters against the rest of the call (e.g. an output too large to answer
   * inline without an upload offer); an issue is answered with 400 before anything runs.
   */
  check?(parameters: z.output<S>, request: ExecuteRequest): FieldIssue | undefined;
  /**
   * Computes the output from valid parameters, at once or as a promise; a throw is reported as a
   * failed call (422 for a {@link RefusedError}, else 500).
   */
  run(parameters: z.output<S>, call: ActionCall): unknown;
}

/** Keeps the parameter type of an action tied to its schema. */
export function defineAction<S extends z.ZodType>(action: FactoryAction<S>): FactoryAction<S> {
  return action;
}

/** A factory: its identity, its actions, and the task types it serves (each through one action). */
export interface FactoryDefinition {
  name: string;
  factoryType: string;
  version: string;
  actions: Readonly<Record<string, FactoryAction>>;
  /**
   * Task type to action. The orchestrator sends the task type as the action when a task names
   * none, so a task of type `image_generation` reaches `generate_image`.
   */
  taskTypes: Readonly<Record<string, string>>;
}

/** How one call ended, as the caller hears it (in the answer or in the callback). */
export type Outcome = { status: 'succeeded'; output: unknown } | { status: 'failed'; error: string };

/** An outcome with the HTTP status that answers it (200, 422 or 500). */
export interface Settled {
  httpStatus: number;
  outcome: Outcome;
}

/** An execute call that passed validation: what was asked, and the work ready to run. */
export interface PreparedCall {
  request: ExecuteRequest;
  /** The action that runs (a task type resolved to its action). */
  action: string;
  /** Runs the action; never rejects. `signal` aborts its transfers. */
  run(signal?: AbortSignal): Promise<Settled>;
}

/** A prepared call as a delivery policy receives it, with the signals that end waiting. */
export interface AcceptedCall extends PreparedCall {
  /** Aborted when the server closes: nothing may outlive it. */
  closing: AbortSignal;
  /** Aborted when the caller goes away before it was answered. */
  callerGone: AbortSignal;
}

/** Answers the HTTP request; only the first answer counts. */
export type Reply = (status: number, body: unknown) => void;

/**
 * Decides when and how an accepted call is answered: at once, late, never, or by callback.
 * Fault injection and asynchronous mode are policies; the server itself only validates and counts.
 */
export interface DeliveryPolicy {
  /** Extra checks of the envelope before anything runs; an issue is answered with 400. */
  check?(request: ExecuteRequest): FieldIssue | undefined;
  /** Resolves with the call's outcome once its work is over (after the answer, for callbacks). */
  deliver(call: AcceptedCall, reply: Reply): Promise<Outcome>;
}

/** The plain policy: run the action and answer with its outcome. */
export const answerAtOnce: DeliveryPolicy = {
  async deliver(call, reply) {
    const { httpStatus, outcome } = await call.run(AbortSignal.any([call.closing, call.callerGone]));
    reply(httpStatus, outcome);
    return outcome;
  },
};

/**
 * Validates an execute body against a factory: the envelope, the action (or task type), then the
 * action's parameters. Nothing runs here; a problem comes back as the field to name in a 400.
 */
export function prepareCall(
  definition: FactoryDefinition,
  body: unknown,
): { ok: true; call: PreparedCall } | { ok: false; error: FieldIssue } {
  const envelope = executeRequestSchema.safeParse(body);
  if (!envelope.success) return { ok: false, error: firstIssue(envelope.error, []) };
  const request = envelope.data;
  const actionName = resolveAction(definition, request.action);
  const action = actionName === undefined ? undefined : definition.actions[actionName];
  if (actionName === undefined || action === undefined) {
    const offered = [...Object.keys(definition.actions), ...Object.keys(definition.taskTypes)];
    return {
      ok: false,
      error: {
        field: 'action',
        message: `unknown action '${request.action.slice(0, 128)}'; ${definition.name} offers: ${offered.join(', ')}`,
      },
    };
  }
  const parameters = action.parameters.safeParse(request.parameters);
  if (!parameters.success) return { ok: false, error: firstIssue(parameters.error, ['parameters']) };
  const issue = action.check?.(parameters.data, request);
  if (issue) return { ok: false, error: issue };
  const run = async (signal: AbortSignal = new AbortController().signal): Promise<Settled> => {
    try {
      const output = await action.run(parameters.data, { upload: request.upload, signal });
      return { httpStatus: 200, outcome: { status: 'succeeded', output } };
    } catch (error) {
      return {
        httpStatus: error instanceof RefusedError ? 422 : 500,
        outcome: { status: 'failed', error: `${actionName} failed: ${(error as Error).message}` },
      };
    }
  };
  return { ok: true, call: { request, action: actionName, run } };
}

function resolveAction(definition: FactoryDefinition, name: string): string | undefined {
  // Own properties only: `constructor` or `__proto__` are not actions.
  if (Object.hasOwn(definition.actions, name)) return name;
  if (Object.hasOwn(definition.taskTypes, name)) return definition.taskTypes[name];
  return undefined;
}

function firstIssue(error: z.ZodError, prefix: string[]): FieldIssue {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? []).map(String)];
  return { field: path.length > 0 ? path.join('.') : 'body', message: issue?.message ?? 'invalid' };
}

/** Counters a factory keeps about itself, reported by `GET /status`. */
export interface FactoryStats {
  inFlight: number;
  completed: number;
  failed: number;
  /** Execute calls answered 400 (or 413): the caller's mistake, not a failure of the factory. */
  rejected: number;
  uptimeSeconds: number;
}

/** A running factory server. `close()` releases every held call and ends every connection. */
export interface FactoryServer {
  endpoint: string;
  close(): Promise<void>;
  stats(): FactoryStats;
}

/** Of the last calls, how many to judge health by, and the failed share that makes it degraded. */
const HEALTH_WINDOW = 20;
const DEGRADED_SHARE = 0.5;

/**
 * Serves a factory over `node:http`: `POST /execute`, `GET /status`, `GET /capabilities`.
 * Calls are validated here; how an accepted call is answered is the policy's choice.
 */
export async function serveFactory(
  definition: FactoryDefinition,
  options: { host?: string; port?: number; policy?: DeliveryPolicy } = {},
): Promise<FactoryServer> {
  const policy = options.policy ?? answerAtOnce;
  const host = options.host ?? '127.0.0.1';
  const startedAt = Date.now();
  const counts = { inFlight: 0, completed: 0, failed: 0, rejected: 0 };
  const recent: boolean[] = [];
  const closing = new AbortController();
  const pending = new Set<Promise<void>>();

  const stats = (): FactoryStats => ({
    ...counts,
    uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
  });
  const health = () => {
    const failures = recent.filter((ok) => !ok).length;
    return recent.length >= 4 && failures / recent.length >= DEGRADED_SHARE ? 'degraded' : 'healthy';
  };
  const record = (outcome: Outcome) => {
    counts.inFlight -= 1;
    if (outcome.status === 'succeeded') counts.completed += 1;
    else counts.failed += 1;
    recent.push(outcome.status === 'succeeded');
    if (recent.length > HEALTH_WINDOW) recent.shift();
  };

  const execute = async (req: IncomingMessage, res: ServerResponse) => {
    const reject = (status: number, error: FieldIssue) => {
      counts.rejected += 1;
      send(res, status, { error });
    };
    const text = await readBody(req, MAX_BODY_BYTES);
    if (text === undefined)
      return reject(413, { field: 'body', message: `must be at most ${MAX_BODY_BYTES} bytes` });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return reject(400, { field: 'body', message: 'must be a JSON object' });
    }
    const prepared = prepareCall(definition, body);
    if (!prepared.ok) return reject(400, prepared.error);
    const issue = policy.check?.(prepared.call.request);
    if (issue) return reject(400, issue);

    const callerGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) callerGone.abort();
    });
    counts.inFlight += 1;
    const reply: Reply = (status, answer) => send(res, status, answer);
    const work = policy
      .deliver({ ...prepared.call, closing: closing.signal, callerGone: callerGone.signal }, reply)
      .catch((error: unknown): Outcome => {
        const failed: Outcome = { status: 'failed', error: `delivery failed: ${(error as Error).message}` };
        reply(500, failed);
        return failed;
      })
      .then(record);
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://factory').pathname;
    const only = (method: string) => {
      if (req.method === method) return true;
      res.setHeader('allow', method);
      send(res, 405, { error: { field: 'method', message: `${path} answers ${method} only` } });
      return false;
    };
    if (path === '/execute') {
      if (only('POST'))
        execute(req, res).catch((error: unknown) =>
          send(res, 500, { status: 'failed', error: (error as Error).message }),
        );
    } else if (path === '/status') {
      if (only('GET'))
        send(res, 200, {
          status: health(),
          factory: definition.name,
          factoryType: definition.factoryType,
          version: definition.version,
          example: true,
          ...stats(),
        });
    } else if (path === '/capabilities') {
      if (only('GET'))
        send(res, 200, {
          factory: definition.name,
          factoryType: definition.factoryType,
          actions: Object.keys(definition.actions),
          taskTypes: Object.keys(definition.taskTypes),
          example: true,
        });
    } else {
      send(res, 404, { error: { field: 'path', message: `no route for ${path}` } });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    stats,
    close() {
      closed ??= (async () => {
        closing.abort();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.allSettled([...pending]);
        await stopped;
      })();
      return closed;
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The body as text, or undefined when it is over `limit` bytes. An oversized body is still read
 * to its end (and dropped): stopping early would destroy the socket before the 413 is sent.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks).toString('utf8');
}
