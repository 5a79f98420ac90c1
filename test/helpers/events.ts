import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, SQSEvent, SQSRecord } from 'aws-lambda';
import { FUNCTIONS } from '../../lib/app.ts';

/**
 * An API Gateway HTTP API (payload format 2.0) event for the manifest route `routeKey`
 * (e.g. `POST /tasks`), with path parameters filled from `path`.
 */
export function apiEvent(
  routeKey: string,
  options: {
    path?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const [method, template] = routeKey.split(' ') as [string, string];
  if (!FUNCTIONS.some((f) => f.route && `${f.route.method} ${f.route.path}` === routeKey)) {
    throw new Error(`no route ${routeKey} in the manifest`);
  }
  const rawPath = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(options.path?.[name] ?? ''),
  );
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers = {
    host: 'api.example.com',
    'user-agent': 'vitest',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  const query = options.query && Object.keys(options.query).length > 0 ? options.query : undefined;
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers,
    queryStringParameters: query,
    pathParameters: options.path,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

export function sqsRecord(
  body: unknown,
  options: { messageId?: string; idempotencyKey?: string } = {},
): SQSRecord {
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: randomUUID(),
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: options.idempotencyKey
      ? {
          IdempotencyKey: {
            stringValue: options.idempotencyKey,
            dataType: 'String',
            stringListValues: [],
            binaryListValues: [],
          },
        }
      : {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:vobee-intake',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** The EventBridge event a rule forwards to the intake queue for `TaskRequested`. */
export function taskRequestedEvent(detail: unknown, id: string = randomUUID()) {
  return {
    version: '0',
    id,
    'detail-type': 'TaskRequested',
    source: 'vobee.tasks',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

export { scheduledEvent } from '../../lib/local/lambda-context.ts';
