import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import {
  dynamoDbLocalJar,
  type LocalDynamo,
  startDynalite,
  startDynamoDbLocal,
} from '../../lib/local/dynamodb.ts';
import { startLocalS3 } from '../../lib/local/s3.ts';

export interface DynamoBackend {
  kind: LocalDynamo['kind'];
  endpoint: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    dynamoBackends: DynamoBackend[];
    artifactS3: { endpoint: string; bucket: string };
  }
}

/**
 * Starts the local databases once for the whole run: dynalite always, and Amazon's DynamoDB
 * Local too when Java and the jar are present (set VOBEE_TEST_DYNAMODB_LOCAL=0 to skip it).
 * Each test file makes its own tables with a unique prefix, so files never share state.
 */
export default async function setup(project: TestProject) {
  const started: LocalDynamo[] = [await startDynalite()];
  if (process.env.VOBEE_TEST_DYNAMODB_LOCAL !== '0' && dynamoDbLocalJar() && hasJava()) {
    started.push(await startDynamoDbLocal({ port: await freePort() }));
  } else {
    console.warn(
      'DynamoDB Local not available (needs Java 17 and amplify-dynamodb-simulator): storage tests run on dynalite only',
    );
  }
  project.provide(
    'dynamoBackends',
    started.map(({ kind, endpoint }) => ({ kind, endpoint })),
  );
  const s3 = await startLocalS3();
  project.provide('artifactS3', { endpoint: s3.endpoint, bucket: s3.bucket });
  return async () => {
    await Promise.all([...started.map((db) => db.stop()), s3.close()]);
  };
}

function hasJava(): boolean {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
