/**
 * The example templates of cdk/workflows, registered as `npm start` registers them and run end to
 * end on the local runtime against the example factories: each run succeeds, and each step's output
 * shows that its inputs and the outputs of the steps before it reached it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import type { StepRecord } from '../../lib/core/workflow/workflow-records.ts';
import { type RunningExampleFactory, startExampleFactory } from '../../lib/local/factories/index.ts';
import { seedExamples, seedWorkflows } from '../../lib/local/seed.ts';
import { sink } from '../helpers/fake-api.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
// biome-ignore lint/suspicious/noExplicitAny: outputs are read field by field and checked by the assertions
type Output = Record<string, any>;

const ended = (b: { status: string }) => ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].includes(b.status);
const ms = (time: string | undefined) => Date.parse(time as string);

describe('the example workflows on the example factories', () => {
  let runtime: Runtime;
  let media: RunningExampleFactory;
  let research: RunningExampleFactory;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    media = await startExampleFactory('media');
    // Research answers after 150 ms, so that steps that run side by side visibly overlap.
    research = await startExampleFactory('research', { latencyMs: { kind: 'fixed', ms: 150 } });
    await seedExamples(runtime.orchestrator, [media, research]);
    await seedWorkflows(runtime.orchestrator);
  });
  afterAll(async () => {
    await Promise.all([media?.close(), research?.close()]);
    await runtime?.stop(1_000);
  });

  /** Starts a run and waits for its end. */
  async function run(workflowId: string, input: Record<string, unknown> = {}) {
    const started = await runtime.api.post(`/workflows/${workflowId}/executions`, { input });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const done = await runtime.api.until(`/executions/${started.body.executionId}`, ended, 30_000);
    const steps = new Map<string, StepRecord>(done.steps.map((s: StepRecord) => [s.stepId, s]));
    /** A step's output, read from its artifact when it was kept by reference. */
    const output = async (stepId: string): Promise<Output> => {
      const kept = done.results[stepId] as Output;
      if (kept?.artifact?.mimeType !== 'application/json') return kept;
      return (await fetch(`${runtime.apiUrl}/artifacts/${kept.artifact.id}`)).json() as Promise<Output>;
    };
    const step = (stepId: string) => steps.get(stepId) as StepRecord;
    return { done, step, output, statuses: Object.fromEntries([...steps].map(([id, s]) => [id, s.status])) };
  }

  it('registers every template of cdk/workflows', async () => {
    const files = readdirSync(resolve(import.meta.dirname, '../../cdk/workflows'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    expect(files.length).toBeGreaterThanOrEqual(6);
    const listed = (await runtime.api.get('/workflows')).body.workflows.map(
      (w: { workflowId: string }) => w.workflowId,
    );
    expect(listed.sort()).toEqual(files.sort());
  });

  it('market-comparison briefs both sectors side by side, compares them once both are in, and draws a cover', async () => {
    const { done, step, output, statuses } = await run('market-comparison');
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses).toEqual({
      brief_a: 'SUCCEEDED',
      brief_b: 'SUCCEEDED',
      compare: 'SUCCEEDED',
      cover: 'SUCCEEDED',
    });
    // The defaults: healthcare against energy, standard depth.
    const [a, b] = [await output('brief_a'), await output('brief_b')];
    expect([a.sector, a.depth, b.sector, b.depth]).toEqual(['healthcare', 'standard', 'energy', 'standard']);
    expect(ms(step('brief_a').startedAt)).toBeLessThan(ms(step('brief_b').endedAt));
    expect(ms(step('brief_b').startedAt)).toBeLessThan(ms(step('brief_a').endedAt));
    // The fan-in: the comparison waited for both briefs and read both.
    expect(ms(step('compare').startedAt)).toBeGreaterThanOrEqual(
      Math.max(ms(step('brief_a').endedAt), ms(step('brief_b').endedAt)),
    );
    const compare = await output('compare');
    expect(compare.documents).toBe(2);
    expect(compare.papers.map((p: { title: string }) => p.title)).toEqual([a.name, b.name]);
    const cover = await output('cover');
    expect(cover.prompt).toBe(`${a.name} vs ${b.name}`);
    expect(cover.svg).toContain('<svg');
    expect(cover.svg).toContain(compare.summary.slice(0, 20));
  });

  it('market-comparison takes its inputs from the run, and repeats with explicit defaults are the same run', async () => {
    const { done, output } = await run('market-comparison', { sector_a: 'finance', depth: 'summary' });
    expect(done.status).toBe('SUCCEEDED');
    expect([(await output('brief_a')).sector, (await output('brief_b')).sector]).toEqual([
      'finance',
      'energy',
    ]);
    expect((await output('brief_a')).depth).toBe('summary');

    // The stored input is completed before it is hashed: leaving a default out or giving it is one request.
    const key = { 'idempotency-key': 'comparison-defaults' };
    const path = '/workflows/market-comparison/executions';
    const first = await runtime.api.post(path, { input: {} }, key);
    expect(first.status).toBe(202);
    const again = await runtime.api.post(
      path,
      { input: { depth: 'standard', sector_b: 'energy', sector_a: 'healthcare' } },
      key,
    );
    expect(again.status).toBe(200);
    expect(again.body.executionId).toBe(first.body.executionId);
    expect((await runtime.api.post(path, { input: { sector_a: 'retail' } }, key)).status).toBe(409);
    await runtime.api.until(`/executions/${first.body.executionId}`, ended, 30_000);
  });

  it('market-comparison refuses a mistyped input, naming it, before anything starts', async () => {
    const refused = await runtime.api.post('/workflows/market-comparison/executions', {
      input: { sector_a: 7 },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.issues).toEqual([
      { field: 'input.sector_a', message: 'must be a string, not an integer' },
    ]);
  });

  it('technology-radar discovers as many technologies as asked and adds the market context', async () => {
    const { done, output, statuses } = await run('technology-radar', { limit: 2 });
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses).toEqual({
      discover: 'SUCCEEDED',
      market_context: 'SUCCEEDED',
      radar_card: 'SUCCEEDED',
      context_card: 'SUCCEEDED',
    });
    const discover = await output('discover');
    expect(discover.query).toBe('on-device ai language models');
    expect(discover.matches).toHaveLength(2);
    expect(discover.matches[0].name).toBe('On-device language models');
    expect((await output('radar_card')).prompt).toBe('Technology radar: on-device ai language models');
    const context = await output('market_context');
    expect(context.sector).toBe('technology');
    expect((await output('context_card')).prompt).toBe(`on-device ai language models in ${context.name}`);
  });

  it('technology-radar goes on without the market context when its sector is unknown (on_failure continue)', async () => {
    const { done, step, output, statuses } = await run('technology-radar', {
      topic: 'vector search embeddings',
      sector: 'underwater basket weaving',
    });
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses).toEqual({
      discover: 'SUCCEEDED',
      market_context: 'FAILED',
      radar_card: 'SUCCEEDED',
      context_card: 'SKIPPED',
    });
    expect(step('market_context').error).toContain('is not in the example dataset');
    expect(step('context_card').error).toBe("dependency 'market_context' failed");
    // The default limit, 3, reached the factory as a number.
    expect((await output('discover')).matches.length).toBeLessThanOrEqual(3);
    expect((await output('discover')).matches[0].name).toBe('Vector databases');
  });

  it('launch-teaser needs a product name: refused without one, with nothing started under its key', async () => {
    const path = '/workflows/launch-teaser/executions';
    const key = { 'idempotency-key': 'teaser-1' };
    const refused = await runtime.api.post(path, { input: { tagline: 'Light, simply' } }, key);
    expect(refused.status).toBe(422);
    expect(refused.body.error.issues).toEqual([
      { field: 'input.product_name', message: 'is required: the workflow declares it without a default' },
    ]);
    const started = await runtime.api.post(path, { input: { product_name: 'Aurora Lamp' } }, key);
    expect(started.status).toBe(202);
    await runtime.api.until(`/executions/${started.body.executionId}`, ended, 30_000);
  });

  it('launch-teaser renders the teaser by callback, and records the voice-over once a visual is ready', async () => {
    const before = media.stats();
    const { done, step, output, statuses } = await run('launch-teaser', {
      product_name: 'Aurora Lamp',
      voice: 'high',
    });
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses).toEqual({
      stills: 'SUCCEEDED',
      teaser: 'SUCCEEDED',
      poster: 'SUCCEEDED',
      voiceover: 'SUCCEEDED',
    });
    const stills = await output('stills');
    expect(stills.images.map((i: { prompt: string }) => i.prompt)).toEqual([
      'Aurora Lamp hero shot',
      'Aurora Lamp in use',
    ]);
    // The teaser answered 202 and called back with the video made from the stills.
    expect(media.stats().asyncJobs - before.asyncJobs).toBe(1);
    expect(media.stats().callbacksDelivered - before.callbacksDelivered).toBe(1);
    expect(step('teaser').service).toBe('media-factory');
    const teaser = await output('teaser');
    expect(teaser).toMatchObject({
      format: 'y4m',
      prompt: 'Aurora Lamp: Made for what comes next',
      durationSeconds: 3,
      totalFrames: 36,
    });
    // One scene on each still.
    expect(teaser.timeline.scenes.map((s: Output) => s.sourceImage.sha256)).toEqual(
      stills.images.map((i: Output) => i.sha256),
    );
    expect((await output('poster')).prompt).toBe('Aurora Lamp');
    const voiceover = await output('voiceover');
    expect(voiceover).toMatchObject({
      text: 'Introducing Aurora Lamp. Made for what comes next.',
      voice: 'high',
      format: 'wav',
    });
    expect(ms(step('voiceover').startedAt)).toBeGreaterThanOrEqual(
      Math.min(ms(step('teaser').endedAt), ms(step('poster').endedAt)),
    );
  });

  it('market-podcast joins the brief and the technology scan in one digest, then narrates it', async () => {
    const { done, step, output, statuses } = await run('market-podcast', { sector: 'education' });
    expect(done.status).toBe('SUCCEEDED');
    expect(statuses).toEqual({
      brief: 'SUCCEEDED',
      technologies: 'SUCCEEDED',
      digest: 'SUCCEEDED',
      narration: 'SUCCEEDED',
      cover_art: 'SUCCEEDED',
    });
    const brief = await output('brief');
    expect([brief.sector, brief.depth]).toEqual(['education', 'comprehensive']);
    expect((await output('technologies')).query).toBe('education technology');
    expect(ms(step('digest').startedAt)).toBeGreaterThanOrEqual(
      Math.max(ms(step('brief').endedAt), ms(step('technologies').endedAt)),
    );
    const digest = await output('digest');
    expect(digest.papers.map((p: { title: string }) => p.title)).toEqual([
      `Market brief: ${brief.name}`,
      'Technology scan',
    ]);
    expect(digest.summary.length).toBeGreaterThan(20);
    const narration = await output('narration');
    expect(narration).toMatchObject({ text: digest.summary, voice: 'low', speed: 1.5, format: 'wav' });
    expect((await output('cover_art')).prompt).toBe(`${brief.name} podcast`);
  });

  it('exports a template with `vobee workflows export` and imports it back as the next version, unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vobee-export-'));
    const vobee = async (...argv: string[]) => {
      const [stdout, stderr] = [sink(), sink()];
      const code = await main(['--endpoint', runtime.apiUrl, ...argv], { stdout, stderr, env: {} });
      return { code, stdout: stdout.text, stderr: stderr.text };
    };
    try {
      const file = join(dir, 'radar.json');
      const exported = await vobee('workflows', 'export', 'technology-radar', '-o', file);
      expect(exported.code, exported.stderr).toBe(0);
      const text = readFileSync(file, 'utf8');
      const v1 = (await runtime.api.get('/workflows/technology-radar')).body;
      expect(v1.currentVersion).toBe(1);
      const { version: _, ...portable } = v1.template;
      expect(text).toBe(`${JSON.stringify(portable, null, 2)}\n`);
      expect(JSON.parse(text).inputs.limit).toEqual({
        type: 'integer',
        description: 'How many technologies to keep (1 to 30)',
        default: 3,
      });

      const imported = await vobee('workflows', 'import', file);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(
        /^Registered workflow technology-radar v2: 4 steps, \d+ states \(.+\)\nRun it with: vobee workflows run technology-radar\n$/,
      );
      const v2 = (await runtime.api.get('/workflows/technology-radar')).body;
      expect([v2.currentVersion, v2.latestVersion]).toEqual([2, 2]);
      expect(v2.template).toEqual({ ...v1.template, version: 2 });
      // Both versions export to the same file.
      expect((await vobee('workflows', 'export', 'technology-radar')).stdout).toBe(text);
      expect((await vobee('workflows', 'export', 'technology-radar', '--version', '1')).stdout).toBe(text);
      expect((await vobee('workflows', 'export', 'technology-radar', '--version', '3')).code).toBe(3);
      // And the imported version runs with its inputs' defaults.
      const { done, output } = await run('technology-radar');
      expect([done.status, done.version]).toEqual(['SUCCEEDED', 2]);
      expect((await output('discover')).matches).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
