import { describe, expect, it } from 'vitest';
import { NoRouteError, ValidationError } from '../../../lib/core/errors.ts';
import { routingPolicySchema } from '../../../lib/core/routing/policy.ts';
import {
  failoverDecision,
  Router,
  type RouterOptions,
  type RouterPorts,
  type RoutingDecision,
  routingStats,
  STRATEGY_NAMES,
  type StrategyName,
} from '../../../lib/core/routing/router.ts';
import type { Service } from '../../../lib/core/service.ts';
import { isCapable } from '../../../lib/core/service.ts';
import type { ServiceStats } from '../../../lib/core/statistics.ts';
import { makeContext, makeService, makeStats, manualClock, rejection } from '../support.ts';

interface TestPorts extends RouterPorts {
  services: Service[];
  stats: ServiceStats[];
  clock: ReturnType<typeof manualClock>;
}

function makePorts(services: Service[], stats: ServiceStats[] = [], seed = 42): TestPorts {
  const context = makeContext({ seed, stats });
  const clock = manualClock('2026-01-15T10:00:00.000Z');
  const ports: TestPorts = {
    services,
    stats,
    clock,
    random: context.random,
    async statsFor(taskType) {
      return ports.stats.filter((s) => s.taskType === taskType);
    },
    async listServices() {
      return ports.services.map((s) => structuredClone(s));
    },
    now: () => clock.now(),
  };
  return ports;
}

const email = (name: string, overrides: Partial<Service> = {}) =>
  makeService(name, { capabilities: ['email_campaign'], ...overrides });

function setService(ports: TestPorts, name: string, patch: Partial<Service>) {
  ports.services = ports.services.map((s) => (s.name === name ? { ...s, ...patch } : s));
}

