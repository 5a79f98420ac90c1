import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  BENCH_VIDEO,
  benchCampaign,
  CAMPAIGN_WORKFLOW_ID,
  type CampaignCall,
  type CampaignStepId,
  campaignSucceeded,
  differencesFromTemplate,
  localExecutionArn,
  perRun,
  ratioToFloor,
  runCampaign,
  runPool,
  singleRunOverheadMs,
  summarizeSide,
} from '../../../bench/workflow-throughput.ts';
import { LocalEngine } from '../../../lib/engine/local-engine.ts';
import { bundledWorkflowTemplates } from '../../../lib/local/seed.ts';
import { caughtAsync } from '../../helpers/errors.ts';

/** A call the test answers by hand: records who was called, and when. */
function scriptedCalls() {
  const started: CampaignStepId[] = [];
  const calls = new Map<CampaignStepId, CampaignCall>();
  const answers = new Map<CampaignStepId, { resolve(v: unknown): void; reject(e: Error): void }>();
  const call = (c: CampaignCall) =>
    new Promise<unknown>((resolve, reject) => {
      started.push(c.stepId);
      calls.set(c.stepId, c);
      answers.set(c.stepId, { resolve, reject });
    });
  const answer = async (id: CampaignStepId, output: unknown) => {
    const pending = answers.get(id);
    if (!pending) throw new Error(`${id} was not called`);
    pending.resolve(output);
    await sleep(0);
  };
  const fail = async (id: CampaignStepId, message: string) => {
    answers.get(id)?.reject(new Error(message));
    await sleep(0);
  };
  return { call, started, calls, answer, fail };
}

const campaign = () => {
  const template = bundledWorkflowTemplates().find((t) => t.workflow_id === CAMPAIGN_WORKFLOW_ID);
  if (!template) throw new Error('no bundled campaign template');
  return benchCampaign(template);
};

describe('the plain campaign runner', () => {
  it('starts research_market and discover_trends together, the images only after the research', async () => {
    const s = scriptedCalls();
    const run = runCampaign(s.call);
    await sleep(0);
    expect(s.started).toEqual(['research_market', 'discover_trends']);
    await s.answer('discover_trends', { trends: [] });
    expect(s.started).toEqual(['research_market', 'discover_trends']);
    await s.answer('research_market', { summary: 'Tech grows.' });
    expect(s.started).toEqual(['research_market', 'discover_trends', 'generate_images']);
    expect(s.calls.get('generate_images')?.parameters).toEqual({
      prompts: ['Product hero', 'Product detail'],
      brief: 'Market insight: Tech grows.',
    });
    const images = [{ index: 0, prompt: 'Product hero', sha256: 'ab' }];
    await s.answer('generate_images', { images });
    // The whole images output, as `{{steps.generate_images.output}}` passes it, and the bench's video.
    expect(s.calls.get('generate_video')?.parameters).toEqual({
      prompt: 'Product showcase',
      ...BENCH_VIDEO,
      images: { images },
    });
    await s.answer('generate_video', { format: 'storyboard' });
    await expect(run).resolves.toEqual({
      research_market: { summary: 'Tech grows.' },
      discover_trends: { trends: [] },
      generate_images: { images },
      generate_video: { format: 'storyboard' },
    });
  });

  it('goes on with images and video while the trends are still running, and ends only when they answer', async () => {
    const s = scriptedCalls();
    let ended = false;
    const run = runCampaign(s.call).then(() => {
      ended = true;
    });
    await sleep(0);
    await s.answer('research_market', { summary: 'x' });
    await s.answer('generate_images', { images: [] });
    await s.answer('generate_video', {});
    expect(s.started).toEqual(['research_market', 'discover_trends', 'generate_images', 'generate_video']);
    expect(ended).toBe(false);
    await s.answer('discover_trends', {});
    await run;
    expect(ended).toBe(true);
  });

  it('fails the run when a call fails, and never starts what depended on it', async () => {
    const s = scriptedCalls();
    // Handled from the start: the run fails before the test looks at it.
    const run = caughtAsync(runCampaign(s.call));
    await sleep(0);
    await s.fail('research_market', 'HTTP 500');
    await s.answer('discover_trends', {});
    expect(await run).toEqual(new Error('HTTP 500'));
    expect(s.started).toEqual(['research_market', 'discover_trends']);
  });

  it('refuses an output without the field a later step reads', async () => {
    const s = scriptedCalls();
    const run = caughtAsync(runCampaign(s.call));
    await sleep(0);
    await s.answer('discover_trends', {});
    await s.answer('research_market', { notASummary: true });
    expect(await run).toEqual(new Error("research_market: the output has no 'summary'"));
    expect(s.started).not.toContain('generate_images');
  });

  it('does the work of the bundled template, and says so when the template changes', () => {
    const template = campaign();
    expect(differencesFromTemplate(template)).toEqual([]);
    const changed = structuredClone(template);
    const trends = changed.steps.find((s) => s.step_id === 'discover_trends');
    const video = changed.steps.find((s) => s.step_id === 'generate_video');
    if (!trends || !video) throw new Error('the campaign lost a step');
    trends.parameters = { query: 'something else' };
    video.dependencies = ['generate_images', 'discover_trends'];
    const differences = differencesFromTemplate(changed);
    expect(differences).toHaveLength(2);
    expect(differences.join('\n')).toMatch(/discover_trends: parameter query/);
    expect(differences.join('\n')).toMatch(/generate_video: dependencies/);
  });
});

