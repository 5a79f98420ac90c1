/**
 * Artifacts end to end on the local runtime (its S3-compatible server included): large outputs
 * kept by reference through tasks, workflow steps and callbacks; factories uploading through the
 * presigned PUT they are offered; references as task inputs; the download route.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, main } from '../../lib/cli/main.ts';
import type { ArtifactRef, UploadOffer } from '../../lib/core/artifacts.ts';
import { LIMITS } from '../../lib/core/limits.ts';
import { type FactoryCall, startFactory } from '../helpers/factory-server.ts';
import { sink } from '../helpers/fake-api.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
type Call = FactoryCall & { upload?: UploadOffer; callbackUrl?: string };
type Reference = { artifact: ArtifactRef & { url?: string } };

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const finished = (b: { status: string }) => ['SUCCEEDED', 'FAILED'].includes(b.status);
const ended = (b: { status: string }) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(b.status);

/** A JSON output of about `bytes`, deterministic for a seed. */
function bigOutput(bytes: number, seed: string) {
  const data = createHash('sha512')
    .update(seed)
    .digest('base64')
    .repeat(Math.ceil(bytes / 88))
    .slice(0, bytes);
  return { seed, data, checksum: sha256(data) };
}

/** What a factory fetches through a presigned GET URL. */
async function fetchBytes(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('artifacts on the local runtime', () => {
  let runtime: Runtime;
  const closers: Array<() => Promise<void>> = [];
  /** What the consuming factory saw of each reference it was given. */
  const consumed: Array<{ reference: Reference; bytes: number; sha256: string; checksum?: unknown }> = [];
  /** The parameters the echoing factory was given. */
  const echoed: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    runtime = await startTestRuntime();
    const factory = await startFactory(async (call: Call) => {
      const p = call.parameters as Record<string, unknown>;
      switch (call.action) {
        case 'produce':
          return { status: 200, body: { status: 'ok', output: bigOutput(Number(p.bytes), String(p.seed)) } };
        case 'consume': {
          const reference = p.input as Reference;
          const bytes = await fetchBytes(reference.artifact.url as string);
          consumed.push({ reference, bytes: bytes.length, sha256: sha256(bytes), checksum: p.checksum });
          return {
            status: 200,
            body: { status: 'ok', output: { bytes: bytes.length, sha256: sha256(bytes) } },
          };
        }
        case 'upload': {
          const offer = call.upload as UploadOffer;
          const body = randomBytes(Number(p.bytes));
          const put = await fetch(offer.url, {
            method: 'PUT',
            body,
            headers: { 'content-type': 'audio/wav' },
          });
          expect(put.status).toBe(200);
          const claimed = p.lie ? sha256('something else') : sha256(body);
          const artifact = { ...offer.artifact, bytes: body.length, sha256: claimed, mimeType: 'audio/wav' };
          return { status: 200, body: { status: 'ok', output: { audio: { artifact }, seconds: 30 } } };
        }
        case 'echo':
          echoed.push(p);
          return { status: 200, body: { status: 'ok', output: { received: p } } };
        case 'later': {
          // Long work: answer 202, then post a large result to the callback URL.
          setTimeout(() => {
            void fetch(call.callbackUrl as string, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ status: 'succeeded', output: bigOutput(300_000, 'callback') }),
            });
          }, 50);
          return { status: 202, body: { status: 'accepted' } };
        }
        case 'step':
          return { status: 200, body: { status: 'ok', output: bigOutput(100 * 1024, `${call.taskId}`) } };
        default:
          return { status: 400, body: { error: `unknown action ${call.action}` } };
      }
    });
    closers.push(() => factory.close());
    await runtime.orchestrator.services.register({
      name: 'bulk',
      endpoint: factory.endpoint,
      factoryType: 'bulk',
      capabilities: ['produce', 'consume', 'upload', 'echo', 'later', 'step'],
    });
  });
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    await runtime.stop(1_000);
  });

  async function runTask(action: string, parameters: Record<string, unknown>) {
    const submitted = await runtime.api.post('/tasks', { type: action, action, parameters });
    expect(submitted.status).toBe(202);
    return runtime.api.until(`/tasks/${submitted.body.taskId}`, finished);
  }

  /** `GET /artifacts/{id}`: the redirect, then the bytes behind it. */
  async function download(id: string) {
    const response = await fetch(`${runtime.apiUrl}/artifacts/${id}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = response.headers.get('location') as string;
    const body = (await response.json()) as { artifact: ArtifactRef; url: string };
    expect(body.url).toBe(location);
    return { artifact: body.artifact, bytes: await fetchBytes(location) };
  }

  it('keeps a 5 MB task output as an artifact, downloadable with a matching sha256', async () => {
    const task = await runTask('produce', { bytes: 5 * 1024 * 1024, seed: 'task' });
    expect(task.status).toBe('SUCCEEDED');
    const reference = task.output as Reference;
    expect(Object.keys(reference)).toEqual(['artifact']);
    expect(reference.artifact).toMatchObject({
      mimeType: 'application/json',
      uri: expect.stringMatching(/^s3:\/\//),
    });
    expect(reference.artifact.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(JSON.stringify(task).length).toBeLessThan(20_000);

    const { artifact, bytes } = await download(reference.artifact.id);
    expect(artifact).toEqual(reference.artifact);
    expect(bytes.length).toBe(artifact.bytes);
    expect(sha256(bytes)).toBe(artifact.sha256);
    const content = JSON.parse(bytes.toString('utf8'));
    expect(content.checksum).toBe(sha256(content.data));
  });

  it('downloads an artifact with `vobee artifacts get`, checking its size and sha256', async () => {
    const made = (await runTask('produce', { bytes: 200_000, seed: 'cli' })).output as Reference;
    const folder = mkdtempSync(join(tmpdir(), 'vobee-artifacts-'));
    const file = join(folder, 'out.json');
    const vobee = async (...argv: string[]) => {
      const stdout = sink();
      const stderr = sink();
      const code = await main(['--endpoint', runtime.apiUrl, ...argv], { stdout, stderr, env: {} });
      return { code, stdout: stdout.text, stderr: stderr.text };
    };
    const got = await vobee('artifacts', 'get', made.artifact.id, '-o', file);
    expect(got).toMatchObject({ code: EXIT_CODES.ok, stderr: '' });
    expect(got.stdout).toContain(made.artifact.sha256);
    expect(sha256(readFileSync(file))).toBe(made.artifact.sha256);

    const missing = await vobee('artifacts', 'get', '00000000-0000-4000-8000-000000000000', '-o', file);
    expect(missing.code).toBe(EXIT_CODES.notFound);
    const malformed = await vobee('artifacts', 'get', 'nope', '-o', file);
    expect(malformed.code).toBe(EXIT_CODES.usage);
    expect(malformed.stderr).toContain('ID');
    // The earlier download is untouched by the failed ones.
    expect(sha256(readFileSync(file))).toBe(made.artifact.sha256);
  });

  it('passes a 5 MB step output to the step that consumes it, by reference and into it', async () => {
    const registered = await runtime.api.post('/workflows', {
      workflow_id: 'bulk-pipeline',
      name: 'Bulk pipeline',
      steps: [
        {
          step_id: 'make',
          name: 'Make',
          factory_type: 'bulk',
          action: 'produce',
          parameters: { bytes: 5 * 1024 * 1024, seed: 'wf' },
        },
        {
          step_id: 'use',
          name: 'Use',
          factory_type: 'bulk',
          action: 'consume',
          // The whole output travels by reference; a path looks inside the stored JSON.
          parameters: { input: '{{steps.make.output}}', checksum: '{{steps.make.output.checksum}}' },
          dependencies: ['make'],
        },
      ],
    });
    expect(registered.status).toBe(201);
    const started = await runtime.api.post('/workflows/bulk-pipeline/executions', {});
    const done = await runtime.api.until(`/executions/${started.body.executionId}`, ended);
    expect(done.status).toBe('SUCCEEDED');
    const made = done.results.make as Reference;
    const seen = consumed.at(-1);
    expect(seen?.reference.artifact).toMatchObject({ ...made.artifact, url: expect.stringMatching(/^http/) });
    expect(seen?.sha256).toBe(made.artifact.sha256);
    expect(seen?.bytes).toBe(made.artifact.bytes);
    expect(seen?.checksum).toBe(bigOutput(5 * 1024 * 1024, 'wf').checksum);
    expect(done.results.use).toEqual({ bytes: made.artifact.bytes, sha256: made.artifact.sha256 });
  });

  it('takes an output a factory uploaded through its presigned PUT, after checking it', async () => {
    const task = await runTask('upload', { bytes: 2 * 1024 * 1024 });
    expect(task.status).toBe('SUCCEEDED');
    const audio = (task.output as { audio: Reference }).audio.artifact;
    expect(audio).toMatchObject({ mimeType: 'audio/wav', bytes: 2 * 1024 * 1024 });
    const { bytes } = await download(audio.id);
    expect(sha256(bytes)).toBe(audio.sha256);

    // A reference whose sha256 does not match what was uploaded fails the call.
    const lying = await runTask('upload', { bytes: 1024, lie: true });
    expect(lying.status).toBe('FAILED');
    expect(lying.attempts[0].error.message).toMatch(
      /holds 1024 bytes with sha256 [0-9a-f]{64}, not 1024 bytes/,
    );
  });

  it('keeps a large callback output as an artifact', async () => {
    const task = await runTask('later', {});
    expect(task.status).toBe('SUCCEEDED');
    const reference = task.output as Reference;
    expect(reference.artifact.mimeType).toBe('application/json');
    const { bytes } = await download(reference.artifact.id);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(bigOutput(300_000, 'callback'));
  });

  it('gives a factory the artifacts a task references as inputs, and refuses unknown ones', async () => {
    const made = (await runTask('produce', { bytes: 100_000, seed: 'input' })).output as Reference;
    const task = await runTask('echo', { source: { artifact: { id: made.artifact.id } } });
    expect(task.status).toBe('SUCCEEDED');
    const received = (echoed.at(-1) as { source: Reference }).source.artifact;
    expect(received).toEqual({ ...made.artifact, url: expect.stringMatching(/^http/) });
    expect(sha256(await fetchBytes(received.url as string))).toBe(made.artifact.sha256);
    // What is kept, the task and its output, holds the reference, never a URL.
    expect(task.task.parameters.source).toEqual({ artifact: made.artifact });
    expect(task.output).toEqual({ received: { source: { artifact: made.artifact } } });

    const unknown = '00000000-0000-4000-8000-000000000000';
    const refused = await runtime.api.post('/tasks', {
      type: 'echo',
      parameters: { source: { artifact: { id: unknown } } },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.issues).toEqual([
      { field: 'parameters.source.artifact.id', message: `artifact '${unknown}' not found` },
    ]);
    expect((await runtime.api.get(`/artifacts/${unknown}`)).status).toBe(404);
    expect((await runtime.api.get('/artifacts/not-an-id')).status).toBe(400);
  });

  it('runs 60 steps that each return 100 KB: the state carries statuses, the outputs are artifacts', async () => {
    const steps = Array.from({ length: 60 }, (_, i) => ({
      step_id: `s${i}`,
      name: `Step ${i}`,
      factory_type: 'bulk',
      action: 'step',
      parameters: {},
      // Ten chains of six: every step has a predecessor's output in the run before it.
      dependencies: i >= 10 ? [`s${i - 10}`] : [],
    }));
    expect(
      (await runtime.api.post('/workflows', { workflow_id: 'sixty', name: 'Sixty', steps })).status,
    ).toBe(201);
    const started = await runtime.api.post('/workflows/sixty/executions', {});
    const done = await runtime.api.until(`/executions/${started.body.executionId}`, ended, 60_000);
    expect(done.status).toBe('SUCCEEDED');
    const results = Object.values(done.results) as Reference[];
    expect(results).toHaveLength(60);
    for (const result of results) expect(result.artifact.bytes).toBeGreaterThan(LIMITS.inlineOutput.bytes);
    // 60 x 100 KB inline would be 6 MB of state; the engine's final state is the run's input and id.
    const final = await runtime.engine.describe(
      `${runtime.engine.arnOf('vobee-wf-sixty').replace(':stateMachine:', ':execution:')}:${started.body.executionId}`,
    );
    expect(final.output).toEqual({
      input: {},
      run: { id: started.body.executionId, deadline: expect.any(String) },
    });
    expect(JSON.stringify(final.output).length).toBeLessThan(1_000);
  });
});
