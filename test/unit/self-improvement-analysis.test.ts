import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/core/errors.ts';
import {
  ANALYSIS_THRESHOLDS,
  findProblems,
  SelfImprovement,
  type SelfImprovementPorts,
  type Suggestion,
} from '../../lib/core/self-improvement.ts';
import type { Service } from '../../lib/core/service.ts';
import type { ServiceStats } from '../../lib/core/statistics.ts';
import { makeService, makeStats, manualClock, rejection } from './support.ts';

const NOW = new Date('2026-01-15T10:00:00.000Z');
const T = 'email_campaign';

const capable = (name: string, overrides: Partial<Service> = {}) =>
  makeService(name, { capabilities: [T], ...overrides });

/** Two services sharing the traffic evenly, fast and reliable: nothing to say. */
const healthyStats = () => [
  makeStats('a', T, { successes: 49, failures: 1, eachMs: 200 }),
  makeStats('b', T, { successes: 48, failures: 2, eachMs: 300 }),
];
const healthyServices = () => [capable('a'), capable('b')];

const areas = (drafts: ReturnType<typeof findProblems>) => drafts.map((d) => d.area);

describe('findProblems', () => {
  it('finds nothing in healthy statistics', () => {
    expect(findProblems(healthyStats(), healthyServices(), NOW)).toEqual([]);
    expect(findProblems([], [], NOW)).toEqual([]);
  });

  describe('failure_rate', () => {
    it('fires at the threshold, with priority growing with the rate', () => {
      const at = (failures: number) =>
        findProblems([makeStats('a', T, { successes: 100 - failures, failures, eachMs: 100 })], [], NOW);
      expect(ANALYSIS_THRESHOLDS.failureRate).toBe(0.2);
      expect(at(19)).toEqual([]);
      expect(at(20).map((d) => [d.area, d.priority])).toEqual([['failure_rate', 'medium']]);
      expect(at(35).map((d) => d.priority)).toEqual(['high']);
      expect(at(50).map((d) => d.priority)).toEqual(['critical']);
    });

    it('describes the problem and proposes a more reliable service when there is one', () => {
      const drafts = findProblems(
        [
          makeStats('flaky', T, { successes: 6, failures: 4, eachMs: 100 }),
          makeStats('steady', T, { successes: 10, failures: 0, eachMs: 100 }),
          makeStats('meh', T, { successes: 9, failures: 1, eachMs: 100 }),
        ],
        [],
        NOW,
      );
      expect(drafts).toEqual([
        {
          area: 'failure_rate',
          priority: 'high',
          title: `flaky fails 40% of ${T} tasks`,
          subject: { taskType: T, service: 'flaky' },
          evidence: { count: 10, failures: 4, failureRate: 0.4 },
          proposedAction: {
            type: 'prefer_service',
            description: `Route ${T} to steady (fails 0%) before flaky`,
            parameters: { taskType: T, prefer: 'steady', over: 'flaky' },
          },
        },
      ]);
    });

    it('proposes an investigation when no other service is reliable', () => {
      const [draft] = findProblems(
        [makeStats('a', T, { successes: 7, failures: 3 }), makeStats('b', T, { successes: 8, failures: 2 })],
        [],
        NOW,
      );
      expect(draft?.area).toBe('failure_rate');
      expect(draft?.proposedAction.type).toBe('investigate_service');
      expect(draft?.proposedAction.parameters).toEqual({ service: 'a', taskType: T });
    });

    it('ignores services with too few calls', () => {
      expect(ANALYSIS_THRESHOLDS.minSamples).toBe(10);
      expect(findProblems([makeStats('a', T, { successes: 1, failures: 8 })], [], NOW)).toEqual([]);
    });
  });

  describe('latency', () => {
    it('fires when the p95 is above 10 s, and proposes a much faster service', () => {
      const drafts = findProblems(
        [
          makeStats('slow', T, { successes: 20, eachMs: 12_000 }),
          makeStats('fast', T, { successes: 20, eachMs: 500 }),
        ],
        [],
        NOW,
      );
      expect(drafts).toEqual([
        {
          area: 'latency',
          priority: 'medium',
          title: `slow is slow on ${T}: p95 14482 ms`,
          subject: { taskType: T, service: 'slow' },
          evidence: { count: 20, meanMs: 12_000, p95Ms: 14_482 },
          proposedAction: {
            type: 'prefer_service',
            description: `Send ${T} to fast (mean 500 ms) first`,
            parameters: { taskType: T, prefer: 'fast', over: 'slow' },
          },
        },
      ]);
    });

    it('is high priority above three times the threshold, and proposes profiling without an alternative', () => {
      const [draft] = findProblems([makeStats('slow', T, { successes: 20, eachMs: 40_000 })], [], NOW);
      expect(draft?.area).toBe('latency');
      expect(draft?.priority).toBe('high');
      expect(draft?.proposedAction.type).toBe('investigate_latency');
    });

    it('does not fire for fast services or without latency data', () => {
      expect(findProblems([makeStats('a', T, { successes: 20, eachMs: 5_000 })], [], NOW)).toEqual([]);
      expect(findProblems([makeStats('a', T, { successes: 20 })], [], NOW)).toEqual([]);
    });
  });

  describe('resources', () => {
    it('fires when at least 10 % of the calls time out and proposes twice the p95 as timeout', () => {
      const drafts = findProblems(
        [makeStats('a', T, { successes: 17, failures: 3, timeouts: 3, eachMs: 2_000 })],
        [],
        NOW,
      );
      expect(drafts).toEqual([
        {
          area: 'resources',
          priority: 'medium',
          title: `15% of ${T} calls to a time out`,
          subject: { taskType: T, service: 'a' },
          evidence: { count: 20, timeouts: 3, timeoutRate: 0.15 },
          proposedAction: {
            type: 'increase_timeout',
            description: `Raise the ${T} timeout to 6 s or give a more capacity`,
            parameters: { taskType: T, service: 'a', timeoutSeconds: 6 }, // 2 x 2 560 ms, rounded up
          },
        },
      ]);
    });

    it('is high priority from 30 % and falls back to 60 s without latency data', () => {
      const drafts = findProblems([makeStats('a', T, { successes: 14, failures: 6, timeouts: 6 })], [], NOW);
      // 30 % of the calls failed too, so the failure rate speaks as well
      expect(areas(drafts)).toEqual(['failure_rate', 'resources']);
      const draft = drafts[1];
      expect(draft?.priority).toBe('high');
      expect(draft?.proposedAction.parameters.timeoutSeconds).toBe(60);
    });

    it('does not fire below 10 % timeouts', () => {
      expect(
        findProblems([makeStats('a', T, { successes: 18, failures: 2, timeouts: 1, eachMs: 100 })], [], NOW),
      ).toEqual([]);
    });
  });

  describe('load_balance', () => {
    const skewed = () => [
      makeStats('a', T, { successes: 18, eachMs: 100 }),
      makeStats('b', T, { successes: 2, eachMs: 100 }),
    ];

    it('fires when one service takes at least 80 % of the traffic while others could help', () => {
      const drafts = findProblems(skewed(), [capable('a'), capable('b'), capable('c')], NOW);
      expect(drafts).toEqual([
        {
          area: 'load_balance',
          priority: 'low',
          title: `a takes 90% of ${T} traffic`,
          subject: { taskType: T, service: 'a' },
          evidence: { total: 20, dominantCount: 18, share: 0.9, idleCapable: 2 },
          proposedAction: {
            type: 'rebalance',
            description: `Spread ${T} over a, b, c (least-loaded or learned routing)`,
            parameters: { taskType: T, services: ['a', 'b', 'c'] },
          },
        },
      ]);
    });

    it('does not fire when no other healthy, enabled, capable service exists', () => {
      const others = [
        capable('a'),
        capable('off', { enabled: false }),
        makeService('other', { capabilities: ['finance'] }),
      ];
      expect(findProblems(skewed(), others, NOW)).toEqual([]);
      // an unhealthy alternative does not count (the health area speaks about it instead)
      const sick = findProblems(skewed(), [capable('a'), capable('sick', { health: 'unhealthy' })], NOW);
      expect(areas(sick)).toEqual(['health']);
    });

    it('does not fire on too little traffic or a fair share', () => {
      const few = [makeStats('a', T, { successes: 18, eachMs: 100 })];
      expect(findProblems(few, [capable('a'), capable('b')], NOW)).toEqual([]);
      const fair = [
        makeStats('a', T, { successes: 15, eachMs: 100 }),
        makeStats('b', T, { successes: 5, eachMs: 100 }),
      ];
      expect(findProblems(fair, [capable('a'), capable('b')], NOW)).toEqual([]);
    });
  });

  describe('health', () => {
    it('fires for enabled services that are not healthy', () => {
      const drafts = findProblems(
        [],
        [
          makeService('sick', {
            health: 'unhealthy',
            healthReason: '5 failures in a row',
            cooldownUntil: '2026-01-15T11:00:00.000Z',
          }),
          makeService('slow', { health: 'degraded' }),
          makeService('off', { health: 'unhealthy', enabled: false }),
          makeService('fine'),
        ],
        NOW,
      );
      expect(drafts).toEqual([
        {
          area: 'health',
          priority: 'high',
          title: 'sick is unhealthy',
          subject: { service: 'sick' },
          evidence: {
            health: 'unhealthy',
            reason: '5 failures in a row',
            cooldownUntil: '2026-01-15T11:00:00.000Z',
          },
          proposedAction: {
            type: 'disable_service',
            description: 'Disable sick until it is repaired, so probes and fallbacks stop trying it',
            parameters: { service: 'sick' },
          },
        },
        {
          area: 'health',
          priority: 'medium',
          title: 'slow is degraded',
          subject: { service: 'slow' },
          evidence: { health: 'degraded', reason: 'unknown' },
          proposedAction: {
            type: 'investigate_service',
            description: 'Investigate slow: it answers, but not fully',
            parameters: { service: 'slow' },
          },
        },
      ]);
    });

    it('treats an unhealthy service whose cooldown is over as degraded', () => {
      const [draft] = findProblems(
        [],
        [makeService('back', { health: 'unhealthy', cooldownUntil: '2026-01-15T09:00:00.000Z' })],
        NOW,
      );
      expect(draft?.priority).toBe('medium');
      expect(draft?.title).toBe('back is degraded');
    });
  });

  it('analyses each task type separately', () => {
    const drafts = findProblems(
      [makeStats('a', 'finance', { successes: 5, failures: 5 }), makeStats('a', T, { successes: 10 })],
      [],
      NOW,
    );
    expect(drafts.map((d) => d.subject)).toEqual([{ taskType: 'finance', service: 'a' }]);
  });
});

