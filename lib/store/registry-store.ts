import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../core/errors.ts';
import type { Module } from '../core/modules.ts';
import type { HealthChange } from '../core/passive-health.ts';
import type { HealthState, Service } from '../core/service.ts';
import { IF_PRESENT, type Item, ifVersion, type Key, stripKeys, Table, type UpdateSpec } from './dynamo.ts';
import { registryKeys } from './keys.ts';

/**
 * The registry table: services under `SERVICE` / `<name>` and modules under `MODULE` / `<name>`.
 * The registry is small (tens to hundreds of entries), so each kind lives in one partition and a
 * list is one query. Partial updates bump `version` too, so a whole-record update that read an
 * older copy fails instead of undoing them.
 */
export class RegistryStore {
  readonly #table: Table;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#table = new Table(doc, options.table);
  }

  // Services

  /** Creates (`expectedVersion` undefined) or replaces a service. */
  async putService(service: Service, expectedVersion: number | undefined): Promise<void> {
    await this.#put(registryKeys.service(service.name), service, expectedVersion, 'service');
  }

  async getService(name: string): Promise<Service | undefined> {
    return this.#get<Service>(registryKeys.service(name));
  }

  async listServices(): Promise<Service[]> {
    return this.#list<Service>(registryKeys.services);
  }

  async deleteService(name: string): Promise<void> {
    await this.#table.delete(registryKeys.service(name));
  }

  /** Sets health explicitly (a probe or an operator); clears any passive-ejection cooldown. */
  async setServiceHealth(
    name: string,
    health: HealthState,
    reason: string | undefined,
    now: Date,
  ): Promise<Service> {
    return this.#update<Service>(registryKeys.service(name), 'service', {
      UpdateExpression:
        'SET health = :h, healthReason = :r, updatedAt = :now ADD version :one REMOVE cooldownUntil',
      ExpressionAttributeValues: {
        ':h': health,
        ':r': reason ?? `set to ${health}`,
        ':now': now.toISOString(),
        ':one': 1,
      },
    });
  }

  /**
   * Records what passive health concluded: an ejection (unhealthy until `cooldownUntil`) or the
   * recovery after one. A rare write: once per ejection, not once per call.
   */
  async recordHealthChange(change: HealthChange, now: Date): Promise<Service> {
    if (change.health === 'healthy')
      return this.setServiceHealth(change.service, 'healthy', change.reason, now);
    return this.#update<Service>(registryKeys.service(change.service), 'service', {
      UpdateExpression:
        'SET health = :h, healthReason = :r, cooldownUntil = :until, updatedAt = :now ADD version :one',
      ExpressionAttributeValues: {
        ':h': 'unhealthy',
        ':r': change.reason,
        ':until': change.cooldownUntil ?? now.toISOString(),
        ':now': now.toISOString(),
        ':one': 1,
      },
    });
  }

  // Modules

  async putModule(module: Module, expectedVersion: number | undefined): Promise<void> {
    await this.#put(registryKeys.module(module.name), module, expectedVersion, 'module');
  }

  async getModule(name: string): Promise<Module | undefined> {
    return this.#get<Module>(registryKeys.module(name));
  }

  async listModules(): Promise<Module[]> {
    return this.#list<Module>(registryKeys.modules);
  }

  async deleteModule(name: string, expectedVersion: number): Promise<void> {
    if (!(await this.#table.delete(registryKeys.module(name), ifVersion(expectedVersion))))
      throw new ConflictError(`module '${name}' changed since version ${expectedVersion}`);
  }

  pin(name: string): Promise<boolean> {
    return this.#table.updateIf(registryKeys.module(name), {
      UpdateExpression: 'ADD pins :one, version :one',
      ConditionExpression: 'enabled = :true',
      ExpressionAttributeValues: { ':one': 1, ':true': true },
    });
  }

  async unpin(name: string): Promise<void> {
    if (
      !(await this.#table.updateIf(registryKeys.module(name), {
        UpdateExpression: 'ADD pins :minus, version :one',
        ...IF_PRESENT,
        ExpressionAttributeValues: { ':minus': -1, ':one': 1 },
      }))
    )
      throw new NotFoundError('module', name);
  }

  markEnabled(name: string): Promise<boolean> {
    return this.#setEnabled(name, true, 'enabled = :false', { ':false': false });
  }

  markDisabledIfUnpinned(name: string): Promise<boolean> {
    return this.#setEnabled(name, false, 'enabled = :true AND (attribute_not_exists(pins) OR pins = :zero)', {
      ':true': true,
      ':zero': 0,
    });
  }

  async setModuleHealth(name: string, health: HealthState, now: Date): Promise<void> {
    await this.#update<Module>(registryKeys.module(name), 'module', {
      UpdateExpression: 'SET health = :h, updatedAt = :now ADD version :one',
      ExpressionAttributeValues: { ':h': health, ':now': now.toISOString(), ':one': 1 },
    });
  }

  #setEnabled(name: string, enabled: boolean, condition: string, values: Item): Promise<boolean> {
    return this.#table.updateIf(registryKeys.module(name), {
      UpdateExpression: 'SET enabled = :to, updatedAt = :now ADD version :one',
      ConditionExpression: condition,
      ExpressionAttributeValues: { ...values, ':to': enabled, ':now': new Date().toISOString(), ':one': 1 },
    });
  }

  // Shared

  async #put(key: Key, record: object, expectedVersion: number | undefined, kind: string): Promise<void> {
    await this.#table.putOrConflict(
      { ...record, ...key },
      ifVersion(expectedVersion),
      expectedVersion === undefined
        ? `${kind} '${key.sk}' already exists`
        : `${kind} '${key.sk}' changed since version ${expectedVersion}; read it again`,
    );
  }

  async #get<T>(key: Key): Promise<T | undefined> {
    const item = await this.#table.get(key);
    return item ? stripKeys<T>(item) : undefined;
  }

  async #list<T>(pk: string): Promise<T[]> {
    return (await this.#table.queryPartition(pk)).map((item) => stripKeys<T>(item));
  }

  /** An update of an existing record; NotFoundError when there is none. Returns the record after it. */
  async #update<T>(key: Key, kind: string, spec: Omit<UpdateSpec, 'ConditionExpression'>): Promise<T> {
    const after = await this.#table.update(key, { ...spec, ...IF_PRESENT });
    if (!after) throw new NotFoundError(kind, key.sk);
    return stripKeys<T>(after);
  }
}
