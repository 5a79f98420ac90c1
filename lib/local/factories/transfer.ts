import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ArtifactRef } from '../../core/artifacts.ts';
import { RefusedError, type UploadOffer } from './contract.ts';

/**
 * The transfers of the artifact contract, as a factory makes them: uploading an output through
 * the presigned PUT it was offered, and reading a referenced input through its presigned GET.
 */

/** How much of an error answer is kept for the message. */
const ERROR_TEXT_BYTES = 2_048;

/**
 * PUTs `bytes` bytes, given as `chunks` (made as they are sent, so a large file is never whole in
 * memory), to the offered URL with their Content-Type, and returns the reference to answer with:
 * the offer's id and uri, the size, and the sha256 computed on the way.
 */
export async function uploadArtifact(
  offer: UploadOffer,
  mimeType: string,
  bytes: number,
  chunks: Iterable<Uint8Array>,
  signal: AbortSignal,
): Promise<ArtifactRef> {
  if (bytes > offer.maxBytes)
    throw new RefusedError(`the output is ${bytes} bytes, above the ${offer.maxBytes} the upload takes`);
  const url = new URL(offer.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const hash = createHash('sha256');
  let sent = 0;
  const req = send(url, {
    method: 'PUT',
    headers: { 'content-type': mimeType, 'content-length': bytes },
    signal,
  });
  const answered = once(req, 'response') as Promise<[IncomingMessage]>;
  const written = (async () => {
    for (const chunk of chunks) {
      if (req.destroyed) throw new Error('the upload ended before the output was sent');
      sent += chunk.byteLength;
      if (sent > bytes) throw new Error(`the output grew past the ${bytes} bytes announced`);
      hash.update(chunk);
      if (!req.write(chunk)) await once(req, 'drain', { signal });
    }
    if (sent !== bytes) throw new Error(`the output is ${sent} bytes, not the ${bytes} announced`);
    req.end();
  })();
  // Whichever fails first ends the request; the other promise is then settled too.
  written.catch((error: unknown) => req.destroy(error as Error));
  const [response] = await Promise.race([answered, written.then(() => answered)]);
  const status = response.statusCode ?? 0;
  const text = await readText(response, ERROR_TEXT_BYTES);
  if (status < 200 || status >= 300) {
    req.destroy();
    throw new Error(`the upload was refused: HTTP ${status} ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
  }
  await written;
  return {
    id: offer.artifact.id,
    uri: offer.artifact.uri,
    bytes,
    sha256: hash.digest('hex'),
    mimeType,
  };
}

async function readText(response: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    if (size < limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

/**
 * Reads a referenced input through its presigned GET: never more than `bytes` (the size the
 * reference states), and refused (422) when what arrives is not the size and sha256 it states.
 */
export async function downloadArtifact(
  reference: { url: string; bytes: number; sha256: string },
  signal: AbortSignal,
): Promise<Buffer> {
  const response = await fetch(reference.url, { redirect: 'error', signal });
  if (!response.ok || !response.body) {
    const text = (await response.text()).replace(/\s+/g, ' ').slice(0, 300);
    throw new Error(`reading the artifact failed: HTTP ${response.status} ${text}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const hash = createHash('sha256');
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    // Leaving the loop cancels the rest of the body.
    if (size > reference.bytes)
      throw new RefusedError(
        `the artifact holds more than the ${reference.bytes} bytes its reference states`,
      );
    hash.update(chunk);
    chunks.push(chunk);
  }
  const sha256 = hash.digest('hex');
  if (size !== reference.bytes || sha256 !== reference.sha256)
    throw new RefusedError(
      `the artifact holds ${size} bytes with sha256 ${sha256}, not the ${reference.bytes} bytes with sha256 ${reference.sha256} its reference states`,
    );
  return Buffer.concat(chunks);
}