interface MemoryPorts extends SelfImprovementPorts {
  suggestions: Map<string, Suggestion>;
  stats: ServiceStats[];
  services: Service[];
  windows: Array<{ from: string; to: string }>;
  clock: ReturnType<typeof manualClock>;
}

function memoryPorts(stats: ServiceStats[], services: Service[]): MemoryPorts {
  const clock = manualClock('2026-01-15T10:00:00.000Z');
  const ports: MemoryPorts = {
    suggestions: new Map(),
    stats,
    services,
    windows: [],
    clock,
    async windowStats(from, to) {
      ports.windows.push({ from: from.toISOString(), to: to.toISOString() });
      return structuredClone(ports.stats);
    },
    async listServices() {
      return structuredClone(ports.services);
    },
    async putSuggestionIfAbsent(suggestion) {
      if (ports.suggestions.has(suggestion.id)) return false;
      ports.suggestions.set(suggestion.id, structuredClone(suggestion));
      return true;
    },
    async getSuggestion(id) {
      const found = ports.suggestions.get(id);
      return found && structuredClone(found);
    },
    async listSuggestions() {
      return [...ports.suggestions.values()].map((s) => structuredClone(s));
    },
    async updateSuggestion(suggestion, expectedVersion) {
      const current = ports.suggestions.get(suggestion.id);
      if (current?.version !== expectedVersion) throw new ConflictError('version moved');
      ports.suggestions.set(suggestion.id, structuredClone(suggestion));
    },
    now: () => clock.now(),
  };
  return ports;
}

