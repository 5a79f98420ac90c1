import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactory } from '../helpers/factory-server.ts';
import { type Api, apiClient } from '../helpers/local-runtime.ts';
import { ROOT, type StartedProcess, startProcess, startRuntime, TSX } from '../helpers/npm-start.ts';
import { type Browser, launchBrowser, SCREENSHOTS, screenshot } from './browser.ts';
import { FAKE_CREDENTIALS, FAKE_REGION, startSigV4Upstream } from './sigv4-upstream.ts';

/**
 * Where the README's screenshots go: `docs/` when `VOBEE_README_SCREENSHOTS=1` asks to renew them,
 * else beside the others, so a test run leaves the committed ones as they are.
 */
function readmeShot(name: string): string {
  if (process.env.VOBEE_README_SCREENSHOTS === '1') return join(ROOT, 'docs', name);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `readme-${name}`);
}

/**
 * The web console in a real Chromium against `npm start`, as a person uses it. One runtime and one
 * browser serve every scenario, in order: later ones read what earlier ones left (a failed task,
 * a failed run).
 */
describe('the web console', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vobee-console-'));
  const closers: Array<() => Promise<unknown>> = [];
  let runtime: StartedProcess;
  let browser: Browser;
  let page: Page;
  let base: string;
  let api: Api;
  let spawnedAt: number;
  let readyAt: number;
  let failedTaskId: string;

  beforeAll(async () => {
    spawnedAt = Date.now();
    // The media factory takes 1.5 s a call, so a run of the campaign lasts long enough to pause.
    runtime = startRuntime(dataDir, { media: { latencyMs: { kind: 'fixed', ms: 1_500 } } });
    closers.push(() => runtime.stop());
    const [ready, launched] = await Promise.all([
      runtime.waitFor(/API\s+(http:\/\/\S+)/).finally(() => {
        readyAt = Date.now();
      }),
      launchBrowser(),
    ]);
    browser = launched;
    closers.push(() => browser.close());
    page = browser.page;
    base = ready[1] as string;
    api = apiClient(base);
    // Two services that refuse every call: a task only they can take fails over from one to the other.
    for (const name of ['picky-two', 'picky-three']) {
      const factory = await startFactory(() => ({ status: 400, body: { error: 'not today' } }));
      closers.push(factory.close);
      const registered = await api.post('/services', {
        name,
        endpoint: factory.endpoint,
        factoryType: 'research',
        capabilities: name === 'picky-two' ? ['sentiment_scoring'] : ['sentiment_scoring', 'tone_scoring'],
      });
      expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    }
  }, 90_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the Product Launch Campaign, pauses and resumes it, and its nodes turn green', async () => {
    const opened = Date.now();
    await page.goto(`${base}/console/workflows`);
    await page.getByRole('button', { name: 'Start Product Launch Campaign' }).click();
    await page.waitForURL(/\/console\/runs\/product-launch-campaign-/);
    const nodes = page.locator('svg.dag g.node');
    await expect.poll(() => nodes.count(), { timeout: 15_000 }).toBe(4);
    const drawn = Date.now();
    console.log(
      `npm start to a drawn DAG: ${drawn - spawnedAt} ms (runtime ready ${readyAt - spawnedAt} ms; ` +
        `opening the console, starting the run and drawing it ${drawn - opened} ms)`,
    );

    // Paused while generate_images runs: it finishes, generate_video does not start.
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent()).toContain('paused');
    const node = (id: string) => page.locator(`svg.dag g.node[data-step="${id}"]`);
    await expect
      .poll(() => node('generate_images').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('SUCCEEDED');
    await page.waitForTimeout(2_000);
    expect(await node('generate_video').getAttribute('data-status')).not.toMatch(/RUNNING|SUCCEEDED/);
    await screenshot(page, 'run-paused');

    await page.getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 20_000 })
      .toContain('succeeded');
    for (const id of ['research_market', 'discover_trends', 'generate_images', 'generate_video']) {
      expect(await node(id).getAttribute('class')).toContain('tone-good');
    }
    expect(await page.locator('.critical-path').textContent()).toContain(
      'research_market → generate_images → generate_video',
    );
    // The step's details: keyboard selection of a node opens its calls and output.
    await node('generate_images').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#step-panel').textContent()).toContain('media-factory');
    await screenshot(page, 'run-detail');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({
      path: readmeShot('console-run.png'),
      clip: { x: 0, y: 0, width: 1200, height: 760 },
    });
  }, 60_000);

  it('explains why a failed task chose its primary and what it failed over to', async () => {
    const submitted = await api.post('/tasks', {
      type: 'sentiment_scoring',
      parameters: { text: 'launch day' },
    });
    failedTaskId = submitted.body.taskId;
    await api.until(`/tasks/${failedTaskId}`, (t) => t.status === 'FAILED');
    await page.goto(`${base}/console/tasks/${failedTaskId}`);
    await page.evaluate('window.scrollTo(0, 0)');
    const reason = page.getByTestId('primary-reason');
    await expect
      .poll(() => reason.textContent())
      .toContain('First choice: picky-two, by the capability routing strategy');
    await expect.poll(() => page.getByText('The brain:').count()).toBe(1);
    const chain = page.getByTestId('failover-chain').locator('li');
    expect(await chain.allTextContents()).toEqual([
      expect.stringMatching(/^picky-two refused the call \(HTTP 400.*\); failed over to picky-three$/),
      expect.stringMatching(/^picky-three refused the call \(HTTP 400/),
      expect.stringMatching(/^The task failed: exhausted: no fallback left after picky-two, picky-three/),
    ]);
    await screenshot(page, 'task-detail');
    await page.screenshot({
      path: readmeShot('console-task.png'),
      clip: { x: 0, y: 0, width: 1200, height: 760 },
    });
  }, 30_000);

  it('shows the dependency error in place when a module others need is disabled', async () => {
    await page.goto(`${base}/console/modules`);
    const storage = page.locator('li[data-module="example-storage"]');
    await storage.getByRole('button', { name: 'Disable example-storage' }).click();
    await expect
      .poll(() => storage.getByRole('alert').textContent())
      .toMatch(/Could not disable example-storage: Required by media-factory, research-factory \(HTTP 409\)/);
    // Still enabled: the refusal changed nothing.
    expect(await storage.getByRole('button', { name: 'Disable example-storage' }).count()).toBe(1);
    await screenshot(page, 'modules');
  }, 30_000);

  it('accepts a suggestion and records its impact', async () => {
    const unhealthy = await fetch(`${base}/services/picky-three/health`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ health: 'unhealthy', reason: 'refuses every call' }),
    });
    expect(unhealthy.status).toBe(200);
    await page.goto(`${base}/console/suggestions`);
    await page.getByLabel('Decided by').fill('Ada');
    await page.getByRole('button', { name: 'Run the analysis now' }).click();
    const card = page.locator('li.card', { hasText: 'picky-three is unhealthy' });
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    expect(await card.textContent()).toContain('refuses every call');
    await card.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(0);

    await page.getByRole('link', { name: 'accepted' }).click();
    const accepted = page.locator('li.card', { hasText: 'picky-three is unhealthy' });
    await expect.poll(() => accepted.count()).toBe(1);
    expect(await accepted.textContent()).toContain('by Ada');
    await accepted.getByLabel('Before').fill('1');
    await accepted.getByLabel('After').fill('0.1');
    await accepted.getByRole('button', { name: 'Record' }).click();
    await page.getByRole('link', { name: 'implemented' }).click();
    const implemented = page.locator('li.card', { hasText: 'picky-three is unhealthy' });
    await expect.poll(() => implemented.textContent()).toContain('better by 90 %');
    await screenshot(page, 'suggestions');
  }, 30_000);

  it('registers a template after showing what was wrong with it, and runs it', async () => {
    await page.goto(`${base}/console/workflows`);
    const template = {
      workflow_id: 'sentiment-check',
      name: 'Sentiment check',
      description: 'Scores the tone of a text',
      steps: [
        {
          step_id: 'score',
          name: 'Score',
          factory_type: 'research',
          action: 'sentiment_scoring',
          parameters: {},
          // No retries: the run fails as soon as every service has refused the step.
          retries: 0,
        },
        {
          step_id: 'report',
          name: 'Report',
          factory_type: 'research',
          action: 'sentiment_scoring',
          dependencies: ['ghost'],
        },
      ],
    };
    const box = page.getByLabel('Template JSON (as in cdk/workflows/*.json)');
    await box.fill(JSON.stringify(template, null, 2));
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const issues = page.locator('#template-issues');
    await expect.poll(() => issues.textContent()).toContain("steps.1.dependencies.0: unknown step 'ghost'");
    expect(await box.getAttribute('aria-describedby')).toBe('template-issues');
    await issues.getByRole('button', { name: 'Show in the text' }).first().click();
    expect(
      await box.evaluate((el) => {
        const area = el as unknown as { value: string; selectionStart: number; selectionEnd: number };
        return area.value.slice(area.selectionStart, area.selectionEnd);
      }),
    ).toBe('"ghost"');
    await screenshot(page, 'workflows-invalid');

    template.steps[1] = { ...template.steps[1], dependencies: ['score'] } as (typeof template.steps)[number];
    await box.fill(JSON.stringify(template, null, 2));
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => page.getByText('Registered sentiment-check v1.').count()).toBe(1);
    await page.getByRole('button', { name: 'Start Sentiment check' }).click();
    await page.waitForURL(/\/console\/runs\/sentiment-check-/);
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 20_000 })
      .toContain('failed');
    await screenshot(page, 'run-failed');
  }, 40_000);

  it("finds yesterday's failed runs with a filter", async () => {
    // Tomorrow, as far as the page knows: today's runs are yesterday's.
    const listed = await api.get('/executions?status=FAILED');
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    const failed = listed.body.executions as Array<{ executionId: string; startedAt: string }>;
    expect(failed.length).toBeGreaterThan(0);
    const ranAt = Date.parse((failed[0] as { startedAt: string }).startedAt);
    await browser.context.clock.setFixedTime(ranAt + 86_400_000);

    await page.goto(`${base}/console/runs`);
    await page.getByLabel('Status').selectOption('FAILED');
    await page.getByRole('button', { name: 'Yesterday' }).click();
    const rows = page.locator('table.list tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(failed.length);
    expect(await rows.first().textContent()).toContain('sentiment-check');
    expect(new URL(page.url()).searchParams.get('status')).toBe('FAILED');
    await screenshot(page, 'runs-yesterday-failed');

    await page.getByLabel('Tasks').check();
    await page.getByLabel('Status').selectOption('FAILED');
    await page.getByRole('button', { name: 'Yesterday' }).click();
    await expect
      .poll(() => page.locator(`a[href$="/tasks/${failedTaskId}"]`).count(), { timeout: 10_000 })
      .toBe(1);
    await page.locator(`a[href$="/tasks/${failedTaskId}"]`).click();
    await page.waitForURL(new RegExp(`/console/tasks/${failedTaskId}$`));
  }, 30_000);

  it('shows the routing policy in force, its versions, and a replay of a draft next to it', async () => {
    const draft = await api.put('/routing/policy', {
      changedBy: 'ana',
      reason: 'try learned routing',
      policy: { defaultStrategy: 'learned' },
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    await page.goto(`${base}/console/routing`);
    await expect.poll(() => page.locator('#active-policy').textContent()).toContain('Active: version 0');
    const row = page.locator(`tr[data-version="${draft.body.version}"]`);
    await expect.poll(() => row.textContent()).toContain('try learned routing');
    await row.getByRole('button', { name: `Replay version ${draft.body.version}` }).click();
    const heading = page.locator('#replay-heading');
    await expect.poll(() => heading.count(), { timeout: 15_000 }).toBe(1);
    const table = page.locator('[aria-labelledby="replay-heading"] table');
    await expect
      .poll(() => table.textContent(), { timeout: 15_000 })
      .toContain(`Version ${draft.body.version}`);
    expect(await table.textContent()).toContain('Version 0 (active)');
    // The candidate's cell holds an estimate or says it has no support; never a spinner or an error.
    await expect
      .poll(() => table.locator(`td[data-replay="${draft.body.version}"]`).textContent())
      .not.toBe('…');
    expect(await table.locator(`td[data-replay="${draft.body.version}"]`).textContent()).not.toBe('failed');
    await screenshot(page, 'routing');
  }, 40_000);

  it('says so in a banner when the API stops answering', async () => {
    await page.goto(`${base}/console/runs`);
    await runtime.stop();
    await expect
      .poll(() => page.getByRole('alert').first().textContent(), { timeout: 10_000 })
      .toContain('The API is not answering');
    await screenshot(page, 'api-down');
  }, 30_000);

  it('serves the same console for a deployed API through `vobee console`, signing every call', async () => {
    const upstream = await startSigV4Upstream();
    closers.push(upstream.close);
    const cli = startProcess([TSX, 'lib/cli/main.ts', '--endpoint', upstream.url, 'console', '--port', '0'], {
      PATH: process.env.PATH,
      HOME: mkdtempSync(join(tmpdir(), 'vobee-home-')),
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_REGION: FAKE_REGION,
    });
    closers.push(() => cli.stop());
    const consoleUrl = (await cli.waitFor(/VoBee console\s+(http:\/\/\S+)/))[1] as string;
    await page.goto(`${consoleUrl}/services`);
    await expect
      .poll(() => page.locator('article[data-service="far-away-factory"]').count(), { timeout: 10_000 })
      .toBe(1);
    expect(upstream.requests.length).toBeGreaterThan(0);
    for (const request of upstream.requests) {
      expect(request.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${FAKE_CREDENTIALS.accessKeyId}/\\d{8}/${FAKE_REGION}/execute-api/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$`,
        ),
      );
      expect(request.signatureValid, `${request.method} ${request.path}`).toBe(true);
    }
    expect(upstream.requests.map((r) => `${r.method} ${r.path}`)).toContain('GET /services');
    await screenshot(page, 'proxy-services');
  }, 40_000);

  it('keeps the README screenshots small', () => {
    for (const name of ['console-run.png', 'console-task.png']) {
      expect(statSync(join(ROOT, 'docs', name)).size).toBeLessThanOrEqual(150 * 1024);
      expect(statSync(readmeShot(name)).size).toBeLessThanOrEqual(150 * 1024);
    }
  });
});
