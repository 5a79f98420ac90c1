import type { HealthState, Service } from './service.ts';

/** What a factory's `GET /status` answered, or that it did not. */
export type ProbeResult = { reachable: true; body: unknown } | { reachable: false; error: string };

/**
 * Health from a probe: unreachable is unhealthy; a reachable factory is as healthy as it says
 * (`status` or `health` field: healthy / degraded / unhealthy), and healthy when it says nothing.
 */
export function healthFromProbe(result: ProbeResult): { health: HealthState; reason: string } {
  if (!result.reachable) return { health: 'unhealthy', reason: `probe failed: ${result.error}` };
  const body = (result.body ?? {}) as { status?: unknown; health?: unknown };
  const said = [body.health, body.status].find(
    (v) => v === 'healthy' || v === 'degraded' || v === 'unhealthy',
  ) as HealthState | undefined;
  return { health: said ?? 'healthy', reason: said ? `probe: factory reports ${said}` : 'probe: answered' };
}

export interface HealthProbePorts {
  listServices(): Promise<Service[]>;
  probe(endpoint: string): Promise<ProbeResult>;
  setHealth(name: string, health: HealthState, reason: string): Promise<unknown>;
}

/** What a round of probes found: per service its health now, and whether that changed. */
export interface ProbeRound {
  probed: number;
  changed: number;
  outcomes: Array<{ service: string; health: HealthState; changed: boolean; reason: string | undefined }>;
}

/**
 * Probes every enabled service and records what changed. A service ejected by passive health and
 * still cooling down is left alone, so a probe cannot cut its cooldown short.
 */
export async function probeServices(ports: HealthProbePorts, now: Date): Promise<ProbeRound> {
  const services = (await ports.listServices()).filter((s) => s.enabled);
  const outcomes = await Promise.all(
    services.map(async (service) => {
      if (service.cooldownUntil !== undefined && Date.parse(service.cooldownUntil) > now.getTime()) {
        return { service: service.name, health: service.health, changed: false, reason: 'cooling down' };
      }
      const verdict = healthFromProbe(await ports.probe(service.endpoint));
      const changed = verdict.health !== service.health;
      if (changed) await ports.setHealth(service.name, verdict.health, verdict.reason);
      return { service: service.name, health: verdict.health, changed, reason: verdict.reason };
    }),
  );
  return { probed: outcomes.length, changed: outcomes.filter((o) => o.changed).length, outcomes };
}
