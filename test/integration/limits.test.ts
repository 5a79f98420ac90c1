import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FUNCTIONS } from '../../lib/app.ts';
import { jsonBytes, LIMITS, type LimitName } from '../../lib/core/limits.ts';
import { logger } from '../../lib/handler/observability.ts';
import { invoke } from '../../lib/local/functions.ts';
import { HttpGateway } from '../../lib/local/http-gateway.ts';
import { apiEvent, sqsEvent, sqsRecord, taskRequestedEvent } from '../helpers/events.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { backends, createServingStack, tableSnapshot } from '../helpers/stack.ts';

const backend = backends()[0];
if (!backend) throw new Error('no local DynamoDB');

/** The JSON of `value` padded with spaces (still the same JSON) to exactly `bytes` bytes. */
function padded(value: unknown, bytes: number): string {
  const text = JSON.stringify(value);
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(bytes);
  return text + ' '.repeat(bytes - Buffer.byteLength(text));
}

/** An object whose JSON is exactly `bytes` long: `{"blob":"xxx..."}`. */
function objectOf(bytes: number): Record<string, unknown> {
  const value = { blob: 'x'.repeat(bytes - jsonBytes({ blob: '' })) };
  expect(jsonBytes(value)).toBe(bytes);
  return value;
}

let gateway: HttpGateway;
let baseUrl: string;
beforeAll(async () => {
  gateway = new HttpGateway();
  baseUrl = await gateway.listen(0);
});
afterAll(() => gateway.close());

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A request through the local gateway, with `body` sent as it is; the answer's status and JSON. */
async function request(method: string, path: string, body?: string) {
  const response = await fetch(path.startsWith('http') ? path : `${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
  return { status: response.status, body: JSON.parse(text) as any };
}

/** A 413 whose message names what is limited and the limit. */
function expectTooLarge(
  answer: { status: number; body: { error: { type: string; message: string } } },
  name: LimitName,
) {
  expect(answer.status).toBe(413);
  expect(answer.body.error.type).toBe('PayloadTooLarge');
  expect(answer.body.error.message).toContain(LIMITS[name].what);
  expect(answer.body.error.message).toContain(`over the limit of ${LIMITS[name].bytes} bytes`);
}

/** Invokes a manifest function on an API event; its status and JSON body. */
async function call(id: string, event: unknown) {
  const result = (await invoke(id, event)) as APIGatewayProxyStructuredResultV2 & { body: string };
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
  return { status: result.statusCode as number, body: JSON.parse(result.body) as any };
}

const ROUTES = FUNCTIONS.flatMap((f) =>
  f.route ? [{ id: f.id, key: `${f.route.method} ${f.route.path}`, path: f.route.path }] : [],
);
/** Every path parameter of a route template set to `value`. */
const pathOf = (template: string, value: string) =>
  Object.fromEntries([...template.matchAll(/\{(\w+)\}/g)].map((m) => [m[1] as string, value]));

describe('API bodies', () => {
  it('refuses a body over 256 KiB through the gateway with 413 naming the limit, storing nothing; a body of exactly 256 KiB is taken', async () => {
    const stack = await createServingStack(backend);
    const task = { id: 'body-at-limit', type: 'render', parameters: { note: 'hello' } };
    const before = await tableSnapshot(stack);
    const over = await request('POST', '/tasks', padded(task, LIMITS.apiBody.bytes + 1));
    expectTooLarge(over, 'apiBody');
    expect(over.body.error.message).toBe(
      `an API request body: ${LIMITS.apiBody.bytes + 1} bytes is over the limit of 262144 bytes (256 KiB)`,
    );
    const workflow = await request(
      'POST',
      '/workflows',
      padded({ workflow_id: 'w' }, LIMITS.apiBody.bytes + 1),
    );
    expectTooLarge(workflow, 'apiBody');
    expect(await tableSnapshot(stack)).toBe(before);

    const taken = await request('POST', '/tasks', padded(task, LIMITS.apiBody.bytes));
    expect(taken.status).toBe(202);
    expect(taken.body.taskId).toBe('body-at-limit');
    expect((await stack.orchestrator.taskQueries.get('body-at-limit')).task.parameters).toEqual({
      note: 'hello',
    });
  });

  it('is checked in every API handler before parsing, 4 MiB for callbacks, base64 bodies by their decoded size', async () => {
    const stack = await createServingStack(backend);
    const before = await tableSnapshot(stack);
    // Not even JSON: the size is refused before the body is parsed.
    const oversized = (bytes: number) => '{'.repeat(bytes);
    for (const route of ROUTES) {
      const limit = route.key === 'POST /callbacks/{token}' ? 'callbackBody' : 'apiBody';
      const event = apiEvent(route.key, {
        path: pathOf(route.path, 'x'),
        rawBody: oversized(LIMITS[limit].bytes + 1),
      });
      const answer = await call(route.id, event);
      expect({ route: route.key, status: answer.status }).toEqual({ route: route.key, status: 413 });
      expectTooLarge(answer, limit);
    }
    expect(ROUTES.length).toBeGreaterThan(30);
    // A callback body between the two limits is not refused for its size (the token is unknown).
    const callback = await call(
      'Callback',
      apiEvent('POST /callbacks/{token}', {
        path: { token: 'unknown' },
        rawBody: padded({ status: 'succeeded', output: 'x' }, LIMITS.apiBody.bytes + 1),
      }),
    );
    expect(callback.status).toBe(404);

    // API Gateway passes a binary body in base64, 4/3 of its size: the limit is on the decoded bytes.
    const base64 = (text: string) => {
      const event = apiEvent('POST /tasks', { rawBody: Buffer.from(text).toString('base64') });
      return call('SubmitTask', { ...event, isBase64Encoded: true });
    };
    const task = { id: 'base64-at-limit', type: 'render' };
    expectTooLarge(await base64(padded(task, LIMITS.apiBody.bytes + 1)), 'apiBody');
    expect(await tableSnapshot(stack)).toBe(before);
    const taken = await base64(padded(task, LIMITS.apiBody.bytes));
    expect(taken.status).toBe(202);
    expect(taken.body.taskId).toBe('base64-at-limit');
  });

  it('takes a callback body of exactly 4 MiB and refuses one byte more, leaving the waiting task as it was', async () => {
    const stack = await createServingStack(backend, { callbackBaseUrl: baseUrl });
    const factory = await startFactory(() => ({ status: 202, body: { status: 'accepted' } }));
    closers.push(factory.close);
    await stack.orchestrator.services.register({
      name: 'slow-render',
      endpoint: factory.endpoint,
      capabilities: ['render'],
    });
    await stack.orchestrator.tasks.submit({ id: 'awaits-callback', type: 'render' });
    // The worker called the factory, recorded that the task waits for its callback, and is done.
    await expect
      .poll(
        async () => {
          const task = await stack.orchestrator.taskQueries.get('awaits-callback');
          return `${task.waiting?.for}/${stack.queue.inFlight}`;
        },
        { timeout: 30_000 },
      )
      .toBe('callback/0');
    const { callbackUrl } = factory.calls[0] as unknown as { callbackUrl: string };
    expect(callbackUrl.startsWith(`${baseUrl}/callbacks/`)).toBe(true);
    const result = { status: 'succeeded', output: { video: 'v-1' } };

    const before = await tableSnapshot(stack);
    expectTooLarge(
      await request('POST', callbackUrl, padded(result, LIMITS.callbackBody.bytes + 1)),
      'callbackBody',
    );
    expect(await tableSnapshot(stack)).toBe(before);

    const taken = await request('POST', callbackUrl, padded(result, LIMITS.callbackBody.bytes));
    expect(taken).toEqual({ status: 200, body: { taskId: 'awaits-callback', status: 'SUCCEEDED' } });
    expect((await stack.orchestrator.taskQueries.get('awaits-callback')).output).toEqual({ video: 'v-1' });
  });
});

describe('task parameters and intake messages', () => {
  const LIMIT = LIMITS.taskParameters.bytes;

  /**
   * A stack whose `render` tasks succeed at once. A batch of refused messages only is a failed
   * invocation as a whole; a redelivered message that was taken before keeps a batch partial,
   * and writes nothing.
   */
  const renderStack = async () => {
    const stack = await createServingStack(backend);
    const factory = await startFactory(() => ({ status: 200, body: { status: 'ok', output: 'done' } }));
    closers.push(factory.close);
    await stack.orchestrator.services.register({
      name: 'render',
      endpoint: factory.endpoint,
      capabilities: ['render'],
    });
    return stack;
  };

  it('refuses parameters over 64 KiB from the API, SQS and EventBridge alike, storing nothing; exactly 64 KiB is taken', async () => {
    const stack = await renderStack();
    const at = (id: string) => ({ id, type: 'render', parameters: objectOf(LIMIT) });
    expect((await request('POST', '/tasks', JSON.stringify(at('api-at-limit')))).status).toBe(202);
    const taken = [sqsRecord(at('sqs-at-limit')), sqsRecord(taskRequestedEvent(at('event-at-limit')))];
    expect(((await invoke('TaskIntake', sqsEvent(taken))) as SQSBatchResponse).batchItemFailures).toEqual([]);
    await stack.settle();
    for (const id of ['api-at-limit', 'sqs-at-limit', 'event-at-limit'])
      expect(jsonBytes((await stack.orchestrator.taskQueries.get(id)).task.parameters)).toBe(LIMIT);

    const over = { type: 'render', parameters: objectOf(LIMIT + 1) };
    const before = await tableSnapshot(stack);
    const api = await request('POST', '/tasks', JSON.stringify(over));
    expectTooLarge(api, 'taskParameters');
    expect(api.body.error.message).toContain(`${LIMIT + 1} bytes is over`);
    const refused = [sqsRecord(over), sqsRecord(taskRequestedEvent(over))];
    const intake = (await invoke('TaskIntake', sqsEvent([...refused, ...taken]))) as SQSBatchResponse;
    expect(intake.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      refused.map((r) => r.messageId).sort(),
    );
    await stack.settle();
    expect(await tableSnapshot(stack)).toBe(before);
  });

  it('refuses an SQS message or event over 256 KiB before parsing it, logging the limit and storing nothing; exactly 256 KiB is taken', async () => {
    const stack = await renderStack();
    const task = (id: string) => ({ id, type: 'render', parameters: { note: 'hello' } });
    const taken = [
      sqsRecord(padded(task('sqs-at-limit'), LIMITS.intakeMessage.bytes)),
      sqsRecord(padded(taskRequestedEvent(task('event-at-limit')), LIMITS.intakeMessage.bytes)),
    ];
    expect(((await invoke('TaskIntake', sqsEvent(taken))) as SQSBatchResponse).batchItemFailures).toEqual([]);
    await stack.settle();
    expect((await stack.orchestrator.taskQueries.get('sqs-at-limit')).status).toBe('SUCCEEDED');
    expect((await stack.orchestrator.taskQueries.get('event-at-limit')).status).toBe('SUCCEEDED');

    const warn = vi.spyOn(logger, 'warn');
    const refused = [
      sqsRecord(padded(task('sqs-over'), LIMITS.intakeMessage.bytes + 1)),
      sqsRecord(padded(taskRequestedEvent(task('event-over')), LIMITS.intakeMessage.bytes + 1)),
      // Not JSON either: refused for its size, which is looked at first.
      sqsRecord('{'.repeat(LIMITS.intakeMessage.bytes + 1)),
    ];
    const before = await tableSnapshot(stack);
    const response = (await invoke('TaskIntake', sqsEvent([...refused, ...taken]))) as SQSBatchResponse;
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      refused.map((r) => r.messageId).sort(),
    );
    await stack.settle();
    expect(await tableSnapshot(stack)).toBe(before);
    const logged = warn.mock.calls.filter(([message]) => message === 'intake message refused');
    expect(logged.map(([, fields]) => (fields as { messageId: string }).messageId).sort()).toEqual(
      refused.map((r) => r.messageId).sort(),
    );
    for (const [, fields] of logged) {
      const { reason, bytes } = fields as { reason: string; bytes: number };
      expect(bytes).toBe(LIMITS.intakeMessage.bytes + 1);
      expect(reason).toBe(
        `an intake message or event: ${LIMITS.intakeMessage.bytes + 1} bytes is over the limit of 262144 bytes (256 KiB)`,
      );
    }
  });
});

describe('workflow run input', () => {
  it('refuses a run input over 64 KiB with 413 naming the limit, starting and storing nothing; exactly 64 KiB starts', async () => {
    const stack = await createServingStack(backend);
    const factory = await startFactory(() => ({ status: 200, body: { status: 'ok', output: { score: 1 } } }));
    closers.push(factory.close);
    await stack.orchestrator.services.register({
      name: 'scorer',
      endpoint: factory.endpoint,
      factoryType: 'scoring',
      capabilities: ['score'],
    });
    const registered = await request(
      'POST',
      '/workflows',
      JSON.stringify({
        workflow_id: 'scoring',
        name: 'Scoring',
        steps: [{ step_id: 'score', name: 'Score', factory_type: 'scoring', action: 'score' }],
      }),
    );
    expect(registered.status).toBe(201);
    const LIMIT = LIMITS.runInput.bytes;
    const before = await tableSnapshot(stack);
    const over = await request(
      'POST',
      '/workflows/scoring/executions',
      JSON.stringify({ input: objectOf(LIMIT + 1) }),
    );
    expectTooLarge(over, 'runInput');
    expect(over.body.error.message).toContain(`${LIMIT + 1} bytes is over`);
    expect(await tableSnapshot(stack)).toBe(before);
    expect(factory.calls).toEqual([]);

    const started = await request(
      'POST',
      '/workflows/scoring/executions',
      JSON.stringify({ input: objectOf(LIMIT) }),
    );
    expect(started.status).toBe(202);
    expect(started.body.status).toBe('RUNNING');
  });
});

describe('malformed percent-escapes in paths', () => {
  const MALFORMED = ['%', '%E0%A4%A', '%zz', 'abc%', '%C0%AF', '%ED%A0%80', '%FF'];

  it('answer 400 with a JSON error naming the path parameter, through the gateway, never 500', async () => {
    await createServingStack(backend);
    const requests = [
      ['GET', '/tasks/{}'],
      ['GET', '/executions/{}'],
      ['POST', '/executions/{}/pause'],
      ['GET', '/services/{}/status'],
      ['PATCH', '/services/{}'],
      ['POST', '/workflows/{}/executions'],
      ['POST', '/callbacks/{}'],
    ] as const;
    for (const [method, template] of requests) {
      for (const malformed of MALFORMED) {
        const path = template.replace('{}', malformed);
        const answer = await request(method, path, method === 'GET' ? undefined : '{}');
        expect({ path, status: answer.status }).toEqual({ path, status: 400 });
        expect(answer.body.error.type).toBe('ValidationError');
        expect(answer.body.error.issues).toEqual([
          {
            field: expect.stringMatching(/^path\.\w+$/),
            message: `'${malformed}' is not valid percent-encoding`,
          },
        ]);
      }
    }
    // Well encoded, the same character reaches the handler, whose own rule refuses it.
    const encoded = await request('GET', `/tasks/${encodeURIComponent('%')}`);
    expect(encoded.status).toBe(400);
    expect(encoded.body.error.issues[0].message).toMatch(/^may contain only letters/);
    expect((await request('GET', '/tasks/no-such-task')).status).toBe(404);
  });

  it('never make a handler answer 500, whether the parameters arrive decoded or not', async () => {
    const stack = await createServingStack(backend);
    const before = await tableSnapshot(stack);
    // As sent (not decoded), and what decoding could leave: a lone surrogate, a NUL, a slash.
    const values = [...MALFORMED, '\uD800', '\u0000', 'a/b', '\uFFFD'];
    const statuses = new Set<number>();
    for (const route of ROUTES.filter((r) => r.path.includes('{'))) {
      for (const value of values) {
        const event = apiEvent(route.key, {
          path: pathOf(route.path, 'x'),
          ...(route.key.startsWith('GET ') ? {} : { body: { status: 'succeeded', output: 'x' } }),
        });
        const answer = await call(route.id, { ...event, pathParameters: pathOf(route.path, value) });
        statuses.add(answer.status);
        expect(answer.status, `${route.key} ${JSON.stringify(value)}`).toBeGreaterThanOrEqual(400);
        expect(answer.status, `${route.key} ${JSON.stringify(value)}`).toBeLessThan(500);
        expect(answer.body.error.message.length).toBeGreaterThan(0);
      }
    }
    expect(statuses.has(400)).toBe(true);
    expect(await tableSnapshot(stack)).toBe(before);
  });
});

describe('the gateway stops reading a body at its limit', () => {
  const FIFTY_MB = 50 * 1024 * 1024;

  /**
   * Sends `POST /tasks` with a body of `total` bytes in 64 KiB chunks (chunked, or with its
   * Content-Length declared), waiting whenever the socket is full, and stops sending as soon as an
   * answer arrives. Gives the answer, how much was sent, and how much the server read off the wire.
   */
  async function upload(total: number, framing: 'chunked' | 'content-length') {
    const tag = `upload-${Math.random().toString(36).slice(2)}`;
    let serverSocket: Socket | undefined;
    const onRequest = (message: unknown) => {
      const { request, socket } = message as { request: IncomingMessage; socket: Socket };
      if (request.headers['x-test-upload'] === tag) serverSocket = socket;
    };
    subscribe('http.server.request.start', onRequest);
    try {
      const { port } = new URL(baseUrl);
      const client = connect(Number(port), '127.0.0.1');
      let answer = '';
      let sent = 0;
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.on('data', (data) => {
        answer += data.toString();
      });
      // Writing after the server closed its side fails (EPIPE): expected once it has answered.
      client.on('error', () => {});
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      client.write(
        `POST /tasks HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nx-test-upload: ${tag}\r\n${
          framing === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${total}`
        }\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      while (sent < total && answer === '' && !client.destroyed) {
        const framed =
          framing === 'chunked'
            ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
            : chunk;
        sent += chunk.length;
        if (!client.write(framed))
          await Promise.race([new Promise((resolve) => client.once('drain', resolve)), closed]);
      }
      await closed;
      await new Promise<void>((resolve) =>
        serverSocket?.destroyed ? resolve() : serverSocket?.once('close', () => resolve()),
      );
      return { answer, sent, read: serverSocket?.bytesRead ?? Number.NaN };
    } finally {
      unsubscribe('http.server.request.start', onRequest);
    }
  }

  it('answers 413 to a 50 MB chunked body after reading little more than the limit, and closes the connection', async () => {
    await createServingStack(backend);
    const { answer, sent, read } = await upload(FIFTY_MB, 'chunked');
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(body)).toEqual({
      error: {
        type: 'PayloadTooLarge',
        message: 'an API request body: over the limit of 262144 bytes (256 KiB)',
      },
    });
    // The answer came while the client still had most of the body to send.
    expect(sent).toBeLessThan(FIFTY_MB / 2);
    // The server read the limit and what was in flight, not the body.
    expect(read).toBeGreaterThan(LIMITS.apiBody.bytes);
    expect(read).toBeLessThan(LIMITS.apiBody.bytes + 2 * 1024 * 1024);
  });

  it('answers 413 to a declared 50 MB body from its Content-Length, before reading it', async () => {
    await createServingStack(backend);
    const { answer, sent, read } = await upload(FIFTY_MB, 'content-length');
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(JSON.parse(body).error.message).toBe(
      `an API request body: ${FIFTY_MB} bytes is over the limit of 262144 bytes (256 KiB)`,
    );
    expect(sent).toBeLessThan(FIFTY_MB / 2);
    // What the server discards while the connection closes, not the body.
    expect(read).toBeLessThan(2 * 1024 * 1024);
  });
});
