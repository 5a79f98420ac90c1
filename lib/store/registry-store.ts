import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../core/errors.ts';
import type { Module } from '../core/modules.ts';
import type { HealthChange } from '../core/passive-health.ts';
import type { HealthState, Service } from '../core/service.ts';
import { attempt, conditionally, type Item, isConditionFailure, queryAll, stripKeys } from './dynamo.ts';

/**
 * The registry table: services under `SERVICE` / `<name>` and modules under `MODULE` / `<name>`.
 * The registry is small (tens to hundreds of entries), so each kind lives in one partition and a
 * list is one query. Partial updates bump `version` too, so a whole-record update that read an
 * older copy fails instead of undoing them.
 */
export class RegistryStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#doc = doc;
    this.#table = options.table;
  }

  // Services

  /** Creates (`expectedVersion` undefined) or replaces a service. */
  async putService(service: Service, expectedVersion: number | undefined): Promise<void> {
    await this.#put('SERVICE', service.name, service, expectedVersion, 'service');
  }

  async getService(name: string): Promise<Service | undefined> {
    return this.#get<Service>('SERVICE', name);
  }

  async listServices(): Promise<Service[]> {
    return this.#list<Service>('SERVICE');
  }

  async deleteService(name: string): Promise<void> {
    await this.#doc.send(new DeleteCommand({ TableName: this.#table, Key: { pk: 'SERVICE', sk: name } }));
  }

  /** Sets health explicitly (a probe or an operator); clears any passive-ejection cooldown. */
  async setServiceHealth(
    name: string,
    health: HealthState,
    reason: string | undefined,
    now: Date,
  ): Promise<Service> {
    return this.#update<Service>('SERVICE', name, 'service', {
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
    return this.#update<Service>('SERVICE', change.service, 'service', {
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
    await this.#put('MODULE', module.name, module, expectedVersion, 'module');
  }

  async getModule(name: string): Promise<Module | undefined> {
    return this.#get<Module>('MODULE', name);
  }

  async listModules(): Promise<Module[]> {
    return this.#list<Module>('MODULE');
  }

  async deleteModule(name: string, expectedVersion: number): Promise<void> {
    await conditionally(
      () =>
        this.#doc.send(
          new DeleteCommand({
            TableName: this.#table,
            Key: { pk: 'MODULE', sk: name },
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': expectedVersion },
          }),
        ),
      `module '${name}' changed since version ${expectedVersion}`,
    );
  }

  pin(name: string): Promise<boolean> {
    return attempt(() =>
      this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: 'MODULE', sk: name },
          UpdateExpression: 'ADD pins :one, version :one',
          ConditionExpression: 'enabled = :true',
          ExpressionAttributeValues: { ':one': 1, ':true': true },
        }),
      ),
    );
  }

  async unpin(name: string): Promise<void> {
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: 'MODULE', sk: name },
        UpdateExpression: 'ADD pins :minus, version :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':minus': -1, ':one': 1 },
      }),
    );
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
    await this.#update<Module>('MODULE', name, 'module', {
      UpdateExpression: 'SET health = :h, updatedAt = :now ADD version :one',
      ExpressionAttributeValues: { ':h': health, ':now': now.toISOString(), ':one': 1 },
    });
  }

  #setEnabled(name: string, enabled: boolean, condition: string, values: Item): Promise<boolean> {
    return attempt(() =>
      this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: 'MODULE', sk: name },
          UpdateExpression: 'SET enabled = :to, updatedAt = :now ADD version :one',
          ConditionExpression: condition,
          ExpressionAttributeValues: {
            ...values,
            ':to': enabled,
            ':now': new Date().toISOString(),
            ':one': 1,
          },
        }),
      ),
    );
  }

  // Shared

  async #put(
    pk: string,
    name: string,
    record: object,
    expectedVersion: number | undefined,
    kind: string,
  ): Promise<void> {
    await conditionally(
      () =>
        this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: { ...record, pk, sk: name },
            ...(expectedVersion === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: 'version = :v',
                  ExpressionAttributeValues: { ':v': expectedVersion },
                }),
          }),
        ),
      expectedVersion === undefined
        ? `${kind} '${name}' already exists`
        : `${kind} '${name}' changed since version ${expectedVersion}; read it again`,
    );
  }

  async #get<T>(pk: string, name: string): Promise<T | undefined> {
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { pk, sk: name } }));
    return Item ? stripKeys<T>(Item) : undefined;
  }

  async #list<T>(pk: string): Promise<T[]> {
    const items = await queryAll(this.#doc, {
      TableName: this.#table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
    return items.map((item) => stripKeys<T>(item));
  }

  /** An update of an existing record; NotFoundError when there is none. Returns the record after it. */
  async #update<T>(
    pk: string,
    name: string,
    kind: string,
    expression: {
      UpdateExpression: string;
      ExpressionAttributeValues: Item;
      ExpressionAttributeNames?: Record<string, string>;
    },
  ): Promise<T> {
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk, sk: name },
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_NEW',
          ...expression,
        }),
      );
      return stripKeys<T>(Attributes as Item);
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError(kind, name);
      throw error;
    }
  }
}