describe('Router.route', () => {
  it('returns a complete, explainable decision', async () => {
    const ports = makePorts([
      email('email-generalist', { capabilities: ['email_campaign', 'finance'], load: 2 }),
      email('email-ai'),
      makeService('video-ai', { capabilities: ['video_generation'] }),
    ]);
    const decision = await new Router(ports).route({ id: 't-1', type: 'email_campaign' });
    expect(decision).toEqual({
      taskId: 't-1',
      taskType: 'email_campaign',
      strategy: 'capability',
      primary: 'email-ai',
      endpoint: 'http://email-ai:8080',
      fallbacks: ['email-generalist'],
      tried: [],
      retryPolicy: { backoff: 'exponential', maxRetries: 3, timeoutSeconds: 30, factor: 2, jitter: 0 },
      retrySchedule: [1, 2, 4],
      candidates: [
        { name: 'email-ai', health: 'healthy', load: 0, score: 1.5, probability: 1 },
        { name: 'email-generalist', health: 'healthy', load: 2, score: 1 + 1 / 3, probability: 0 },
      ],
      rule: undefined,
      explored: false,
      reason: 'capability match: email-ai is the most specific for email_campaign',
      decidedAt: '2026-01-15T10:00:00.000Z',
      // The built-in policy, and what replay needs of a first decision.
      policyVersion: 0,
      logged: { candidates: ['email-ai', 'email-generalist'], chosen: 'email-ai', propensity: 1 },
    });
  });

  it('routes with the strategy asked for, else the default of the router', async () => {
    const ports = makePorts([email('a', { load: 5 }), email('b', { load: 1 })]);
    const router = new Router(ports, { strategy: 'least-loaded' });
    expect((await router.route({ id: 't', type: 'email_campaign' })).strategy).toBe('least-loaded');
    expect((await router.route({ id: 't', type: 'email_campaign' })).primary).toBe('b');
    const explicit = await router.route({ id: 't', type: 'email_campaign' }, 'capability');
    expect(explicit.strategy).toBe('capability');
    expect(explicit.primary).toBe('a');
  });

  it.each(STRATEGY_NAMES.filter((s) => s !== 'content'))(
    'routes with %s among eligible services only',
    async (strategy) => {
      const ports = makePorts([
        email('a'),
        email('b'),
        email('off', { enabled: false }),
        email('sick', { health: 'unhealthy' }),
        email('slow', { health: 'degraded' }),
        makeService('other'),
      ]);
      const router = new Router(ports);
      for (let i = 0; i < 5; i++) {
        const decision = await router.route(
          { id: `t${i}`, type: 'email_campaign', priority: 'high' },
          strategy,
        );
        expect(decision.strategy).toBe(strategy);
        expect([decision.primary, ...decision.fallbacks].sort()).toEqual(['a', 'b']);
        expect(decision.candidates.map((c) => c.name)).toEqual([decision.primary, ...decision.fallbacks]);
      }
    },
  );

  it('uses degraded services only when no healthy one can take the task', async () => {
    const ports = makePorts([email('slow', { health: 'degraded' }), email('sick', { health: 'unhealthy' })]);
    const decision = await new Router(ports).route({ id: 't', type: 'email_campaign' });
    expect(decision.primary).toBe('slow');
    expect(decision.fallbacks).toEqual([]);
    expect(decision.candidates).toEqual([
      { name: 'slow', health: 'degraded', load: 0, score: 1.5, probability: 1 },
    ]);
  });

  it('gives an unhealthy service trial traffic once its cooldown is over', async () => {
    const ports = makePorts([
      email('sick', { health: 'unhealthy', cooldownUntil: '2026-01-15T10:00:30.000Z' }),
    ]);
    const router = new Router(ports);
    await expect(router.route({ id: 't', type: 'email_campaign' })).rejects.toThrow(NoRouteError);
    ports.clock.advance(30_000);
    const decision = await router.route({ id: 't', type: 'email_campaign' });
    expect(decision.primary).toBe('sick');
    expect(decision.candidates[0]?.health).toBe('degraded');
  });

  it('respects the factory type the task asks for', async () => {
    const ports = makePorts([email('plain'), email('media-mail', { factoryType: 'media' })]);
    const decision = await new Router(ports).route({ id: 't', type: 'email_campaign', factoryType: 'media' });
    expect(decision.primary).toBe('media-mail');
    expect(decision.fallbacks).toEqual([]);
  });

  it('applies a custom retry policy to the decision', async () => {
    const ports = makePorts([email('a')]);
    const router = new Router(ports, { retryPolicy: { backoff: 'linear', maxRetries: 2 } });
    const decision = await router.route({ id: 't', type: 'email_campaign' });
    expect(decision.retryPolicy.backoff).toBe('linear');
    expect(decision.retrySchedule).toEqual([5, 10]);
  });

  it('routes by content rules and keeps the rule with the decision', async () => {
    const ports = makePorts([
      makeService('img', { factoryType: 'media', capabilities: ['unrelated'] }),
      makeService('scout', { factoryType: 'research', capabilities: ['market_research'] }),
    ]);
    const options: RouterOptions = {
      rules: [
        { id: 'media', name: 'Media words', when: { keywordsAny: ['image'] }, target: 'media', priority: 20 },
      ],
      defaultTarget: 'research',
    };
    const router = new Router(ports, options);
    const media = await router.route({ id: 't1', type: 'market_research', keywords: ['image'] }, 'content');
    expect(media.primary).toBe('img');
    expect(media.strategy).toBe('content');
    expect(media.rule).toEqual({ id: 'media', name: 'Media words', priority: 20 });
    expect(media.reason).toBe("rule 'media' (Media words) sends it to media");
    const fallback = await router.route({ id: 't2', type: 'anything', keywords: ['x'] }, 'content');
    expect(fallback.primary).toBe('scout');
    expect(fallback.rule).toBeUndefined();
    expect(fallback.reason).toBe('no rule matched, default target research');
  });

  it('reports exploration by the learned strategy', async () => {
    const stats = [makeStats('a', 'email_campaign', { successes: 95, failures: 5 })];
    const ports = makePorts([email('a'), email('b')], stats, 3);
    const router = new Router(ports, { strategy: 'learned' });
    const decisions: RoutingDecision[] = [];
    for (let i = 0; i < 300; i++) decisions.push(await router.route({ id: `t${i}`, type: 'email_campaign' }));
    const explored = decisions.filter((d) => d.explored);
    expect(explored.length).toBeGreaterThan(0);
    expect(explored.every((d) => d.primary === 'b')).toBe(true);
    expect(decisions.filter((d) => !d.explored).every((d) => d.primary === 'a')).toBe(true);
  });

  it('rotates round-robin within a router, each router starting at its own point', async () => {
    const ports = makePorts([email('a'), email('b'), email('c')]);
    const primaries = async (router: Router) => {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++)
        seen.push((await router.route({ id: 't', type: 'email_campaign' })).primary);
      return seen;
    };
    const one = await primaries(new Router(ports, { strategy: 'round-robin' }));
    // Every service in turn, then again in the same order.
    expect(new Set(one.slice(0, 3)).size).toBe(3);
    expect(one.slice(3)).toEqual(one.slice(0, 3));
    // Routers (one per process) start at different points, so the fleet spreads from the first task.
    const starts = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      starts.add(
        (
          await primaries(
            new Router(makePorts([email('a'), email('b'), email('c')], [], seed), {
              strategy: 'round-robin',
            }),
          )
        )[0] as string,
      );
    }
    expect(starts.size).toBe(3);
  });

  it('reads the registry again before saying that no service can take the task', async () => {
    const ports = makePorts([]);
    let fresh = 0;
    ports.freshServices = async () => {
      fresh++;
      return [email('new')];
    };
    const decision = await new Router(ports).route({ id: 't', type: 'email_campaign' });
    expect(decision.primary).toBe('new');
    expect(fresh).toBe(1);
  });

  it('rejects a malformed task with a ValidationError naming the field, before reading services', async () => {
    const ports = makePorts([email('a')]);
    let listed = 0;
    const listServices = ports.listServices;
    ports.listServices = () => {
      listed++;
      return listServices();
    };
    const error = await rejection(new Router(ports).route({ id: 't', type: '' }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toContain('type');
    const extra = await rejection(new Router(ports).route({ id: 't', type: 'x', colour: 'red' } as never));
    expect(extra).toBeInstanceOf(ValidationError);
    expect(listed).toBe(0);
  });

  it('rejects an unknown strategy', async () => {
    const ports = makePorts([email('a')]);
    const error = await rejection(
      new Router(ports).route({ id: 't', type: 'email_campaign' }, 'fastest' as StrategyName),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^strategy: /);
    expect(() => new Router(ports, { strategy: 'fastest' as StrategyName })).toThrow(ValidationError);
  });

  it('rejects invalid options when it is built', () => {
    const ports = makePorts([]);
    expect(() => new Router(ports, { retryPolicy: { maxRetries: -1 } })).toThrow(ValidationError);
    expect(() => new Router(ports, { rules: [{ id: 'r', name: 'R', when: {}, target: 'media' }] })).toThrow(
      'must state at least one condition',
    );
  });
});

