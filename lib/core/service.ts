import * as z from 'zod';
import { httpUrl, identifier } from './names.ts';
import type { Task } from './task.ts';

export const healthState = z.enum(['healthy', 'degraded', 'unhealthy']);
export type HealthState = z.output<typeof healthState>;

const serviceFields = {
  name: identifier,
  endpoint: httpUrl,
  /** The family the service belongs to (`media`, `research`...): content rules may target it. */
  factoryType: identifier.optional(),
  /** Task types and actions the service can execute. */
  capabilities: z.array(identifier).min(1, 'must list at least one capability').max(200),
  weight: z.number().min(0).max(1_000),
  enabled: z.boolean(),
  health: healthState,
  /** The price of one call (USD), when the service has one; a factory's reported `cost` takes precedence. */
  costPerCall: z.number().min(0).max(1_000_000).optional(),
};

/** What a caller registers: a factory service the router can send work to. */
export const serviceInputSchema = z
  .object({
    ...serviceFields,
    weight: serviceFields.weight.default(1),
    enabled: serviceFields.enabled.default(true),
    health: serviceFields.health.default('healthy'),
  })
  .strict();
/**
 * A change to a registered service: only the fields given change (no defaults here, or a patch
 * would quietly reset them). Health has its own operation.
 */
export const servicePatchSchema = z
  .object(serviceFields)
  .omit({ name: true, health: true })
  .partial()
  .strict();
export type ServicePatch = z.input<typeof servicePatchSchema>;
export type ServiceInput = z.input<typeof serviceInputSchema>;

/** A registered service with the state the orchestrator keeps about it. */
export interface Service extends z.output<typeof serviceInputSchema> {
  /**
   * Calls in flight as this process sees them (see `PassiveHealth`): 0 in the registry, filled
   * in for routing.
   */
  load: number;
  /** Until when an unhealthy service is left alone before one trial call is allowed (ISO time). */
  cooldownUntil?: string | undefined;
  healthReason?: string | undefined;
  /** Optimistic version: every whole-record update must name the version it read. */
  version: number;
  updatedAt: string;
}

/** Whether `service` declares a capability for the task's type or action. */
export function isCapable(service: Service, task: Pick<Task, 'type' | 'action' | 'factoryType'>): boolean {
  if (task.factoryType !== undefined && service.factoryType !== task.factoryType) return false;
  return (
    service.capabilities.includes(task.type) ||
    (task.action !== undefined && service.capabilities.includes(task.action))
  );
}

/**
 * Passive health: after `failureThreshold` failures in a row a service is marked unhealthy for
 * `cooldownSeconds`; once the cooldown is over it gets trial traffic again (as degraded), and one
 * success makes it healthy. This is outlier ejection as Envoy and LiteLLM do it (see `PassiveHealth`).
 */
export interface OutlierPolicy {
  failureThreshold: number;
  cooldownSeconds: number;
}
export const DEFAULT_OUTLIER_POLICY: OutlierPolicy = { failureThreshold: 5, cooldownSeconds: 30 };

/** Health as routing should treat it right now: an expired cooldown turns unhealthy into degraded. */
export function effectiveHealth(service: Service, now: Date): HealthState {
  if (service.health !== 'unhealthy') return service.health;
  if (service.cooldownUntil !== undefined && Date.parse(service.cooldownUntil) <= now.getTime())
    return 'degraded';
  return 'unhealthy';
}

/**
 * Enabled services that `accepts` admits: healthy ones, or degraded ones only when no healthy
 * service is admitted. Unhealthy services are never returned.
 */
export function eligibleServices(
  services: readonly Service[],
  accepts: (service: Service) => boolean,
  now: Date,
): Service[] {
  const capable = services.filter((s) => s.enabled && accepts(s));
  const healthy = capable.filter((s) => effectiveHealth(s, now) === 'healthy');
  if (healthy.length > 0) return healthy;
  return capable.filter((s) => effectiveHealth(s, now) === 'degraded');
}
