import * as z from 'zod';
import { ConflictError, NotFoundError, ValidationError } from './errors.ts';
import { findCycle } from './graph.ts';
import { identifier } from './names.ts';
import { type HealthState, healthState } from './service.ts';
import { parseInput } from './validation.ts';

export const moduleInputSchema = z
  .object({
    name: identifier,
    category: identifier,
    description: z.string().max(1_000).default(''),
    dependencies: z
      .array(identifier)
      .max(50)
      .default([])
      .refine((deps) => new Set(deps).size === deps.length, 'must not repeat a module'),
    enabled: z.boolean().default(false),
    health: healthState.default('healthy'),
  })
  .strict();
export type ModuleInput = z.input<typeof moduleInputSchema>;

/** A registered module. `pins` counts enabled dependents: while it is above zero the module cannot be disabled. */
export interface Module extends Omit<z.output<typeof moduleInputSchema>, 'enabled'> {
  enabled: boolean;
  pins: number;
  version: number;
  updatedAt: string;
}

/**
 * Storage primitives for the registry, each a single-item conditional write, so the dependency
 * rules hold under concurrency without transactions:
 * - enabling A first pins each dependency (an atomic +1 that succeeds only while it is enabled),
 * - disabling B succeeds only while B has no pins.
 * An enabled module therefore always holds a pin on each dependency, and a pinned module cannot
 * be disabled.
 */
/** Totals for a dashboard: modules, enabled, and health of the enabled ones. */
export interface ModuleHealthSummary {
  totalModules: number;
  enabled: number;
  disabled: number;
  healthy: number;
  degraded: number;
  unhealthy: number;
}

export interface ModulePorts {
  listModules(): Promise<Module[]>;
  getModule(name: string): Promise<Module | undefined>;
  /** Creates (expectedVersion undefined) or replaces a module; ConflictError if the version moved or it exists. */
  putModule(module: Module, expectedVersion: number | undefined): Promise<void>;
  deleteModule(name: string, expectedVersion: number): Promise<void>;
  /** +1 pin if the module is enabled; returns false when it is disabled or missing. */
  pin(name: string): Promise<boolean>;
  unpin(name: string): Promise<void>;
  /** enabled: false -> true; returns false if it was not disabled. */
  markEnabled(name: string): Promise<boolean>;
  /** enabled: true -> false, only while unpinned; returns false if either does not hold. */
  markDisabledIfUnpinned(name: string): Promise<boolean>;
  setModuleHealth(name: string, health: HealthState): Promise<void>;
  now(): Date;
}

/** The module registry: categories, dependency-respecting enable/disable, health. */
export class ModuleManager {
  readonly #ports: ModulePorts;
  constructor(ports: ModulePorts) {
    this.#ports = ports;
  }

  /**
   * Registers or updates a module. Dependencies must exist and must not form a cycle. An enabled
   * module's dependencies cannot change (disable it first). Registering as enabled needs every
   * dependency enabled; if that fails the registration is undone.
   */
  async register(input: ModuleInput): Promise<Module> {
    const parsed = parseInput(moduleInputSchema, input, 'module');
    const all = await this.#ports.listModules();
    const existing = all.find((m) => m.name === parsed.name);
    const known = new Set(all.map((m) => m.name));
    const unknown = parsed.dependencies
      .map((dep, i) => ({ dep, i }))
      .filter(({ dep }) => dep !== parsed.name && !known.has(dep));
    if (unknown.length > 0) {
      throw new ValidationError(
        unknown.map(({ dep, i }) => ({ field: `dependencies.${i}`, message: `unknown module '${dep}'` })),
      );
    }
    const graph = new Map(all.map((m) => [m.name, m.dependencies]));
    graph.set(parsed.name, parsed.dependencies);
    const cycle = dependencyCycle(graph);
    if (cycle)
      throw new ValidationError([
        { field: 'dependencies', message: `dependency cycle: ${cycle.join(' -> ')}` },
      ]);

    const now = this.#ports.now().toISOString();
    if (existing) {
      if (existing.enabled && !sameMembers(existing.dependencies, parsed.dependencies)) {
        throw new ConflictError(
          `module '${parsed.name}' is enabled: disable it before changing its dependencies`,
        );
      }
      const next: Module = {
        ...existing,
        category: parsed.category,
        description: parsed.description,
        dependencies: parsed.dependencies,
        health: parsed.health,
        version: existing.version + 1,
        updatedAt: now,
      };
      await this.#ports.putModule(next, existing.version);
      return parsed.enabled === existing.enabled
        ? next
        : parsed.enabled
          ? this.enable(next.name)
          : this.disable(next.name);
    }

    const created: Module = { ...parsed, enabled: false, pins: 0, version: 1, updatedAt: now };
    await this.#ports.putModule(created, undefined);
    if (!parsed.enabled) return created;
    try {
      return await this.enable(created.name);
    } catch (error) {
      await this.#ports.deleteModule(created.name, created.version);
      throw error;
    }
  }

