import type { HealthState, OutlierPolicy, Service } from './service.ts';

/** A health change passive health wants recorded in the registry. */
export interface HealthChange {
  service: string;
  health: Extract<HealthState, 'healthy' | 'unhealthy'>;
  reason: string;
  /** Until when an ejected service is left alone. */
  cooldownUntil?: string | undefined;
}

/**
 * Passive health as one worker process sees it, the way Envoy detects outliers per host:
 * `failureThreshold` failures in a row eject a service for `cooldownSeconds`, and a success after
 * an ejection makes it healthy again. The streak is counted in memory, not with a write per call;
 * only the ejection and the recovery are written to the registry (see {@link HealthChange}), so
 * other workers and the API see them too. It also counts the calls this process has in flight,
 * which least-loaded routing reads as `load`.
 */
export class PassiveHealth {
  readonly #policy: OutlierPolicy;
  readonly #now: () => Date;
  readonly #streaks = new Map<string, number>();
  /** Ejections made here, until the registry's copy reaches this process. */
  readonly #ejected = new Map<string, string>();
  readonly #inFlight = new Map<string, number>();

  constructor(policy: OutlierPolicy, now: () => Date) {
    this.#policy = policy;
    this.#now = now;
  }

  /** A call to `service` starts. */
  begin(service: string): void {
    this.#inFlight.set(service, (this.#inFlight.get(service) ?? 0) + 1);
  }

  /** A call to `service` ended. */
  end(service: string): void {
    const left = (this.#inFlight.get(service) ?? 1) - 1;
    if (left <= 0) this.#inFlight.delete(service);
    else this.#inFlight.set(service, left);
  }

  /**
   * Notes the outcome of a call; returns the change to record, if any. `stored` is the service as
   * this process last read it, so a success can end an ejection another worker made.
   */
  observe(service: string, success: boolean, stored?: Service): HealthChange | undefined {
    const now = this.#now();
    if (success) {
      this.#streaks.delete(service);
      const cooldownUntil =
        this.#ejected.get(service) ?? (stored?.health === 'unhealthy' ? stored.cooldownUntil : undefined);
      // An ejection lasts its cooldown: a call that was in flight when it began does not end it.
      if (cooldownUntil === undefined || Date.parse(cooldownUntil) > now.getTime()) return undefined;
      this.#ejected.delete(service);
      return { service, health: 'healthy', reason: 'recovered: call succeeded after cooldown' };
    }
    const streak = (this.#streaks.get(service) ?? 0) + 1;
    this.#streaks.set(service, streak);
    const until = this.#ejected.get(service);
    if (streak < this.#policy.failureThreshold || (until !== undefined && Date.parse(until) > now.getTime()))
      return undefined;
    const cooldownUntil = new Date(now.getTime() + this.#policy.cooldownSeconds * 1000).toISOString();
    this.#ejected.set(service, cooldownUntil);
    this.#streaks.delete(service);
    return {
      service,
      health: 'unhealthy',
      reason: `ejected after ${streak} consecutive failures`,
      cooldownUntil,
    };
  }

  /** The services as routing should see them here: this process's ejections and calls in flight applied. */
  apply(services: readonly Service[]): Service[] {
    const now = this.#now().getTime();
    return services.map((service) => {
      let cooldownUntil = this.#ejected.get(service.name);
      // Past its cooldown the registry's copy, which has the ejection too, says what is next.
      if (cooldownUntil !== undefined && Date.parse(cooldownUntil) <= now) {
        this.#ejected.delete(service.name);
        cooldownUntil = undefined;
      }
      const load = this.#inFlight.get(service.name) ?? 0;
      if (cooldownUntil === undefined) return load === service.load ? service : { ...service, load };
      return { ...service, load, health: 'unhealthy', cooldownUntil };
    });
  }
}
