import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArtifactRef, ArtifactStore, UploadOffer } from '../core/artifacts.ts';
import { PayloadTooLargeError } from '../core/errors.ts';
import { LIMITS, overLimitMessage } from '../core/limits.ts';

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** How long a presigned GET lasts (a factory reads its inputs, a person downloads). */
  downloadSeconds?: number;
  /** How long a presigned PUT lasts: long enough for a factory's slow work before it uploads. */
  uploadSeconds?: number;
  now?: () => Date;
}

/** The key prefix of every artifact (the bucket's lifecycle rule applies to it). */
export const ARTIFACT_PREFIX = 'artifacts/';
const PREFIX = ARTIFACT_PREFIX;

/**
 * Artifacts in S3 (or an S3-compatible server locally), one object per artifact under
 * `artifacts/<id>`, with its sha256 in the object's metadata. Presigned URLs are computed locally
 * from the caller's credentials: they cost no request.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #downloadSeconds: number;
  readonly #uploadSeconds: number;
  readonly #now: () => Date;

  constructor(s3: S3Client, options: S3ArtifactStoreOptions) {
    this.#s3 = s3;
    this.#bucket = options.bucket;
    this.#downloadSeconds = options.downloadSeconds ?? 300;
    this.#uploadSeconds = options.uploadSeconds ?? 3_600;
    this.#now = options.now ?? (() => new Date());
  }

  newId(): string {
    return randomUUID();
  }

  async put(body: Uint8Array, mimeType: string): Promise<ArtifactRef> {
    if (body.byteLength > LIMITS.artifact.bytes)
      throw new PayloadTooLargeError(overLimitMessage('artifact', body.byteLength));
    const id = this.newId();
    const sha256 = createHash('sha256').update(body).digest('hex');
    await this.#s3.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: PREFIX + id,
        Body: body,
        ContentType: mimeType,
        Metadata: { sha256 },
      }),
    );
    return { id, uri: this.#uri(id), bytes: body.byteLength, sha256, mimeType };
  }

  async describe(id: string): Promise<ArtifactRef | undefined> {
    try {
      const head = await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: PREFIX + id }));
      return {
        id,
        uri: this.#uri(id),
        bytes: head.ContentLength ?? 0,
        sha256: head.Metadata?.sha256 ?? '',
        mimeType: head.ContentType ?? 'application/octet-stream',
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async seal(id: string): Promise<ArtifactRef | undefined> {
    const object = await this.#get(id);
    if (!object) return undefined;
    const hash = createHash('sha256');
    const bytes = await consume(
      object.body,
      LIMITS.artifact.bytes,
      (chunk) => hash.update(chunk),
      (n) => overLimitMessage('artifact', n),
    );
    const sha256 = hash.digest('hex');
    // Copying the object onto itself is how S3 sets metadata: from now on `describe` knows its hash.
    await this.#s3.send(
      new CopyObjectCommand({
        Bucket: this.#bucket,
        Key: PREFIX + id,
        CopySource: `${this.#bucket}/${PREFIX}${id}`,
        MetadataDirective: 'REPLACE',
        ContentType: object.mimeType,
        Metadata: { sha256 },
      }),
    );
    return { id, uri: this.#uri(id), bytes, sha256, mimeType: object.mimeType };
  }

  async read(id: string, maxBytes: number): Promise<Uint8Array> {
    const object = await this.#get(id);
    if (!object) throw new Error(`artifact '${id}' is not in the store`);
    const chunks: Buffer[] = [];
    await consume(
      object.body,
      maxBytes,
      (chunk) => chunks.push(chunk),
      () => `artifact '${id}': over the ${maxBytes} bytes that may be read here`,
    );
    return Buffer.concat(chunks);
  }

  downloadUrl(id: string): Promise<string> {
    return getSignedUrl(this.#s3, new GetObjectCommand({ Bucket: this.#bucket, Key: PREFIX + id }), {
      expiresIn: this.#downloadSeconds,
    });
  }

  async uploadOffer(id: string): Promise<UploadOffer> {
    const url = await getSignedUrl(
      this.#s3,
      new PutObjectCommand({ Bucket: this.#bucket, Key: PREFIX + id }),
      {
        expiresIn: this.#uploadSeconds,
      },
    );
    return {
      url,
      method: 'PUT',
      artifact: { id, uri: this.#uri(id) },
      expiresAt: new Date(this.#now().getTime() + this.#uploadSeconds * 1000).toISOString(),
      maxBytes: LIMITS.artifact.bytes,
    };
  }

  #uri(id: string): string {
    return `s3://${this.#bucket}/${PREFIX}${id}`;
  }

  async #get(id: string): Promise<{ body: Readable; mimeType: string } | undefined> {
    try {
      const object = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: PREFIX + id }));
      return {
        body: object.Body as Readable,
        mimeType: object.ContentType ?? 'application/octet-stream',
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }
}

/**
 * Reads a body chunk by chunk, handing each to `visit`; past `maxBytes` it stops reading and throws
 * a PayloadTooLargeError with `tooLarge`'s message. Returns the bytes read.
 */
async function consume(
  body: Readable,
  maxBytes: number,
  visit: (chunk: Buffer) => unknown,
  tooLarge: (bytes: number) => string,
): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    if (bytes > maxBytes) {
      body.destroy();
      throw new PayloadTooLargeError(tooLarge(bytes));
    }
    visit(chunk as Buffer);
  }
  return bytes;
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return (
    name === 'NotFound' ||
    name === 'NoSuchKey' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
}