  /** All modules, optionally of one category, optionally enabled only, by name. */
  /** Modules by name, optionally of one category, or only the enabled (or disabled) ones. */
  async list(
    filter: { category?: string | undefined; enabled?: boolean | undefined } = {},
  ): Promise<Module[]> {
    const category =
      filter.category === undefined ? undefined : parseInput(identifier, filter.category, 'category');
    return (await this.#ports.listModules())
      .filter(
        (m) =>
          (category === undefined || m.category === category) &&
          (filter.enabled === undefined || m.enabled === filter.enabled),
      )
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Modules grouped by category. */
  async byCategory(): Promise<Partial<Record<string, Module[]>>> {
    return Object.groupBy(await this.list(), (m) => m.category);
  }

  async status(name: string): Promise<Module & { dependents: string[] }> {
    const key = parseInput(identifier, name, 'name');
    const all = await this.#ports.listModules();
    const module = all.find((m) => m.name === key);
    if (!module) throw new NotFoundError('module', key);
    return {
      ...module,
      dependents: all
        .filter((m) => m.dependencies.includes(key))
        .map((m) => m.name)
        .sort(),
    };
  }

  /** Enables a module; refused (409, naming it) while a dependency is disabled. Enabling an enabled module is a no-op. */
  async enable(name: string): Promise<Module> {
    const module = await this.#get(name);
    if (module.enabled) return module;
    const pinned: string[] = [];
    for (const dep of module.dependencies) {
      if (await this.#ports.pin(dep)) {
        pinned.push(dep);
        continue;
      }
      await Promise.all(pinned.map((p) => this.#ports.unpin(p)));
      throw new ConflictError(`cannot enable '${module.name}': dependency '${dep}' is disabled`);
    }
    if (!(await this.#ports.markEnabled(module.name))) {
      // Someone else enabled it meanwhile and holds pins of their own: give ours back.
      await Promise.all(pinned.map((p) => this.#ports.unpin(p)));
    }
    return this.#get(module.name);
  }

  /**
   * Disables a module; refused (409) while an enabled module depends on it, with the message
   * naming them: "Required by email-ai, finance-ai". Disabling a disabled module is a no-op.
   */
  async disable(name: string): Promise<Module> {
    const module = await this.#get(name);
    if (!module.enabled) return module;
    if (await this.#ports.markDisabledIfUnpinned(module.name)) {
      await Promise.all(module.dependencies.map((dep) => this.#ports.unpin(dep)));
      return this.#get(module.name);
    }
    const now = await this.#get(module.name);
    if (!now.enabled) return now;
    const dependents = (await this.#ports.listModules())
      .filter((m) => m.enabled && m.dependencies.includes(module.name))
      .map((m) => m.name)
      .sort();
    throw new ConflictError(
      dependents.length > 0
        ? `Required by ${dependents.join(', ')}`
        : `'${module.name}' is being enabled as a dependency right now; try again`,
    );
  }

  async setHealth(name: string, health: HealthState): Promise<Module> {
    const module = await this.#get(name);
    await this.#ports.setModuleHealth(module.name, parseInput(healthState, health, 'health'));
    return this.#get(module.name);
  }

  /** Totals for a dashboard: modules, enabled, and health of the enabled ones. */
  async healthSummary(): Promise<ModuleHealthSummary> {
    const all = await this.#ports.listModules();
    const enabled = all.filter((m) => m.enabled);
    const count = (h: HealthState) => enabled.filter((m) => m.health === h).length;
    return {
      totalModules: all.length,
      enabled: enabled.length,
      disabled: all.length - enabled.length,
      healthy: count('healthy'),
      degraded: count('degraded'),
      unhealthy: count('unhealthy'),
    };
  }

  async #get(name: string): Promise<Module> {
    const key = parseInput(identifier, name, 'name');
    const module = await this.#ports.getModule(key);
    if (!module) throw new NotFoundError('module', key);
    return module;
  }
}

/**
 * A dependency cycle among modules (name -> dependencies) as a closed path, or undefined. The
 * walk starts from the alphabetically first module, so the same registry names the same cycle.
 */
export function dependencyCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  return findCycle(new Map([...graph.keys()].sort().map((name) => [name, graph.get(name) ?? []])));
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