describe('NoRouteError', () => {
  it('says that no registered service can handle the task type', async () => {
    const ports = makePorts([makeService('video-ai', { capabilities: ['video_generation'] })]);
    const error = await rejection(new Router(ports).route({ id: 't', type: 'email_campaign' }));
    expect(error).toBeInstanceOf(NoRouteError);
    expect(error.message).toBe("no registered service can handle task type 'email_campaign'");
  });

  it('names the action too', async () => {
    const ports = makePorts([]);
    const error = await rejection(
      new Router(ports).route({ id: 't', type: 'email_campaign', action: 'send' }),
    );
    expect(error.message).toBe("no registered service can handle task type 'email_campaign' / action 'send'");
  });

  it('lists the disabled and unhealthy services that could have taken it', async () => {
    const ports = makePorts([
      email('off-1', { enabled: false }),
      email('sick', { health: 'unhealthy', cooldownUntil: '2026-01-15T11:00:00.000Z' }),
      email('off-2', { enabled: false, health: 'unhealthy' }),
      makeService('unrelated', { health: 'unhealthy' }),
    ]);
    const error = await rejection(new Router(ports).route({ id: 't', type: 'email_campaign' }));
    expect(error).toBeInstanceOf(NoRouteError);
    expect(error.message).toBe(
      "no available service for task type 'email_campaign': disabled [off-1, off-2], unhealthy [sick]",
    );
  });

  it('explains a content route that admits nothing', async () => {
    const ports = makePorts([email('a')]);
    const router = new Router(ports, {
      rules: [{ id: 'media', name: 'Media', when: { keywordsAny: ['image'] }, target: 'media' }],
    });
    const error = await rejection(
      router.route({ id: 't', type: 'email_campaign', keywords: ['image'] }, 'content'),
    );
    expect(error).toBeInstanceOf(NoRouteError);
    expect(error.message).toContain("rule 'media' (Media) sends it to media");
    const unmatched = await rejection(router.route({ id: 't', type: 'email_campaign' }, 'content'));
    expect(unmatched.message).toContain('no content rule matched and no default target is set');
  });
});

describe('routingStats', () => {
  it('is empty without counters', () => {
    expect(routingStats({})).toEqual({ totalRoutes: 0, serviceDistribution: {}, strategyDistribution: {} });
  });

  it('reads routes by service and by strategy from the counters', () => {
    expect(
      routingStats({
        total: 3,
        'service:a': 1,
        'service:b': 2,
        'strategy:capability': 1,
        'strategy:least-loaded': 2,
      }),
    ).toEqual({
      totalRoutes: 3,
      serviceDistribution: { a: 1, b: 2 },
      strategyDistribution: { capability: 1, 'least-loaded': 2 },
    });
  });
});

