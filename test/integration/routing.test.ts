import { describe, expect, it } from 'vitest';
import { NoRouteError } from '../../lib/core/errors.ts';
import { EXAMPLE_RULES } from '../../lib/core/routing/content-rules.ts';
import { DEFAULT_OUTLIER_POLICY } from '../../lib/core/service.ts';
import { sumByService } from '../../lib/core/statistics.ts';
import { createOrchestrator } from '../../lib/orchestrator.ts';
import { rejection } from '../helpers/errors.ts';
import { backends, createStack, manualClock, registerAll, seededRandom } from '../helpers/stack.ts';

const EMAIL = { id: 'task_123', type: 'email_campaign', priority: 'high' } as const;

describe.each(backends())('routing on $kind', (backend) => {
  async function emailServices() {
    const stack = await createStack(backend, { random: seededRandom(7) });
    const { services } = stack.orchestrator;
    await registerAll(services, [
      {
        name: 'email-ai',
        endpoint: 'http://email-ai:5100',
        capabilities: ['email_campaign', 'email_automation'],
        weight: 3,
      },
      {
        name: 'marketing-ai',
        endpoint: 'http://marketing-ai:5200',
        capabilities: ['email_campaign'],
        weight: 2,
      },
      {
        name: 'content-ai',
        endpoint: 'http://content-ai:5300',
        capabilities: ['email_campaign', 'blog_post'],
        weight: 1,
      },
      { name: 'finance-ai', endpoint: 'http://finance-ai:5400', capabilities: ['finance'] },
    ]);
    return stack;
  }

  it('routes to a capable service with ordered fallbacks and a retry strategy, then fails over', async () => {
    const { orchestrator } = await emailServices();
    const decision = await orchestrator.router.route(EMAIL, 'capability');
    expect(decision.primary).toBe('marketing-ai'); // names only email_campaign: the most specific
    expect(decision.endpoint).toBe('http://marketing-ai:5200');
    expect(decision.fallbacks).toEqual(['email-ai', 'content-ai']);
    expect(decision.retryPolicy).toMatchObject({ backoff: 'exponential', maxRetries: 3, timeoutSeconds: 30 });
    expect(decision.retrySchedule).toEqual([1, 2, 4]);
    expect(decision.candidates.map((c) => c.name)).toEqual(['marketing-ai', 'email-ai', 'content-ai']);

    // email-ai goes down after the decision: failover skips it and lands on content-ai.
    await orchestrator.services.setHealth('email-ai', 'unhealthy', 'probe failed');
    const next = await orchestrator.router.failover(decision, EMAIL);
    expect(next.exhausted).toBe(false);
    if (next.exhausted) return;
    expect(next.decision.primary).toBe('content-ai');
    expect(next.decision.tried).toEqual(['marketing-ai']);
    expect(next.decision.reason).toMatch(/skipped unavailable email-ai/);

    const last = await orchestrator.router.failover(next.decision, EMAIL);
    expect(last).toEqual({
      exhausted: true,
      tried: ['marketing-ai', 'content-ai'],
      reason: expect.stringMatching(/no fallback left/),
    });
  });

  it('never routes to disabled or unhealthy services, and uses degraded ones only as a last resort', async () => {
    const { orchestrator } = await emailServices();
    const { services, router } = orchestrator;
    await services.update('email-ai', { enabled: false });
    await services.setHealth('marketing-ai', 'unhealthy');
    await services.setHealth('content-ai', 'degraded');
    const decision = await router.route(EMAIL, 'round-robin');
    expect(decision.primary).toBe('content-ai');
    expect(decision.fallbacks).toEqual([]);
    await services.setHealth('content-ai', 'unhealthy');
    const error = await rejection(router.route(EMAIL), NoRouteError);
    expect(error.message).toBe(
      "no available service for task type 'email_campaign': disabled [email-ai], unhealthy [content-ai, marketing-ai]",
    );
    await expect(router.route({ id: 'x', type: 'astrology' })).rejects.toThrow(
      "no registered service can handle task type 'astrology'",
    );
  });

  it('round-robin spreads evenly across router instances, each rotating from its own starting point', async () => {
    const stack = await emailServices();
    const second = createOrchestrator({ doc: stack.doc, tables: stack.tables, random: seededRandom(99) });
    const routers = [stack.orchestrator.router, second.router];
    const counts: Record<string, number> = {};
    const decisions = await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        (routers[i % 2] as (typeof routers)[number]).route({ ...EMAIL, id: `t${i}` }, 'round-robin'),
      ),
    );
    for (const d of decisions) counts[d.primary] = (counts[d.primary] ?? 0) + 1;
    expect(Object.keys(counts).sort()).toEqual(['content-ai', 'email-ai', 'marketing-ai']);
    for (const n of Object.values(counts)) expect(n).toBe(30);
  });

  it('least-loaded picks the service with the fewest calls in flight per weight', async () => {
    const { orchestrator } = await emailServices();
    const inFlight = (service: string, n: number) => {
      for (let i = 0; i < n; i++) orchestrator.routing.health.begin(service);
    };
    inFlight('email-ai', 9); // 9 / 3 = 3
    inFlight('marketing-ai', 4); // 4 / 2 = 2
    inFlight('content-ai', 1); // 1 / 1 = 1
    const decision = await orchestrator.router.route(EMAIL, 'least-loaded');
    expect(decision.fallbacks).toEqual(['marketing-ai', 'email-ai']);
    expect(decision.primary).toBe('content-ai');
  });

  it('content rules send work to the factory they name, the default otherwise', async () => {
    const { orchestrator } = await createStack(backend, {
      router: { strategy: 'content', rules: EXAMPLE_RULES, defaultTarget: 'media' },
    });
    await orchestrator.services.register({
      name: 'media-factory',
      factoryType: 'media',
      endpoint: 'http://media:5100',
      capabilities: ['generate_image'],
    });
    await orchestrator.services.register({
      name: 'research-factory',
      factoryType: 'research',
      endpoint: 'http://research:5200',
      capabilities: ['market_analysis'],
    });
    const image = await orchestrator.router.route({
      id: 'i',
      type: 'image_generation',
      keywords: ['image', 'generate'],
      parameters: { prompt: 'Sunset landscape' },
    });
    expect(image.primary).toBe('media-factory');
    expect(image.rule?.id).toBe('media-keywords');
    const research = await orchestrator.router.route({
      id: 'r',
      type: 'market_research',
      keywords: ['market', 'analysis'],
    });
    expect(research.primary).toBe('research-factory');
    const other = await orchestrator.router.route({ id: 'o', type: 'poetry', keywords: ['rhyme'] });
    expect(other.primary).toBe('media-factory');
    expect(other.rule).toBeUndefined();
    expect(other.reason).toBe('no rule matched, default target media');
  });

  it('learned routing follows the record it reads from DynamoDB, and explains itself', async () => {
    const { orchestrator } = await emailServices();
    for (let i = 0; i < 30; i++) {
      await orchestrator.brain.learn({
        taskId: `e${i}`,
        taskType: 'email_campaign',
        service: 'email-ai',
        success: i % 3 !== 0,
        executionMs: 500,
        ...(i % 3 === 0 ? { error: { kind: 'error' as const, message: 'x' } } : {}),
      });
      await orchestrator.brain.learn({
        taskId: `m${i}`,
        taskType: 'email_campaign',
        service: 'marketing-ai',
        success: true,
        executionMs: 500,
      });
      await orchestrator.brain.learn({
        taskId: `c${i}`,
        taskType: 'email_campaign',
        service: 'content-ai',
        success: i % 2 === 0,
        executionMs: 500,
        ...(i % 2 === 1 ? { error: { kind: 'error' as const, message: 'x' } } : {}),
      });
    }
    const primaries: string[] = [];
    for (let i = 0; i < 40; i++)
      primaries.push((await orchestrator.router.route({ ...EMAIL, id: `l${i}` }, 'learned')).primary);
    const share = primaries.filter((p) => p === 'marketing-ai').length / primaries.length;
    expect(share).toBeGreaterThan(0.8);
    const decision = await orchestrator.router.route({ ...EMAIL, id: 'why' }, 'learned');
    expect(decision.candidates).toHaveLength(3);
    expect(decision.reason).toMatch(/^learned: /);
  });

  it('learned routing leaves a service that failed lately, whatever its long record', async () => {
    const clock = manualClock('2026-01-15T10:00:00.000Z');
    const { orchestrator, stores } = await createStack(backend, { now: clock.now, random: seededRandom(3) });
    await orchestrator.services.register({
      name: 'veteran',
      endpoint: 'http://veteran:1',
      capabilities: ['t'],
    });
    await orchestrator.services.register({
      name: 'newcomer',
      endpoint: 'http://newcomer:1',
      capabilities: ['t'],
    });
    const learn = (id: string, service: string, success: boolean, completedAt: string) =>
      orchestrator.brain.learn({
        taskId: id,
        taskType: 't',
        service,
        success,
        executionMs: 100,
        completedAt,
        ...(success ? {} : { error: { kind: 'error' as const, message: 'x' } }),
      });
    // Two hours ago the veteran was perfect; in the last minutes it fails, and the newcomer does well.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => learn(`old-${i}`, 'veteran', true, '2026-01-15T08:00:00.000Z')),
    );
    // ...and the newcomer was poor back then: on all-time counters alone the veteran would win.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        learn(`early-${i}`, 'newcomer', i % 3 === 0, '2026-01-15T08:00:00.000Z'),
      ),
    );
    await Promise.all(
      Array.from({ length: 15 }, (_, i) => learn(`bad-${i}`, 'veteran', false, '2026-01-15T09:55:00.000Z')),
    );
    await Promise.all(
      Array.from({ length: 15 }, (_, i) => learn(`new-${i}`, 'newcomer', true, '2026-01-15T09:56:00.000Z')),
    );
    const window = async (since: string) =>
      sumByService('t', (await stores.stats.snapshot('t', new Date(since))).minutes);
    const recent = await window('2026-01-15T09:45:00.000Z');
    expect(recent.map((s) => [s.service, s.count, s.successes]).sort()).toEqual([
      ['newcomer', 15, 15],
      ['veteran', 15, 0],
    ]);
    const picks: string[] = [];
    for (let i = 0; i < 30; i++)
      picks.push((await orchestrator.router.route({ id: `r${i}`, type: 't' }, 'learned')).primary);
    expect(picks.filter((p) => p === 'newcomer').length).toBeGreaterThan(25);
    const newcomer = (await orchestrator.memory.statistics('t')).services.find(
      (s) => s.service === 'newcomer',
    );
    expect(newcomer?.successRate).toBeLessThan(0.6);
    // An hour later the window is empty again and the long record speaks for the veteran.
    clock.advance(60 * 60_000);
    expect(await window(new Date(clock.now().getTime() - 15 * 60_000).toISOString())).toEqual([]);
  });

  it('ejects a service after consecutive failures and lets it back after the cooldown', async () => {
    const clock = manualClock();
    const { orchestrator } = await createStack(backend, { now: clock.now });
    const { health } = orchestrator.routing;
    await orchestrator.services.register({ name: 'a', endpoint: 'http://a:1', capabilities: ['t'] });
    await orchestrator.services.register({ name: 'b', endpoint: 'http://b:1', capabilities: ['t'] });
    const changes = [];
    for (let i = 0; i < DEFAULT_OUTLIER_POLICY.failureThreshold; i++) {
      const change = health.observe('a', false);
      if (change) changes.push(change);
    }
    // The process counts the streak in memory and writes only the ejection.
    expect(changes).toEqual([
      expect.objectContaining({
        service: 'a',
        health: 'unhealthy',
        reason: 'ejected after 5 consecutive failures',
      }),
    ]);
    await orchestrator.routing.recordHealth(changes);
    expect(await orchestrator.services.get('a')).toMatchObject({
      health: 'unhealthy',
      cooldownUntil: changes[0]?.cooldownUntil,
    });
    expect(
      (await orchestrator.router.route({ id: 'x', type: 't' }, 'round-robin')).candidates.map((c) => c.name),
    ).toEqual(['b']);

    clock.advance(DEFAULT_OUTLIER_POLICY.cooldownSeconds * 1000 + 1);
    await orchestrator.services.setHealth('b', 'unhealthy');
    const trial = await orchestrator.router.route({ id: 'y', type: 't' });
    expect(trial.primary).toBe('a');
    expect(trial.candidates[0]?.health).toBe('degraded');
    const recovery = health.observe('a', true, await orchestrator.services.get('a'));
    expect(recovery).toMatchObject({ service: 'a', health: 'healthy' });
    await orchestrator.routing.recordHealth([recovery as NonNullable<typeof recovery>]);
    const recovered = await orchestrator.services.get('a');
    expect(recovered.health).toBe('healthy');
    expect(recovered.cooldownUntil).toBeUndefined();
  });

  it('keeps services consistent under optimistic versions', async () => {
    const { orchestrator } = await emailServices();
    const current = await orchestrator.services.get('email-ai');
    await orchestrator.services.update('email-ai', { weight: 5 }, current.version);
    await expect(orchestrator.services.update('email-ai', { weight: 6 }, current.version)).rejects.toThrow(
      /changed since version/,
    );
    await expect(
      orchestrator.services.register({ name: 'email-ai', endpoint: 'http://x:1', capabilities: ['a'] }),
    ).rejects.toThrow("service 'email-ai' already exists");
    await expect(
      orchestrator.services.register({ name: 'bad', endpoint: 'ftp://x', capabilities: ['a'] }),
    ).rejects.toThrow('endpoint: must be an http(s) URL');
    await expect(orchestrator.services.update('ghost', { weight: 1 })).rejects.toThrow(
      "service 'ghost' not found",
    );
    expect((await orchestrator.services.get('email-ai')).weight).toBe(5);
  });
});