/** Statistics that raise a problem in every area. */
function troubledSetup() {
  return memoryPorts(
    [
      makeStats('flaky', T, { successes: 12, failures: 8, timeouts: 4, eachMs: 40_000 }),
      makeStats('steady', T, { successes: 100, eachMs: 200 }),
    ],
    [capable('flaky'), capable('steady'), capable('spare'), capable('sick', { health: 'unhealthy' })],
  );
}

describe('SelfImprovement', () => {
  it('stores one suggestion per problem, none of which applies itself', async () => {
    const ports = troubledSetup();
    const { suggestions, created } = await new SelfImprovement(ports).analyzePerformance();
    expect(new Set(suggestions.map((s) => s.area))).toEqual(
      new Set(['failure_rate', 'latency', 'resources', 'load_balance', 'health']),
    );
    expect(created).toBe(suggestions.length);
    expect(ports.suggestions.size).toBe(suggestions.length);
    for (const s of [...suggestions, ...ports.suggestions.values()]) {
      expect(s.autoApply).toBe(false);
      expect(s.requires).toBe('MANUAL_APPROVAL');
      expect(s.status).toBe('pending');
      expect(s.version).toBe(1);
      expect(s.windowHours).toBe(24);
      expect(s.createdAt).toBe('2026-01-15T10:00:00.000Z');
      expect(s.id).toMatch(/^sug_[0-9a-f]{16}$/);
    }
    expect(new Set(suggestions.map((s) => s.id)).size).toBe(suggestions.length);
    expect(ports.windows).toEqual([{ from: '2026-01-14T10:00:00.000Z', to: '2026-01-15T10:00:00.000Z' }]);
  });

  it('reads the window it is asked for', async () => {
    const ports = troubledSetup();
    const { suggestions } = await new SelfImprovement(ports).analyzePerformance(6);
    expect(ports.windows[0]?.from).toBe('2026-01-15T04:00:00.000Z');
    expect(suggestions.every((s) => s.windowHours === 6)).toBe(true);
  });

  it('creates nothing for healthy statistics', async () => {
    const ports = memoryPorts(healthyStats(), healthyServices());
    expect(await new SelfImprovement(ports).analyzePerformance()).toEqual({ suggestions: [], created: 0 });
    expect(ports.suggestions.size).toBe(0);
  });

  it('does not duplicate suggestions when run twice the same day, but does on another day', async () => {
    const ports = troubledSetup();
    const si = new SelfImprovement(ports);
    const first = await si.analyzePerformance();
    ports.clock.advance(5 * 3_600_000); // 15:00, same UTC day
    const second = await si.analyzePerformance();
    expect(second.created).toBe(0);
    expect(second.suggestions.map((s) => s.id)).toEqual(first.suggestions.map((s) => s.id));
    expect(ports.suggestions.size).toBe(first.suggestions.length);
    ports.clock.set('2026-01-16T00:30:00.000Z');
    const nextDay = await si.analyzePerformance();
    expect(nextDay.created).toBe(first.suggestions.length);
    expect(ports.suggestions.size).toBe(2 * first.suggestions.length);
  });

  it('rejects an invalid window', async () => {
    const si = new SelfImprovement(troubledSetup());
    for (const hours of [0, 1.5, 24 * 90 + 1]) {
      const error = await rejection(si.analyzePerformance(hours));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toMatch(/^windowHours: /);
    }
  });

  it('lists pending suggestions most urgent first, optionally of one priority', async () => {
    const ports = troubledSetup();
    const si = new SelfImprovement(ports);
    await si.analyzePerformance();
    const pending = await si.listSuggestions();
    const rank = { critical: 0, high: 1, medium: 2, low: 3 } as const;
    expect(pending.length).toBe(ports.suggestions.size);
    for (let i = 1; i < pending.length; i++) {
      expect(rank[(pending[i - 1] as Suggestion).priority]).toBeLessThanOrEqual(
        rank[(pending[i] as Suggestion).priority],
      );
    }
    const low = await si.listSuggestions({ priority: 'low' });
    expect(low.map((s) => s.area)).toEqual(['load_balance']);
    await expect(si.listSuggestions({ priority: 'urgent' as never })).rejects.toThrow(ValidationError);
  });

  describe('decisions', () => {
    async function oneSuggestion() {
      const ports = troubledSetup();
      const si = new SelfImprovement(ports);
      const { suggestions } = await si.analyzePerformance();
      const target = suggestions.find((s) => s.area === 'failure_rate') as Suggestion;
      return { ports, si, id: target.id };
    }

    it('accepts a pending suggestion without applying anything', async () => {
      const { ports, si, id } = await oneSuggestion();
      const servicesBefore = structuredClone(ports.services);
      ports.clock.advance(60_000);
      const accepted = await si.accept(id, { decidedBy: 'ops@vobee', note: 'makes sense' });
      expect(accepted).toMatchObject({
        id,
        status: 'accepted',
        decidedBy: 'ops@vobee',
        decisionNote: 'makes sense',
        decidedAt: '2026-01-15T10:01:00.000Z',
        version: 2,
        autoApply: false,
      });
      expect(ports.suggestions.get(id)).toEqual(accepted);
      expect(ports.services).toEqual(servicesBefore);
      expect((await si.listSuggestions({ status: 'accepted' })).map((s) => s.id)).toEqual([id]);
    });

    it('refuses to accept twice, or to reject what was accepted', async () => {
      const { si, id } = await oneSuggestion();
      await si.accept(id, { decidedBy: 'ops' });
      const twice = await rejection(si.accept(id, { decidedBy: 'ops' }));
      expect(twice).toBeInstanceOf(ConflictError);
      expect(twice.message).toBe(`suggestion '${id}' is already accepted`);
      await expect(si.reject(id, { decidedBy: 'ops' })).rejects.toThrow(ConflictError);
    });

    it('rejects a pending suggestion, and then refuses to accept it', async () => {
      const { si, id } = await oneSuggestion();
      const rejected = await si.reject(id, { decidedBy: 'ops' });
      expect(rejected.status).toBe('rejected');
      expect(rejected.decisionNote).toBeUndefined();
      await expect(si.accept(id, { decidedBy: 'ops' })).rejects.toThrow(
        `suggestion '${id}' is already rejected`,
      );
    });

    it('validates the decision and the id', async () => {
      const { si, id } = await oneSuggestion();
      await expect(si.accept(id, { decidedBy: '' })).rejects.toThrow(ValidationError);
      await expect(si.accept(id, { decidedBy: 'ops', extra: 1 } as never)).rejects.toThrow(ValidationError);
      const missing = await rejection(si.accept('sug_0000000000000000', { decidedBy: 'ops' }));
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing.message).toBe("suggestion 'sug_0000000000000000' not found");
      await expect(si.getSuggestion('bad id')).rejects.toThrow(ValidationError);
    });

    it('surfaces a concurrent change as a ConflictError', async () => {
      const { ports, si, id } = await oneSuggestion();
      const update = ports.updateSuggestion;
      ports.updateSuggestion = async (s) => update(s, 99);
      await expect(si.accept(id, { decidedBy: 'ops' })).rejects.toThrow(ConflictError);
      expect(ports.suggestions.get(id)?.status).toBe('pending');
    });
  });

  describe('trackImprovement', () => {
    async function accepted() {
      const ports = troubledSetup();
      const si = new SelfImprovement(ports);
      const { suggestions } = await si.analyzePerformance();
      const ids = suggestions.map((s) => s.id);
      await si.accept(ids[0] as string, { decidedBy: 'ops' });
      return { ports, si, id: ids[0] as string, pendingId: ids[1] as string };
    }

    it('refuses a suggestion that was not accepted', async () => {
      const { si, pendingId } = await accepted();
      const error = await rejection(
        si.trackImprovement(pendingId, { before: { p95Ms: 10 }, after: { p95Ms: 5 } }),
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.message).toBe(
        `suggestion '${pendingId}' is pending; only an accepted suggestion can be implemented`,
      );
    });

    it('computes the impact in the better direction of each metric', async () => {
      const { ports, si, id } = await accepted();
      ports.clock.advance(86_400_000);
      const implemented = await si.trackImprovement(id, {
        before: {
          p95LatencyMs: 12_000,
          successRate: 0.8,
          failureRate: 0.3,
          throughput: 0,
          costUsd: 10,
          gone: 1,
        },
        after: { p95LatencyMs: 6_000, successRate: 0.9, failureRate: 0.4, throughput: 5, costUsd: 10 },
        notes: 'moved traffic to steady',
      });
      expect(implemented.status).toBe('implemented');
      expect(implemented.version).toBe(3);
      expect(implemented.impact?.recordedAt).toBe('2026-01-16T10:00:00.000Z');
      expect(implemented.impact?.notes).toBe('moved traffic to steady');
      expect(implemented.impact?.metrics).toEqual({
        // latency: lower is better, halved = 50 % better
        p95LatencyMs: { before: 12_000, after: 6_000, improvement: 0.5, improved: true },
        // success rate: higher is better
        successRate: { before: 0.8, after: 0.9, improvement: 0.125, improved: true },
        // failure rate: lower is better, so going up is worse
        failureRate: { before: 0.3, after: 0.4, improvement: -0.3333, improved: false },
        // from zero: the sign of the change
        throughput: { before: 0, after: 5, improvement: 1, improved: true },
        costUsd: { before: 10, after: 10, improvement: 0, improved: false },
      });
      expect(ports.suggestions.get(id)).toEqual(implemented);
    });

    it('lets the caller say which metrics are higher-is-better', async () => {
      const { si, id } = await accepted();
      const implemented = await si.trackImprovement(id, {
        before: { responseTimeScore: 50 },
        after: { responseTimeScore: 75 },
        higherIsBetter: ['responseTimeScore'],
      });
      expect(implemented.impact?.metrics.responseTimeScore).toEqual({
        before: 50,
        after: 75,
        improvement: 0.5,
        improved: true,
      });
    });

    it('refuses measurements without a shared metric, and a second tracking', async () => {
      const { si, id } = await accepted();
      const error = await rejection(si.trackImprovement(id, { before: { a: 1 }, after: { b: 2 } }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['after']);
      await si.trackImprovement(id, { before: { meanMs: 100 }, after: { meanMs: 50 } });
      await expect(
        si.trackImprovement(id, { before: { meanMs: 100 }, after: { meanMs: 50 } }),
      ).rejects.toThrow(ConflictError);
    });
  });

  describe('improvementReport', () => {
    it('is empty before any analysis', async () => {
      expect(await new SelfImprovement(memoryPorts([], [])).improvementReport()).toEqual({
        total: 0,
        byStatus: {},
        byArea: {},
        acceptanceRate: undefined,
        implemented: [],
        meanImprovementByMetric: {},
      });
    });

    it('counts statuses and areas, the acceptance rate and the mean measured impact', async () => {
      const ports = troubledSetup();
      const si = new SelfImprovement(ports);
      const { suggestions } = await si.analyzePerformance();
      const [s1, s2, s3] = suggestions as [Suggestion, Suggestion, Suggestion];
      await si.accept(s1.id, { decidedBy: 'ops' });
      await si.accept(s2.id, { decidedBy: 'ops' });
      await si.reject(s3.id, { decidedBy: 'ops' });
      await si.trackImprovement(s1.id, {
        before: { meanMs: 100, successRate: 0.5 },
        after: { meanMs: 50, successRate: 0.6 },
      });
      await si.trackImprovement(s2.id, { before: { meanMs: 100 }, after: { meanMs: 80 } });

      const report = await si.improvementReport();
      expect(report.total).toBe(suggestions.length);
      expect(report.byStatus).toEqual({ implemented: 2, rejected: 1, pending: suggestions.length - 3 });
      const byArea = suggestions.reduce<Record<string, number>>((acc, s) => {
        acc[s.area] = (acc[s.area] ?? 0) + 1;
        return acc;
      }, {});
      expect(report.byArea).toEqual(byArea);
      expect(report.acceptanceRate).toBeCloseTo(2 / 3, 12);
      expect(report.implemented.map((i) => i.id).sort()).toEqual([s1.id, s2.id].sort());
      expect(report.meanImprovementByMetric.meanMs).toBeCloseTo(0.35, 12); // (0.5 + 0.2) / 2
      expect(report.meanImprovementByMetric.successRate).toBeCloseTo(0.2, 12);
    });
  });
});

