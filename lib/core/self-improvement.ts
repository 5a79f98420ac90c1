import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ConflictError, NotFoundError } from './errors.ts';
import { identifier } from './names.ts';
import { effectiveHealth, type Service } from './service.ts';
import { latencyQuantileMs, meanMs, mergeCounters, type ServiceStats } from './statistics.ts';
import { parseInput } from './validation.ts';

export const suggestionArea = z.enum(['latency', 'failure_rate', 'load_balance', 'health', 'resources']);
export type SuggestionArea = z.output<typeof suggestionArea>;
export const suggestionPriority = z.enum(['critical', 'high', 'medium', 'low']);
export type SuggestionPriority = z.output<typeof suggestionPriority>;
export const suggestionStatus = z.enum(['pending', 'accepted', 'rejected', 'implemented']);
export type SuggestionStatus = z.output<typeof suggestionStatus>;
const PRIORITY_RANK: Record<SuggestionPriority, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** One metric before and after a change, and whether it moved the right way. */
export interface MetricImpact {
  before: number;
  after: number;
  /** Relative change in the good direction: 0.4 means 40 % better, negative means worse. */
  improvement: number;
  improved: boolean;
}

/**
 * A proposed change. It is only ever a proposal: `autoApply` is the literal `false` and nothing in
 * this module can write to the registry or to routing; a person accepts or rejects it.
 */
export interface Suggestion {
  id: string;
  area: SuggestionArea;
  priority: SuggestionPriority;
  title: string;
  subject: { taskType?: string | undefined; service?: string | undefined };
  evidence: Record<string, number | string>;
  proposedAction: { type: string; description: string; parameters: Record<string, unknown> };
  autoApply: false;
  requires: 'MANUAL_APPROVAL';
  status: SuggestionStatus;
  createdAt: string;
  windowHours: number;
  decidedAt?: string | undefined;
  decidedBy?: string | undefined;
  decisionNote?: string | undefined;
  /** The draft routing policy version an accepted routing suggestion became. */
  policyVersion?: number | undefined;
  impact?:
    | { recordedAt: string; metrics: Record<string, MetricImpact>; notes?: string | undefined }
    | undefined;
  version: number;
}

/** Read access to performance data and write access to suggestions only: no registry writes exist here. */
export interface SelfImprovementPorts {
  windowStats(from: Date, to: Date): Promise<ServiceStats[]>;
  listServices(): Promise<Service[]>;
  putSuggestionIfAbsent(suggestion: Suggestion): Promise<boolean>;
  getSuggestion(id: string): Promise<Suggestion | undefined>;
  listSuggestions(): Promise<Suggestion[]>;
  /** Replaces a suggestion if its stored version is `expectedVersion`; ConflictError otherwise. */
  updateSuggestion(suggestion: Suggestion, expectedVersion: number): Promise<void>;
  now(): Date;
}

/** Counts by status and area, acceptance rate, and the measured impact of what was implemented. */
export interface ImprovementReport {
  total: number;
  byStatus: Record<string, number>;
  byArea: Record<string, number>;
  /** Accepted or implemented among the decided ones; undefined before any decision. */
  acceptanceRate: number | undefined;
  implemented: Array<{ id: string; title: string; impact: Record<string, MetricImpact> | undefined }>;
  meanImprovementByMetric: Record<string, number>;
}

/** When the analysis speaks up. */
export const ANALYSIS_THRESHOLDS = {
  minSamples: 10,
  failureRate: 0.2,
  p95LatencyMs: 10_000,
  timeoutRate: 0.1,
  dominantShare: 0.8,
  minSamplesForBalance: 20,
} as const;

const windowSchema = z
  .number()
  .int()
  .min(1)
  .max(24 * 90);
/** A person's decision on a suggestion. */
export const suggestionDecisionSchema = z
  .object({
    decidedBy: z.string().min(1).max(200),
    note: z.string().max(2_000).optional(),
  })
  .strict();
/** The measured impact of an implemented suggestion: metrics before and after, at least one shared. */
export const impactInputSchema = z
  .object({
    before: z.record(z.string().min(1), z.number()),
    after: z.record(z.string().min(1), z.number()),
    higherIsBetter: z.array(z.string()).optional(),
    notes: z.string().max(2_000).optional(),
  })
  .strict()
  .refine((v) => Object.keys(v.before).some((k) => k in v.after), {
    message: 'must share at least one metric with before',
    path: ['after'],
  });

/** Words that make a metric "lower is better" (`response_time`, `p95Ms`, `errorRate`...) unless the caller says otherwise. */
const LOWER_IS_BETTER_WORDS = new Set([
  'ms',
  'time',
  'latency',
  'failure',
  'failures',
  'error',
  'errors',
  'cost',
  'timeout',
  'timeouts',
  'duration',
  'seconds',
  'secs',
]);

