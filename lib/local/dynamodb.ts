import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/** A running local DynamoDB: where to reach it and how to stop it. */
export interface LocalDynamo {
  kind: 'dynalite' | 'dynamodb-local';
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Client settings for local endpoints: any credentials work, but the SDK insists on having some;
 * a local database answers many requests at once, so the socket pool is wider than the default 50
 * and a queue of requests waiting for a socket is expected, not worth a warning.
 */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  requestHandler: {
    httpAgent: { maxSockets: 256, keepAlive: true },
    socketAcquisitionWarningTimeout: 60_000,
  },
};

const require = createRequire(import.meta.url);

/**
 * Starts dynalite: pure Node, ready in milliseconds, in memory or persisted to `path` (LevelDB).
 * Tables become ACTIVE at once. It has no transactions and no TTL deletion, which the stores do
 * not rely on. With `thread`, it runs on a worker thread of its own, as a database server would
 * run beside the application: the same dynalite, answering over HTTP, on the other core.
 */
export async function startDynalite(
  options: { port?: number; host?: string; path?: string; thread?: boolean } = {},
): Promise<LocalDynamo> {
  const host = options.host ?? '127.0.0.1';
  const settings = { path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };
  if (options.thread) return startDynaliteThread(settings, options.port ?? 0, host);
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite(settings);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    kind: 'dynalite',
    endpoint: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The worker thread's program: a CommonJS script, so that it runs whatever loads this module. */
const DYNALITE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require(workerData.module)(workerData.settings);
server.once('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen(workerData.port, workerData.host, () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', () => {
  server.closeAllConnections();
  server.close(() => parentPort.postMessage({ stopped: true }));
});
`;

async function startDynaliteThread(
  settings: Record<string, unknown>,
  port: number,
  host: string,
): Promise<LocalDynamo> {
  const worker = new Worker(DYNALITE_THREAD, {
    eval: true,
    workerData: { module: require.resolve('dynalite'), settings, port, host },
  });
  const listening = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { port?: number; error?: string }) =>
      message.port === undefined
        ? reject(new Error(`dynalite did not start: ${message.error}`))
        : resolve(message.port),
    );
  });
  return {
    kind: 'dynalite',
    endpoint: `http://${host}:${listening}`,
    async stop() {
      const stopped = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}

/** Where Amazon's DynamoDB Local jar is, if the package that ships it is installed. */
export function dynamoDbLocalJar(): string | undefined {
  try {
    const root = dirname(require.resolve('amplify-dynamodb-simulator/package.json'));
    const jar = join(root, 'emulator', 'DynamoDBLocal.jar');
    return existsSync(jar) ? jar : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts Amazon's DynamoDB Local (Java 17+) in memory on `port` and waits until it answers.
 * It implements the whole API, so the storage suite runs against it as well as against dynalite.
 */
export async function startDynamoDbLocal(options: { port: number; java?: string }): Promise<LocalDynamo> {
  const jar = dynamoDbLocalJar();
  if (!jar) throw new Error('DynamoDB Local is not installed (package amplify-dynamodb-simulator)');
  const child: ChildProcess = spawn(
    options.java ?? 'java',
    [
      `-Djava.library.path=${join(dirname(jar), 'DynamoDBLocal_lib')}`,
      '-jar',
      jar,
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(options.port),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const endpoint = `http://127.0.0.1:${options.port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`DynamoDB Local exited with ${child.exitCode}: ${stderr.trim()}`);
      try {
        await client.send(new ListTablesCommand({}));
        return { kind: 'dynamodb-local', endpoint, stop };
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer within 30 s: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
}
