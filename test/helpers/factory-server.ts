import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FactoryCall {
  action: string;
  parameters: Record<string, unknown>;
  taskId: string;
  context: Record<string, unknown>;
}

export interface FactoryAnswer {
  status: number;
  body: unknown;
  delayMs?: number;
}

/**
 * A factory speaking the factory contract on loopback, whose answer to each execute call is
 * decided by `behaviour` (status and body; 500 if it throws), for tests of failures, retries and
 * fallbacks.
 */
export async function startFactory(
  behaviour: (call: FactoryCall, n: number) => FactoryAnswer | Promise<FactoryAnswer>,
  options: { status?: unknown; capabilities?: unknown } = {},
) {
  const calls: FactoryCall[] = [];
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/status')
      return send(200, options.status ?? { status: 'healthy' });
    if (req.method === 'GET' && req.url === '/capabilities')
      return send(200, options.capabilities ?? { actions: [] });
    if (req.method !== 'POST' || req.url !== '/execute') return send(404, { error: 'not found' });
    const call = JSON.parse(await readBody(req)) as FactoryCall;
    calls.push(call);
    let answer: FactoryAnswer;
    try {
      answer = await behaviour(call, calls.length);
    } catch (error) {
      // A behaviour that throws (a forwarded call that fails) answers as a broken factory would.
      answer = { status: 500, body: { error: (error as Error).message } };
    }
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    send(answer.status, answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