describe('SelfImprovement, decided suggestions found again', () => {
  it('reports them as they stand, not as new', async () => {
    const ports = troubledSetup();
    const si = new SelfImprovement(ports);
    const first = await si.analyzePerformance();
    const target = first.suggestions[0];
    if (!target) throw new Error('expected a suggestion');
    await si.reject(target.id, { decidedBy: 'ops' });
    const again = await si.analyzePerformance();
    expect(again.created).toBe(0);
    expect(again.suggestions.find((s) => s.id === target.id)).toMatchObject({
      status: 'rejected',
      version: 2,
    });
  });
});

describe('impact direction by metric name', () => {
  it('reads whole words: uptime and itemsProcessed are higher-is-better, p95Ms and error_rate lower', async () => {
    const ports = troubledSetup();
    const si = new SelfImprovement(ports);
    const [suggestion] = (await si.analyzePerformance()).suggestions;
    if (!suggestion) throw new Error('expected a suggestion');
    await si.accept(suggestion.id, { decidedBy: 'ops' });
    const done = await si.trackImprovement(suggestion.id, {
      before: { uptime: 0.9, itemsProcessed: 100, p95Ms: 400, error_rate: 0.1 },
      after: { uptime: 0.99, itemsProcessed: 150, p95Ms: 200, error_rate: 0.05 },
    });
    const metrics = done.impact?.metrics ?? {};
    expect(Object.values(metrics).every((m) => m.improved)).toBe(true);
    expect(metrics.p95Ms?.improvement).toBe(0.5);
    expect(metrics.itemsProcessed?.improvement).toBe(0.5);
  });
});
