/**
 * The example media factory's large outputs, over HTTP, against a local S3-compatible store: files
 * uploaded through a real presigned PUT offer, images read through a presigned GET, and the
 * orchestrator's factory caller checking and keeping what the factory answers.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCalls, type ArtifactRef } from '../../lib/core/artifacts.ts';
import type { FactoryRequest } from '../../lib/core/factory-call.ts';
import { LIMITS } from '../../lib/core/limits.ts';
import { HttpFactoryClient } from '../../lib/factories/http-factory-client.ts';
import { type RunningExampleFactory, startExampleFactory } from '../../lib/local/factories/index.ts';
import { type LocalS3, localArtifactStore, startLocalS3 } from '../../lib/local/s3.ts';
import type { S3ArtifactStore } from '../../lib/store/artifact-store.ts';
import { checkPng, parseY4m, readWavHeader } from '../unit/factories/media-files.ts';

let s3: LocalS3;
let store: S3ArtifactStore;
let factory: RunningExampleFactory;
const client = new HttpFactoryClient({ allowed: ['127.0.0.1'] });

beforeAll(async () => {
  s3 = await startLocalS3();
  store = localArtifactStore(s3);
  factory = await startExampleFactory('media');
});
afterAll(async () => {
  await factory?.close();
  await client.close();
  await s3?.close();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const MB = 1_000_000;

/** `POST /execute` as the orchestrator sends it, with whatever else the call carries. */
async function execute(
  action: string,
  parameters: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const response = await fetch(`${factory.endpoint}/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action, parameters, taskId: 'task-1', context: {}, ...extra }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and checked by the assertions
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** The stored object behind a reference the factory answered with, checked against it. */
async function stored(reference: ArtifactRef): Promise<Buffer> {
  const sealed = await store.seal(reference.id);
  expect(sealed).toEqual(reference);
  expect(await store.describe(reference.id)).toEqual(reference);
  const bytes = Buffer.from(await store.read(reference.id, reference.bytes));
  expect([bytes.length, sha256(bytes)]).toEqual([reference.bytes, reference.sha256]);
  return bytes;
}

const request = (action: string, parameters: Record<string, unknown>): FactoryRequest => ({
  action,
  parameters,
  taskId: 'task-1',
  context: {},
});

describe('text_to_speech with a duration', () => {
  it('uploads a 30 s WAV of several MB through the offer and answers its reference', async () => {
    const upload = await store.uploadOffer(store.newId());
    const { status, body } = await execute(
      'text_to_speech',
      { text: 'Welcome to VoBee', duration: 30 },
      { upload },
    );
    expect(status).toBe(200);
    const output = body.output;
    const reference = output.audio.artifact as ArtifactRef;
    expect(reference).toEqual({
      id: upload.artifact.id,
      uri: upload.artifact.uri,
      bytes: 44 + 30 * 48_000 * 2,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      mimeType: 'audio/wav',
    });
    expect(output).toMatchObject({
      example: true,
      format: 'wav',
      sampleRate: 48_000,
      bitsPerSample: 16,
      durationSeconds: 30,
      bytes: reference.bytes,
      sha256: reference.sha256,
    });
    expect(output.encoding).toBeUndefined();
    // Only the reference travels: the answer is small.
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(2_048);

    const wav = await stored(reference);
    expect(wav.length).toBeGreaterThan(2.5 * MB);
    expect(readWavHeader(wav)).toEqual({
      riff: 'RIFF',
      riffSize: wav.length - 8,
      wave: 'WAVE',
      fmt: 'fmt ',
      fmtSize: 16,
      audioFormat: 1,
      channels: 1,
      sampleRate: 48_000,
      byteRate: 96_000,
      blockAlign: 2,
      bitsPerSample: 16,
      data: 'data',
      dataSize: 30 * 48_000 * 2,
    });
    // The same input makes the same file.
    const again = await execute(
      'text_to_speech',
      { text: 'Welcome to VoBee', duration: 30 },
      { upload: await store.uploadOffer(store.newId()) },
    );
    expect(again.body.output.sha256).toBe(reference.sha256);
  });

  it('fails the call when the store refuses the upload', async () => {
    const upload = await store.uploadOffer(store.newId());
    // Signed with a key the store does not know: it answers 403.
    const refused = {
      ...upload,
      url: upload.url.replace(/X-Amz-Credential=[^&%]+/, 'X-Amz-Credential=UNKNOWN'),
    };
    const { status, body } = await execute(
      'text_to_speech',
      { text: 'hi', duration: 5 },
      { upload: refused },
    );
    expect(status).toBe(500);
    expect(body).toEqual({
      status: 'failed',
      error: expect.stringMatching(
        /^text_to_speech failed: the upload was refused: HTTP 403 .*InvalidAccessKeyId/,
      ),
    });
    expect(await store.describe(upload.artifact.id)).toBeUndefined();
  });
});

describe('without an upload offer', () => {
  it('refuses a long clip or a video with a 400 saying it needs one, which callers do not retry', async () => {
    const clip = await execute('text_to_speech', { text: 'hi', duration: 30 });
    expect(clip).toEqual({
      status: 400,
      body: { error: { field: 'upload', message: expect.stringContaining('call with an upload offer') } },
    });
    expect(clip.body.error.message).toContain('is 2880000 bytes, above the 131072 bytes answered inline');
    const video = await client.execute(
      factory.endpoint,
      request('generate_video', { prompt: 'Product showcase', duration: 30 }),
      10_000,
    );
    expect(video).toMatchObject({ ok: false, retryable: false, error: { kind: 'rejected', status: 400 } });
    expect(!video.ok && video.error.message).toContain('"field":"upload"');
    // A clip small enough still comes inline.
    const short = await execute('text_to_speech', { text: 'hi' });
    expect(short.status).toBe(200);
    expect(short.body.output).toMatchObject({ encoding: 'base64', audio: expect.any(String) });
  });
});

describe('generate_images and generate_video by reference', () => {
  it('answers valid PNGs inline, an output above 64 KiB the orchestrator keeps as a JSON artifact', async () => {
    const calls = new ArtifactCalls(client, store);
    const parameters = { prompts: ['Product hero', 'Product detail'], brief: 'Market insight: growing' };
    const result = await calls.execute(factory.endpoint, request('generate_images', parameters), 30_000);
    expect(result.ok && !result.accepted).toBe(true);
    if (!result.ok || result.accepted) return;
    const reference = (result.output as { artifact: ArtifactRef }).artifact;
    expect(reference).toMatchObject({ mimeType: 'application/json' });
    expect(reference.bytes).toBeGreaterThan(LIMITS.inlineOutput.bytes * 1.5);
    const output = JSON.parse((await stored(reference)).toString('utf8'));
    expect(output.images).toHaveLength(2);
    for (const image of output.images) {
      const png = Buffer.from(image.data, 'base64');
      expect([png.length, sha256(png)]).toEqual([image.bytes, image.sha256]);
      expect(checkPng(png)).toMatchObject({ width: 512, height: 512, bitDepth: 8, colourType: 2 });
    }
  });

  it('reads the images through a presigned GET and uploads a multi-MB video whose frames follow the duration', async () => {
    const images = await execute('generate_images', {
      prompts: ['Product hero', 'Product detail'],
      width: 256,
      height: 256,
    });
    const imagesRef = await store.put(Buffer.from(JSON.stringify(images.body.output)), 'application/json');
    const upload = await store.uploadOffer(store.newId());
    const parameters = {
      prompt: 'Product showcase',
      duration: 10,
      fps: 24,
      images: { artifact: { ...imagesRef, url: await store.downloadUrl(imagesRef.id) } },
    };
    const { status, body } = await execute('generate_video', parameters, { upload });
    expect(status).toBe(200);
    const reference = body.output.video.artifact as ArtifactRef;
    expect(reference).toMatchObject({
      id: upload.artifact.id,
      uri: upload.artifact.uri,
      mimeType: 'video/x-yuv4mpeg',
    });
    expect(body.output).toMatchObject({
      format: 'y4m',
      totalFrames: 240,
      width: 160,
      height: 90,
      bytes: reference.bytes,
      sha256: reference.sha256,
    });
    const sources = body.output.timeline.scenes.map(
      (scene: { sourceImage: { sha256: string } }) => scene.sourceImage.sha256,
    );
    expect(sources).toEqual([images.body.output.images[0].sha256, images.body.output.images[1].sha256]);

    const file = await stored(reference);
    expect(file.length).toBeGreaterThan(5 * MB);
    const video = parseY4m(file);
    expect(video).toMatchObject({ width: 160, height: 90, rate: [24, 1], interlacing: 'p', frames: 10 * 24 });
    // Consecutive frames move (zoom and pan), and the two scenes show different images.
    expect(video.frame(0).y.equals(video.frame(1).y)).toBe(false);
    expect(video.frame(0).y.equals(video.frame(200).y)).toBe(false);
  });

  it("refuses (422) images whose bytes are not what their reference states, and the caller doesn't retry", async () => {
    const imagesRef = await store.put(
      Buffer.from(JSON.stringify({ images: ['Product hero'] })),
      'application/json',
    );
    const wrong = { ...imagesRef, sha256: 'f'.repeat(64), url: await store.downloadUrl(imagesRef.id) };
    const result = await client.execute(
      factory.endpoint,
      {
        ...request('generate_video', {
          prompt: 'x',
          duration: 1,
          fps: 2,
          width: 16,
          height: 16,
          images: { artifact: wrong },
        }),
      },
      10_000,
    );
    expect(result).toMatchObject({ ok: false, retryable: false, error: { kind: 'rejected', status: 422 } });
    expect(!result.ok && result.error.message).toContain(
      `not the ${imagesRef.bytes} bytes with sha256 ${'f'.repeat(64)}`,
    );
  });

  it('runs the campaign chain through the factory caller: the images output by reference makes a 30 s video', async () => {
    const calls = new ArtifactCalls(client, store);
    const images = await calls.execute(
      factory.endpoint,
      request('generate_images', {
        prompts: ['Product hero', 'Product detail'],
        brief: 'Market insight: growing',
      }),
      30_000,
    );
    if (!images.ok || images.accepted) throw new Error('generate_images failed');
    // What `{{steps.generate_images.output}}` hands the next step: the reference, given a URL on the way.
    const video = await calls.execute(
      factory.endpoint,
      request('generate_video', { prompt: 'Product showcase', duration: 30, images: images.output }),
      60_000,
    );
    expect(video).toMatchObject({ ok: true, output: { format: 'y4m', totalFrames: 720 } });
    if (!video.ok || video.accepted) return;
    const reference = (video.output as { video: { artifact: ArtifactRef } }).video.artifact;
    expect(reference.bytes).toBeGreaterThan(15 * MB);
    expect(parseY4m(await stored(reference)).frames).toBe(720);
  });
});
