import { Brain, type BrainPorts } from '../core/brain.ts';
import { Cached } from '../core/cached.ts';
import type { FlowGate, Slot } from '../core/flow-gate.ts';
import { LiveStats } from '../core/live-stats.ts';
import { type HealthChange, PassiveHealth } from '../core/passive-health.ts';
import { RoutingPolicies } from '../core/routing/policies.ts';
import type { ActivePolicy } from '../core/routing/policy.ts';
import { policyFromOptions, Router, type RouterOptions } from '../core/routing/router.ts';
import { DEFAULT_OUTLIER_POLICY, type Service } from '../core/service.ts';
import type { CallObservation } from '../core/statistics.ts';
import { publishFactoryCalls } from '../handler/outcome-metrics.ts';
import { FlowControlStore } from '../store/flow-control-store.ts';
import { PolicyStore, type PolicyVersion } from '../store/policy-store.ts';
import { RegistryStore } from '../store/registry-store.ts';
import { StatsStore } from '../store/stats-store.ts';
import { type BaseDeps, config, memo, wiring } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** Learned routing judges services mostly on the last 15 minutes (history counts as a small prior). */
export const RECENT_WINDOW_MS = 15 * 60_000;

/** Workers read the active routing policy's pointer at most this often: a switch reaches them within it. */
export const POLICY_CACHE_MS = 3_000;

export interface RoutingDeps extends BaseDeps {
  router?: RouterOptions | undefined;
  /** How long a read of the registry or of a type's statistics is reused (ms). */
  cacheMs: number;
  /** Where `brain.learn` stores results (see `Memory.storeTaskResult`). */
  storeTaskResult?: BrainPorts['storeTaskResult'];
}

/**
 * What deciding and routing need in a process that handles many tasks: the registry and the
 * statistics read through per-process caches, passive health, the brain and the router on them.
 */
export interface Routing {
  brain: Brain;
  router: Router;
  registry: RegistryStore;
  stats: StatsStore;
  live: LiveStats;
  health: PassiveHealth;
  /** The stored routing policy versions and the active one. */
  policies: RoutingPolicies;
  /** Flow control: slots of the services the active policy limits. */
  flow: FlowGate;
  /** The registry as routing sees it here: cached, with this process's passive health applied. */
  services(): Promise<Service[]>;
  /** Writes the health changes passive health asked for; a service removed since is skipped. */
  recordHealth(changes: readonly HealthChange[]): Promise<void>;
}

export function buildRouting(deps: RoutingDeps): Routing {
  const { doc, tables, now, random } = deps;
  const registry = new RegistryStore(doc, { table: tables.registry });
  const stats = new StatsStore(doc, { table: tables.patterns, random, now });
  const health = new PassiveHealth(DEFAULT_OUTLIER_POLICY, now);
  const registryCache = new Cached(() => registry.listServices(), { ttlMs: deps.cacheMs, now });
  const live = new LiveStats((type, since) => stats.snapshot(type, since), {
    ttlMs: deps.cacheMs,
    windowMs: RECENT_WINDOW_MS,
    now,
  });
  const services = async () => health.apply(await registryCache.get());
  const policyStore = new PolicyStore(doc, { table: tables.registry });
  const policies = new RoutingPolicies({
    builtIn: policyFromOptions(deps.router),
    addVersion: (fields) => policyStore.addVersion(fields),
    getVersion: (version) => policyStore.getVersion(version),
    listVersions: () => policyStore.listVersions(),
    pointer: () => policyStore.pointer({ consistent: true }),
    activate: (version, by, at, expected) => policyStore.activate(version, by, at, expected),
    now,
  });
  const activePolicy = activePolicyReader(policyStore, Math.min(deps.cacheMs, POLICY_CACHE_MS), now);
  const brain = new Brain({
    listServices: services,
    statsFor: (type) => live.allTime(type),
    storeTaskResult: deps.storeTaskResult,
    now,
  });
  const router = new Router(
    {
      listServices: services,
      freshServices: async () => health.apply(await registryCache.refresh()),
      statsFor: (type) => live.allTime(type),
      recentStatsFor: (type) => live.recent(type),
      routeCounters: () => stats.routeCounters(),
      activePolicy,
      random,
      now,
    },
    deps.router,
  );
  const flowStore = new FlowControlStore(doc, { table: tables.registry, now, random });
  const flow: FlowGate = {
    async acquire(service, holdMs) {
      const limits = (await router.activePolicy()).policy.limits[service];
      if (!limits) return FREE_SLOT;
      const grant = await flowStore.acquire(service, limits, holdMs);
      return grant.granted ? { granted: true, release: () => flowStore.release(grant.lease) } : grant;
    },
  };
  return {
    brain,
    router,
    registry,
    stats,
    live,
    health,
    policies,
    flow,
    services,
    async recordHealth(changes) {
      await Promise.all(
        changes.map((change) =>
          registry.recordHealthChange(change, now()).catch((error: Error) => {
            if (error.name !== 'NotFoundError') throw error;
          }),
        ),
      );
    },
  };
}

/** The slot of a service without limits: nothing to count, nothing to give back. */
const FREE_SLOT: Slot = Object.freeze({ granted: true as const, release: async () => {} });

/**
 * The active policy as a worker reads it: the pointer every `ttlMs` at most (one small read), the
 * version it names once (versions never change once stored).
 */
function activePolicyReader(
  store: PolicyStore,
  ttlMs: number,
  now: () => Date,
): () => Promise<ActivePolicy | undefined> {
  const pointer = new Cached(() => store.pointer(), { ttlMs, now });
  let last: PolicyVersion | undefined;
  return async () => {
    const active = await pointer.get();
    if (!active || active.version === 0) return undefined;
    if (last?.version !== active.version) last = await store.getVersion(active.version);
    return last && { version: last.version, policy: last.policy };
  };
}

/**
 * What the task worker and the workflow step take from routing to decide, route, call and learn:
 * the brain and router, the cached registry and statistics, this process's passive health and
 * its own calls, and the writes that follow a call.
 */
export function callPorts(routing: Routing) {
  return {
    brain: routing.brain,
    router: routing.router,
    flow: routing.flow,
    services: routing.services,
    statsFor: (type: string) => routing.live.allTime(type),
    health: routing.health,
    observe: (call: CallObservation) => routing.live.observe(call),
    // Each settled call is written once, after its task or step is saved: where it is counted per
    // service for the alarms too (EMF log lines, no request of their own).
    recordCalls: (calls: readonly CallObservation[]) => {
      publishFactoryCalls(calls);
      return routing.stats.recordCalls(calls);
    },
    recordHealth: (changes: readonly HealthChange[]) => routing.recordHealth(changes),
  };
}

/** The routing of this process, shared by everything in it that decides and routes. */
export const routing = memo(() =>
  buildRouting({
    ...baseDeps(),
    router: { strategy: config().routingStrategy, ...wiring().router },
    cacheMs: config().routingCacheMs,
  }),
);