describe('failover', () => {
  const task = { id: 't', type: 'email_campaign' };
  async function decisionFor(ports: TestPorts): Promise<RoutingDecision> {
    // least-loaded with loads 0, 1, 2, 3 gives the order a, b, c, d
    return new Router(ports, { strategy: 'least-loaded' }).route(task);
  }
  const four = () => [email('d', { load: 3 }), email('c', { load: 2 }), email('b', { load: 1 }), email('a')];

  it('moves to the next fallback, in the decision order when nothing is known of them', async () => {
    const ports = makePorts(four());
    const decision = await decisionFor(ports);
    expect([decision.primary, ...decision.fallbacks]).toEqual(['a', 'b', 'c', 'd']);
    const result = await new Router(ports).failover(decision, task);
    expect(result.exhausted).toBe(false);
    if (result.exhausted) return;
    expect(result.decision).toMatchObject({
      primary: 'b',
      endpoint: 'http://b:8080',
      fallbacks: ['c', 'd'],
      tried: ['a'],
      reason: 'failover from a to b: re-scored at failure time, expected utility 0.5',
      taskId: 't',
      strategy: 'least-loaded',
    });
    expect(decision.primary).toBe('a'); // the original decision is not changed
  });

  it('re-scores the fallbacks by their learned record at failure time', async () => {
    const ports = makePorts(four());
    const decision = await decisionFor(ports);
    // Since the decision, d has shown itself reliable and b unreliable.
    ports.stats = [
      makeStats('d', 'email_campaign', { successes: 40 }),
      makeStats('b', 'email_campaign', { successes: 5, failures: 35 }),
    ];
    const result = await new Router(ports).failover(decision, task);
    if (result.exhausted) throw new Error('expected a fallback');
    expect(result.decision.primary).toBe('d');
    expect(result.decision.fallbacks).toEqual(['c', 'b']);
    expect(result.decision.candidates.map((c) => c.name)).toEqual(['d', 'c', 'b']);
  });

  it('considers a service registered after the decision, read from the registry as it is now', async () => {
    const ports = makePorts(four());
    const decision = await decisionFor(ports);
    ports.listServices = async () => four(); // a stale cache
    ports.freshServices = async () => [...four(), email('e')];
    ports.stats = [makeStats('e', 'email_campaign', { successes: 30 })];
    const result = await new Router(ports).failover(decision, task);
    if (result.exhausted) throw new Error('expected a fallback');
    expect(result.decision.primary).toBe('e');
  });

  it('skips fallbacks that became disabled, unhealthy or were removed since the decision', async () => {
    const ports = makePorts(four());
    const decision = await decisionFor(ports);
    setService(ports, 'b', { enabled: false });
    setService(ports, 'c', { health: 'unhealthy' });
    const router = new Router(ports);
    const result = await router.failover(decision, task);
    if (result.exhausted) throw new Error('expected a fallback');
    expect(result.decision.primary).toBe('d');
    expect(result.decision.fallbacks).toEqual([]);
    expect(result.decision.tried).toEqual(['a']);
    expect(result.decision.reason).toBe(
      'failover from a to d: re-scored at failure time, expected utility 0.5 (skipped unavailable b, c)',
    );

    ports.services = ports.services.filter((s) => s.name !== 'b');
    const again = failoverDecision(
      decision,
      ports.services,
      (s) => isCapable(s, { type: 'email_campaign' }),
      () => 0.5,
      ports.now(),
    );
    if (again.exhausted) throw new Error('expected a fallback');
    expect(again.decision.primary).toBe('d');
  });

  it('lands on a degraded fallback only when no healthy one is left, and on an unhealthy one whose cooldown is over', async () => {
    const ports = makePorts(four());
    const decision = await decisionFor(ports);
    setService(ports, 'b', { health: 'degraded' });
    const healthyFirst = await new Router(ports).failover(decision, task);
    expect(healthyFirst.exhausted === false && healthyFirst.decision.primary).toBe('c');
    for (const name of ['c', 'd']) setService(ports, name, { enabled: false });
    const toDegraded = await new Router(ports).failover(decision, task);
    expect(toDegraded.exhausted === false && toDegraded.decision.primary).toBe('b');

    setService(ports, 'b', { health: 'unhealthy', cooldownUntil: '2026-01-15T10:00:10.000Z' });
    const none = await new Router(ports).failover(decision, task);
    expect(none.exhausted).toBe(true);
    ports.clock.advance(10_000);
    const trial = await new Router(ports).failover(decision, task);
    expect(trial.exhausted === false && trial.decision.primary).toBe('b');
  });

  it('accumulates tried services over successive failovers until exhausted', async () => {
    const ports = makePorts(four());
    const router = new Router(ports);
    let decision = await decisionFor(ports);
    const path = [decision.primary];
    for (;;) {
      const result = await router.failover(decision, task);
      if (result.exhausted) {
        expect(result.tried).toEqual(['a', 'b', 'c', 'd']);
        expect(result.reason).toBe('no fallback left after a, b, c, d');
        break;
      }
      decision = result.decision;
      path.push(decision.primary);
      expect(decision.tried).toEqual(path.slice(0, -1));
    }
    expect(path).toEqual(['a', 'b', 'c', 'd']);
  });

  it('is exhausted at once when every fallback is down', async () => {
    const ports = makePorts(four());
    const decision = await decisionFor(ports);
    for (const name of ['b', 'c', 'd']) setService(ports, name, { health: 'unhealthy' });
    const result = await new Router(ports).failover(decision, task);
    expect(result).toEqual({ exhausted: true, tried: ['a'], reason: 'no fallback left after a' });
  });

  it('refuses something that is not a routing decision', () => {
    const now = new Date('2026-01-15T10:00:00.000Z');
    const accepts = () => true;
    const utility = () => 0.5;
    for (const bogus of [undefined, {}, { primary: 'a' }, { primary: 1, fallbacks: [] }]) {
      expect(() => failoverDecision(bogus as unknown as RoutingDecision, [], accepts, utility, now)).toThrow(
        ValidationError,
      );
    }
    expect(() => failoverDecision({} as RoutingDecision, [], accepts, utility, now)).toThrow(
      'decision: must be a routing decision returned by route()',
    );
  });
});

