import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { S3ArtifactStore } from '../store/artifact-store.ts';

/** The credentials the local S3-compatible server accepts. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

/**
 * An S3-compatible server on this machine (`s3rver`), with the artifact bucket made: the same
 * `@aws-sdk/client-s3` code, presigned URLs included, runs against it. Objects are kept under
 * `directory` (a fresh temporary folder, removed on close, when none is given).
 */
export async function startLocalS3(
  options: { directory?: string | undefined; port?: number; host?: string; bucket?: string } = {},
): Promise<LocalS3> {
  const bucket = options.bucket ?? 'vobee-artifacts';
  const temporary = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'vobee-s3-')));
  const host = options.host ?? '127.0.0.1';
  const server = new S3rver({
    port: options.port ?? 0,
    address: host,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  return {
    endpoint: `http://${host}:${port}`,
    bucket,
    async close() {
      await server.close();
      if (temporary) await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The artifact store on a local S3-compatible server: the client code that runs on AWS. */
export function localArtifactStore(s3: Pick<LocalS3, 'endpoint' | 'bucket'>): S3ArtifactStore {
  return new S3ArtifactStore(localS3Client(s3), { bucket: s3.bucket });
}

/**
 * Reads an object of the local S3-compatible server as text: what the local engine's stand-in for
 * a Distributed Map's `ItemReader` reads (`LocalEngine`'s `readObject`).
 */
export function localObjectReader(
  s3: Pick<LocalS3, 'endpoint'>,
): (bucket: string, key: string) => Promise<string> {
  const client = localS3Client(s3);
  return async (bucket, key) => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  };
}

function localS3Client(s3: Pick<LocalS3, 'endpoint'>): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
