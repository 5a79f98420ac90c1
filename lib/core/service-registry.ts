import * as z from 'zod';
import { endpointRefusal } from './endpoint-policy.ts';
import { NotFoundError, ValidationError } from './errors.ts';
import { identifier } from './names.ts';
import {
  type HealthState,
  healthState,
  type Service,
  type ServiceInput,
  type ServicePatch,
  serviceInputSchema,
  servicePatchSchema,
} from './service.ts';
import { parseInput } from './validation.ts';

export interface ServiceRegistryPorts {
  putService(service: Service, expectedVersion: number | undefined): Promise<void>;
  getService(name: string): Promise<Service | undefined>;
  listServices(): Promise<Service[]>;
  setServiceHealth(
    name: string,
    health: HealthState,
    reason: string | undefined,
    now: Date,
  ): Promise<Service>;
  now(): Date;
}

/** Registration and health of the factory services the router sends work to. */
export class ServiceRegistry {
  readonly #ports: ServiceRegistryPorts;
  readonly #allowedEndpoints: readonly string[];

  /** @param options.allowedEndpoints private hosts, IPs or CIDRs that endpoints may use anyway (see {@link endpointRefusal}). */
  constructor(ports: ServiceRegistryPorts, options: { allowedEndpoints?: readonly string[] } = {}) {
    this.#ports = ports;
    this.#allowedEndpoints = options.allowedEndpoints ?? [];
  }

  /** Registers a new service; 409 if the name is taken. */
  async register(input: ServiceInput): Promise<Service> {
    const parsed = parseInput(serviceInputSchema, input, 'service');
    this.#checkEndpoint(parsed.endpoint);
    const service: Service = {
      ...parsed,
      load: 0,
      version: 1,
      updatedAt: this.#ports.now().toISOString(),
    };
    await this.#ports.putService(service, undefined);
    return service;
  }

  /** Changes registered fields; with `expectedVersion` the update is refused (409) if someone changed it since. */
  async update(name: string, patch: ServicePatch, expectedVersion?: number): Promise<Service> {
    const changes = parseInput(servicePatchSchema, patch, 'service');
    if (Object.keys(changes).length === 0)
      throw new ValidationError('service: must change at least one field');
    if (changes.endpoint !== undefined) this.#checkEndpoint(changes.endpoint);
    const current = await this.get(name);
    const version =
      expectedVersion === undefined
        ? current.version
        : parseInput(z.number().int().min(1), expectedVersion, 'version');
    const next: Service = {
      ...current,
      ...changes,
      version: version + 1,
      updatedAt: this.#ports.now().toISOString(),
    };
    await this.#ports.putService(next, version);
    return next;
  }

  #checkEndpoint(endpoint: string): void {
    const refusal = endpointRefusal(endpoint, this.#allowedEndpoints);
    if (refusal)
      throw new ValidationError([
        { field: 'endpoint', message: `${refusal}; add it to the allow-list to use it` },
      ]);
  }

  async get(name: string): Promise<Service> {
    const key = parseInput(identifier, name, 'name');
    const service = await this.#ports.getService(key);
    if (!service) throw new NotFoundError('service', key);
    return service;
  }

  async list(): Promise<Service[]> {
    return (await this.#ports.listServices()).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Sets health explicitly (from a probe or an operator). */
  async setHealth(name: string, health: HealthState, reason?: string): Promise<Service> {
    const key = parseInput(identifier, name, 'name');
    const state = parseInput(healthState, health, 'health');
    const note = reason === undefined ? undefined : parseInput(z.string().max(500), reason, 'reason');
    return this.#ports.setServiceHealth(key, state, note, this.#ports.now());
  }
}