describe('Router under a stored policy', () => {
  const withPolicy = (services: Service[], policy: Record<string, unknown>, version = 3) => {
    const ports = makePorts(services);
    let active = { version, policy: routingPolicySchema.parse(policy) };
    return {
      router: new Router({ ...ports, activePolicy: async () => active }),
      switchTo: (next: Record<string, unknown>, v: number) => {
        active = { version: v, policy: routingPolicySchema.parse(next) };
      },
    };
  };

  it('takes the strategy of the task type, leaves out ejected services, and picks retries per service first', async () => {
    const { router } = withPolicy([email('a'), email('b'), email('c')], {
      defaultStrategy: 'capability',
      strategyByTaskType: { email_campaign: 'least-loaded' },
      ejected: { a: { taskTypes: ['email_campaign'] } },
      retry: {
        byTaskType: { email_campaign: { backoff: 'linear', maxRetries: 2, baseDelaySeconds: 3 } },
        byService: { c: { maxRetries: 0 } },
      },
    });
    const decision = await router.route({ id: 't', type: 'email_campaign' });
    expect(decision).toMatchObject({ strategy: 'least-loaded', policyVersion: 3 });
    expect(decision.candidates.map((c) => c.name)).not.toContain('a');
    expect(decision.primary).toBe('b');
    expect(decision.retrySchedule).toEqual([3, 6]);
    const next = await router.failover(decision, { id: 't', type: 'email_campaign' });
    expect(next.exhausted ? undefined : next.decision).toMatchObject({ primary: 'c', retrySchedule: [] });
  });

  it('keeps a decision to the services it was allowed, through failover', async () => {
    const { router } = withPolicy([email('a'), email('b'), email('c')], {});
    const decision = await router.routeTask(
      { id: 't', type: 'email_campaign', priority: 'normal', keywords: [], parameters: {}, resources: {} },
      undefined,
      { only: ['b'] },
    );
    expect(decision).toMatchObject({ primary: 'b', fallbacks: [], allowed: ['b'] });
    expect((await router.failover(decision, { id: 't', type: 'email_campaign' })).exhausted).toBe(true);
  });

  it('switches to a new version on the next decision', async () => {
    const { router, switchTo } = withPolicy([email('a'), email('b')], { defaultStrategy: 'capability' });
    expect((await router.route({ id: 't', type: 'email_campaign' })).policyVersion).toBe(3);
    switchTo({ ejected: { a: {} } }, 4);
    const decision = await router.route({ id: 't', type: 'email_campaign' });
    expect(decision).toMatchObject({ policyVersion: 4, primary: 'b' });
  });
});