describe('the run pool', () => {
  it('runs each run once, never more than the concurrency at a time, and keeps failures as results', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    const { results, wallMs } = await runPool(10, 3, async (i) => {
      seen.push(i);
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(2);
      inFlight--;
      if (i % 4 === 0) throw new Error(`run ${i} failed`);
    });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
    expect(results).toHaveLength(10);
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual(
      expect.arrayContaining(['run 0 failed', 'run 4 failed', 'run 8 failed']),
    );
    expect(results.every((r) => r.ms >= 1)).toBe(true);
    expect(wallMs).toBeGreaterThan(0);
  });

  it('runs nothing for no runs', async () => {
    const { results } = await runPool(0, 8, async () => {});
    expect(results).toEqual([]);
  });
});

describe('the figures', () => {
  it('count only succeeded runs as throughput, and their latencies only', () => {
    const side = summarizeSide(
      [
        { ms: 10, ok: true },
        { ms: 20, ok: true },
        { ms: 30, ok: true },
        { ms: 1_000, ok: false, error: 'run FAILED' },
        { ms: 900, ok: false, error: 'run FAILED' },
      ],
      500,
      2,
    );
    expect(side).toMatchObject({ runs: 5, succeeded: 3, failed: 2, errors: ['run FAILED'], concurrency: 2 });
    expect(side.runsPerSecond).toBeCloseTo(6, 12);
    expect(side.latencyMs).toEqual({ p50: 20, p95: 29, max: 30 });
  });

  it('divide the runtime by the floor, and subtract the medians', () => {
    expect(ratioToFloor({ runsPerSecond: 25 }, { runsPerSecond: 100 })).toBe(0.25);
    expect(ratioToFloor({ runsPerSecond: 25 }, { runsPerSecond: 0 })).toBeNaN();
    expect(ratioToFloor({ runsPerSecond: 25 }, { runsPerSecond: Number.NaN })).toBeNaN();
    expect(
      singleRunOverheadMs(
        { latencyMs: { p50: 230, p95: 0, max: 0 } },
        { latencyMs: { p50: 160, p95: 0, max: 0 } },
      ),
    ).toBe(70);
  });

  it('spread request counts and units over the runs, by command and by command and table', () => {
    const requests = new Map([
      ['UpdateItemCommand memory', 18],
      ['UpdateItemCommand patterns', 8],
      ['GetItemCommand registry', 2],
    ]);
    expect(perRun({ requests, readUnits: 1, writeUnits: 60 }, 2)).toEqual({
      total: 14,
      byCommand: { GetItemCommand: 1, UpdateItemCommand: 13 },
      byCommandAndTable: {
        'GetItemCommand registry': 1,
        'UpdateItemCommand memory': 9,
        'UpdateItemCommand patterns': 4,
      },
      readUnits: 0.5,
      writeUnits: 30,
    });
    expect(perRun({ requests: new Map(), readUnits: 0, writeUnits: 0 }, 0).total).toBeNaN();
  });

  it('call a run successful only when the engine ran it to success for that run', () => {
    const output = { input: {}, run: { id: 'run-1', deadline: '2026-01-15T11:00:00.000Z' } };
    expect(campaignSucceeded({ status: 'SUCCEEDED', output }, 'run-1')).toBe(true);
    expect(campaignSucceeded({ status: 'SUCCEEDED', output }, 'run-2')).toBe(false);
    expect(campaignSucceeded({ status: 'FAILED', output }, 'run-1')).toBe(false);
    expect(campaignSucceeded({ status: 'SUCCEEDED' }, 'run-1')).toBe(false);
  });
});

describe('the execution id of a local run', () => {
  it('is the id the local engine gives a run started through an alias', async () => {
    const engine = new LocalEngine(() => undefined);
    const deployed = await engine.deploy('wf-campaign', {
      StartAt: 'Done',
      States: { Done: { Type: 'Pass', End: true } },
    });
    const aliasArn = await engine.setAlias(deployed.stateMachineArn, 'live', deployed.versionArn);
    await engine.start(aliasArn, 'product-launch-campaign-0123456789abc', {});
    const end = await engine.waitFor(localExecutionArn(aliasArn, 'product-launch-campaign-0123456789abc'));
    expect(end.status).toBe('SUCCEEDED');
    await expect(engine.waitFor(localExecutionArn(aliasArn, 'another-run'))).rejects.toThrow(/not found/);
  });
});