function lowerIsBetter(metric: string): boolean {
  const words = metric
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((word) => LOWER_IS_BETTER_WORDS.has(word));
}

/** Analyses performance and manages suggestions. It proposes; people dispose. */
export class SelfImprovement {
  readonly #ports: SelfImprovementPorts;
  constructor(ports: SelfImprovementPorts) {
    this.#ports = ports;
  }

  /**
   * Looks at the last `windowHours` of outcomes and at current health, and stores a suggestion for
   * each problem found. Suggestion ids are derived from the problem and the day, so running the
   * analysis again the same day does not duplicate them.
   */
  async analyzePerformance(windowHours = 24): Promise<{ suggestions: Suggestion[]; created: number }> {
    const hours = parseInput(windowSchema, windowHours, 'windowHours');
    const now = this.#ports.now();
    const from = new Date(now.getTime() - hours * 3_600_000);
    const [stats, services] = await Promise.all([
      this.#ports.windowStats(from, now),
      this.#ports.listServices(),
    ]);
    const suggestions = findProblems(stats, services, now).map((draft) => toSuggestion(draft, now, hours));
    let created = 0;
    const stored: Suggestion[] = [];
    for (const suggestion of suggestions) {
      if (await this.#ports.putSuggestionIfAbsent(suggestion)) {
        created++;
        stored.push(suggestion);
      } else {
        // Found again today: report it as it stands (it may have been decided since).
        stored.push((await this.#ports.getSuggestion(suggestion.id)) ?? suggestion);
      }
    }
    return { suggestions: stored, created };
  }

  /** Suggestions of one status (pending unless told), optionally of one priority, most urgent first. */
  async listSuggestions(
    filter: { status?: SuggestionStatus | undefined; priority?: SuggestionPriority | undefined } = {},
  ): Promise<Suggestion[]> {
    const { status, priority } = parseInput(
      z.object({ status: suggestionStatus.default('pending'), priority: suggestionPriority.optional() }),
      filter,
      'filter',
    );
    return (await this.#ports.listSuggestions())
      .filter((s) => s.status === status && (priority === undefined || s.priority === priority))
      .sort(byUrgency);
  }

  async getSuggestion(id: string): Promise<Suggestion> {
    const key = parseInput(identifier, id, 'suggestionId');
    const suggestion = await this.#ports.getSuggestion(key);
    if (!suggestion) throw new NotFoundError('suggestion', key);
    return suggestion;
  }

  /**
   * A person accepts a pending suggestion: it is now theirs to carry out. Nothing is applied. With
   * `draft`, a suggestion about routing first becomes a draft policy version (its number is kept
   * on the suggestion), for a person to replay and activate.
   */
  accept(
    id: string,
    decision: { decidedBy: string; note?: string },
    draft?: (suggestion: Suggestion, decidedBy: string) => Promise<number | undefined>,
  ): Promise<Suggestion> {
    return this.#decide(id, 'accepted', decision, draft);
  }

  reject(id: string, decision: { decidedBy: string; note?: string }): Promise<Suggestion> {
    return this.#decide(id, 'rejected', decision);
  }

  /**
   * Records that an accepted suggestion was carried out, with metrics measured before and after;
   * the impact of each shared metric is computed in the direction that is better for it.
   */
  async trackImprovement(
    id: string,
    measured: {
      before: Record<string, number>;
      after: Record<string, number>;
      higherIsBetter?: string[];
      notes?: string;
    },
  ): Promise<Suggestion> {
    const input = parseInput(impactInputSchema, measured, 'impact');
    const current = await this.getSuggestion(id);
    if (current.status !== 'accepted') {
      throw new ConflictError(
        `suggestion '${current.id}' is ${current.status}; only an accepted suggestion can be implemented`,
      );
    }
    const metrics: Record<string, MetricImpact> = {};
    for (const [name, before] of Object.entries(input.before)) {
      const after = input.after[name];
      if (after === undefined) continue;
      const higherBetter = input.higherIsBetter?.includes(name) ?? !lowerIsBetter(name);
      const delta = higherBetter ? after - before : before - after;
      const improvement = before === 0 ? (delta === 0 ? 0 : Math.sign(delta)) : delta / Math.abs(before);
      metrics[name] = {
        before,
        after,
        improvement: Math.round(improvement * 10_000) / 10_000,
        improved: delta > 0,
      };
    }
    const next: Suggestion = {
      ...current,
      status: 'implemented',
      impact: { recordedAt: this.#ports.now().toISOString(), metrics, notes: input.notes },
      version: current.version + 1,
    };
    await this.#ports.updateSuggestion(next, current.version);
    return next;
  }

  /** Counts by status and area, acceptance rate, and the measured impact of what was implemented. */
  async improvementReport(): Promise<ImprovementReport> {
    const all = await this.#ports.listSuggestions();
    const count = (pick: (s: Suggestion) => string) =>
      all.reduce<Record<string, number>>((acc, s) => {
        acc[pick(s)] = (acc[pick(s)] ?? 0) + 1;
        return acc;
      }, {});
    const byStatus = count((s) => s.status);
    const decided = (byStatus.accepted ?? 0) + (byStatus.implemented ?? 0) + (byStatus.rejected ?? 0);
    const implemented = all.filter((s) => s.status === 'implemented' && s.impact);
    const impacts = implemented.flatMap((s) => Object.entries(s.impact?.metrics ?? {}));
    const perMetric = Map.groupBy(impacts, ([name]) => name);
    return {
      total: all.length,
      byStatus,
      byArea: count((s) => s.area),
      acceptanceRate:
        decided === 0 ? undefined : ((byStatus.accepted ?? 0) + (byStatus.implemented ?? 0)) / decided,
      implemented: implemented.map((s) => ({ id: s.id, title: s.title, impact: s.impact?.metrics })),
      meanImprovementByMetric: Object.fromEntries(
        [...perMetric].map(([name, rows]) => [
          name,
          rows.reduce((sum, [, impact]) => sum + impact.improvement, 0) / rows.length,
        ]),
      ),
    };
  }

  async #decide(
    id: string,
    status: 'accepted' | 'rejected',
    decision: unknown,
    draft?: (suggestion: Suggestion, decidedBy: string) => Promise<number | undefined>,
  ): Promise<Suggestion> {
    const input = parseInput(suggestionDecisionSchema, decision, 'decision');
    const current = await this.getSuggestion(id);
    if (current.status !== 'pending') {
      throw new ConflictError(`suggestion '${current.id}' is already ${current.status}`);
    }
    // The draft comes first: if the acceptance then loses a race, an unused draft that names its
    // suggestion is left, never an accepted suggestion without the draft it promised.
    const policyVersion = draft ? await draft(current, input.decidedBy) : undefined;
    const next: Suggestion = {
      ...current,
      status,
      decidedAt: this.#ports.now().toISOString(),
      decidedBy: input.decidedBy,
      decisionNote: input.note,
      ...(policyVersion === undefined ? {} : { policyVersion }),
      version: current.version + 1,
    };
    await this.#ports.updateSuggestion(next, current.version);
    return next;
  }
}

type Draft = Pick<Suggestion, 'area' | 'priority' | 'title' | 'subject' | 'evidence' | 'proposedAction'>;

/** The analysis itself: pure, from window statistics and the registry as it is. */
export function findProblems(
  stats: readonly ServiceStats[],
  services: readonly Service[],
  now: Date,
): Draft[] {
  const t = ANALYSIS_THRESHOLDS;
  const drafts: Draft[] = [];
  const byType = Map.groupBy(stats, (s) => s.taskType);

  for (const [taskType, rows] of byType) {
    const measured = rows.filter((r) => r.count >= t.minSamples);
    for (const row of measured) {
      const failure = row.failures / row.count;
      const better = measured
        .filter((o) => o.service !== row.service && o.failures / o.count < failure / 2)
        .sort((a, b) => a.failures / a.count - b.failures / b.count)[0];
      if (failure >= t.failureRate) {
        drafts.push({
          area: 'failure_rate',
          priority: failure >= 0.5 ? 'critical' : failure >= 0.35 ? 'high' : 'medium',
          title: `${row.service} fails ${pct(failure)} of ${taskType} tasks`,
          subject: { taskType, service: row.service },
          evidence: { count: row.count, failures: row.failures, failureRate: round(failure) },
          proposedAction: better
            ? {
                type: 'prefer_service',
                description: `Route ${taskType} to ${better.service} (fails ${pct(better.failures / better.count)}) before ${row.service}`,
                parameters: { taskType, prefer: better.service, over: row.service },
              }
            : {
                type: 'investigate_service',
                description: `Investigate ${row.service}: no other service does ${taskType} reliably`,
                parameters: { service: row.service, taskType },
              },
        });
      }
      const p95 = latencyQuantileMs(row);
      if (p95 !== undefined && p95 > t.p95LatencyMs) {
        const mean = meanMs(row) ?? 0;
        const faster = measured
          .filter((o) => o.service !== row.service && (meanMs(o) ?? Infinity) < mean / 2)
          .sort((a, b) => (meanMs(a) ?? 0) - (meanMs(b) ?? 0))[0];
        drafts.push({
          area: 'latency',
          priority: p95 > 3 * t.p95LatencyMs ? 'high' : 'medium',
          title: `${row.service} is slow on ${taskType}: p95 ${Math.round(p95)} ms`,
          subject: { taskType, service: row.service },
          evidence: { count: row.count, meanMs: Math.round(mean), p95Ms: Math.round(p95) },
          proposedAction: faster
            ? {
                type: 'prefer_service',
                description: `Send ${taskType} to ${faster.service} (mean ${Math.round(meanMs(faster) ?? 0)} ms) first`,
                parameters: { taskType, prefer: faster.service, over: row.service },
              }
            : {
                type: 'investigate_latency',
                description: `Profile ${row.service} for ${taskType}, or make the step asynchronous`,
                parameters: { service: row.service, taskType },
              },
        });
      }
      const timeoutRate = row.timeouts / row.count;
      if (timeoutRate >= t.timeoutRate) {
        const suggested = Math.ceil((2 * (p95 ?? 30_000)) / 1000);
        drafts.push({
          area: 'resources',
          priority: timeoutRate >= 0.3 ? 'high' : 'medium',
          title: `${pct(timeoutRate)} of ${taskType} calls to ${row.service} time out`,
          subject: { taskType, service: row.service },
          evidence: { count: row.count, timeouts: row.timeouts, timeoutRate: round(timeoutRate) },
          proposedAction: {
            type: 'increase_timeout',
            description: `Raise the ${taskType} timeout to ${suggested} s or give ${row.service} more capacity`,
            parameters: { taskType, service: row.service, timeoutSeconds: suggested },
          },
        });
      }
    }

    const total = mergeCounters(rows).count;
    const top = [...rows].sort((a, b) => b.count - a.count)[0];
    const capableOthers = services.filter(
      (s) =>
        s.enabled &&
        s.name !== top?.service &&
        s.capabilities.includes(taskType) &&
        effectiveHealth(s, now) === 'healthy',
    );
    if (
      top &&
      total >= t.minSamplesForBalance &&
      top.count / total >= t.dominantShare &&
      capableOthers.length > 0
    ) {
      drafts.push({
        area: 'load_balance',
        priority: 'low',
        title: `${top.service} takes ${pct(top.count / total)} of ${taskType} traffic`,
        subject: { taskType, service: top.service },
        evidence: {
          total,
          dominantCount: top.count,
          share: round(top.count / total),
          idleCapable: capableOthers.length,
        },
        proposedAction: {
          type: 'rebalance',
          description: `Spread ${taskType} over ${[top.service, ...capableOthers.map((s) => s.name)].join(', ')} (least-loaded or learned routing)`,
          parameters: { taskType, services: [top.service, ...capableOthers.map((s) => s.name)] },
        },
      });
    }
  }

  for (const service of services.filter((s) => s.enabled)) {
    const health = effectiveHealth(service, now);
    if (health === 'healthy') continue;
    drafts.push({
      area: 'health',
      priority: health === 'unhealthy' ? 'high' : 'medium',
      title: `${service.name} is ${health}`,
      subject: { service: service.name },
      evidence: {
        health,
        reason: service.healthReason ?? 'unknown',
        ...(service.cooldownUntil ? { cooldownUntil: service.cooldownUntil } : {}),
      },
      proposedAction: {
        type: health === 'unhealthy' ? 'disable_service' : 'investigate_service',
        description:
          health === 'unhealthy'
            ? `Disable ${service.name} until it is repaired, so probes and fallbacks stop trying it`
            : `Investigate ${service.name}: it answers, but not fully`,
        parameters: { service: service.name },
      },
    });
  }
  return drafts;
}

function toSuggestion(draft: Draft, now: Date, windowHours: number): Suggestion {
  const day = now.toISOString().slice(0, 10);
  const key = [
    draft.area,
    draft.proposedAction.type,
    draft.subject.taskType ?? '',
    draft.subject.service ?? '',
    day,
  ].join('|');
  return {
    ...draft,
    id: `sug_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
    autoApply: false,
    requires: 'MANUAL_APPROVAL',
    status: 'pending',
    createdAt: now.toISOString(),
    windowHours,
    version: 1,
  };
}

function byUrgency(a: Suggestion, b: Suggestion): number {
  return (
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
    b.createdAt.localeCompare(a.createdAt) ||
    a.id.localeCompare(b.id)
  );
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const round = (x: number) => Math.round(x * 10_000) / 10_000;
