import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials that exist only in these tests: the fake API below checks signatures made with them. */
export const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIDCONSOLETEST0001',
  secretAccessKey: 'console-test-secret-that-opens-nothing',
};
export const FAKE_REGION = 'eu-west-1';

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string;
  /** The signature recomputed here, with the secret, from what arrived, matches the one sent. */
  signatureValid: boolean;
}

/** `20261202T182233Z` as a date. */
function amzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A stand-in for a deployed API on loopback: like API Gateway with IAM authorisation it refuses
 * any request whose SigV4 signature (service `execute-api`) it cannot reproduce, and answers a
 * service list and its statistics.
 */
export async function startSigV4Upstream(): Promise<{
  url: string;
  requests: SeenRequest[];
  close: () => Promise<void>;
}> {
  const requests: SeenRequest[] = [];
  const signer = new SignatureV4({
    service: 'execute-api',
    region: FAKE_REGION,
    credentials: FAKE_CREDENTIALS,
    sha256: Sha256,
  });
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const authorization = req.headers.authorization ?? '';
    const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
    const headers: Record<string, string> = {};
    for (const name of signedNames) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const signingDate = amzDate(headers['x-amz-date']);
    const { port } = server.address() as AddressInfo;
    const expected = signingDate
      ? await signer.sign(
          {
            method,
            protocol: 'http:',
            hostname: '127.0.0.1',
            port,
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            headers,
            body: body === '' ? undefined : body,
          },
          { signingDate },
        )
      : undefined;
    const signatureValid = expected !== undefined && expected.headers.authorization === authorization;
    requests.push({ method, path: url.pathname, authorization, signatureValid });
    const send = (status: number, answer: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    };
    if (!signatureValid) {
      return send(403, {
        message: 'The request signature we calculated does not match the signature you provided.',
      });
    }
    const now = Date.now();
    if (method === 'GET' && url.pathname === '/services') {
      return send(200, {
        services: [
          {
            name: 'far-away-factory',
            endpoint: 'https://factory.example.com',
            factoryType: 'media',
            capabilities: ['generate_image'],
            weight: 1,
            enabled: true,
            health: 'healthy',
            load: 2,
            version: 1,
            updatedAt: new Date(now).toISOString(),
          },
        ],
      });
    }
    if (method === 'GET' && url.pathname === '/services/far-away-factory/stats') {
      return send(200, {
        service: 'far-away-factory',
        granularity: 'minute',
        points: [3, 2, 1].map((ago, i) => ({
          at: new Date(now - ago * 60_000).toISOString(),
          calls: 10 + i,
          successes: 9 + i,
          failures: 1,
          timeouts: 0,
          p50Ms: 120,
          p95Ms: 400 + 40 * i,
        })),
      });
    }
    send(404, { error: { type: 'NotFound', message: `no route ${method} ${url.pathname}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
