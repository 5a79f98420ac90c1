import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../core/errors.ts';
import type { StoredPolicyVersion } from '../core/routing/policies.ts';
import type { ActivePolicy } from '../core/routing/policy.ts';
import { IF_ABSENT, type Item, stripKeys, Table } from './dynamo.ts';
import { registryKeys, VERSION_PREFIX } from './keys.ts';

/** One stored version of the routing policy, with who made it and why. */
export type PolicyVersion = StoredPolicyVersion;

/** Which version is active, since when and by whom. */
export interface PolicyPointer {
  version: number;
  activatedAt: string;
  activatedBy: string;
  /** The version it replaced (0: the built-in policy). */
  previous: number;
}

/**
 * Routing policy versions in the registry table: `ROUTING_POLICY` / `V#<version>` items, written
 * once each (a conditional put, so two writers racing for a number cannot both have it), and
 * `ROUTING_POLICY` / `ACTIVE`, the pointer routing reads. Rolling back is pointing at an older version.
 */
export class PolicyStore {
  readonly #table: Table;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#table = new Table(doc, options.table);
  }

  /** Stores `policy` as the version after the latest; a lost race for the number is a conflict. */
  async addVersion(fields: Omit<PolicyVersion, 'version' | 'activations'>): Promise<PolicyVersion> {
    const latest = await this.latestVersion();
    const version: PolicyVersion = { ...fields, version: latest + 1, activations: [] };
    await this.#table.putOrConflict(
      { ...registryKeys.policyVersion(version.version), ...version },
      IF_ABSENT,
      `routing policy version ${version.version} was just stored by another change: read the policies and try again`,
    );
    return version;
  }

  async getVersion(version: number): Promise<PolicyVersion | undefined> {
    const item = await this.#table.get(registryKeys.policyVersion(version), { consistent: true });
    return item && toVersion(item);
  }

  /** Every version, newest first. */
  async listVersions(): Promise<PolicyVersion[]> {
    const items = await this.#table.queryPartition(registryKeys.policies, {
      prefix: VERSION_PREFIX,
      consistent: true,
    });
    return items.map(toVersion).sort((a, b) => b.version - a.version);
  }

  async latestVersion(): Promise<number> {
    const [newest] = await this.#table.query(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': registryKeys.policies, ':prefix': VERSION_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      1,
    );
    return newest ? Number(newest.version) : 0;
  }

  async pointer(options: { consistent?: boolean } = {}): Promise<PolicyPointer | undefined> {
    const item = await this.#table.get(registryKeys.activePolicy(), options);
    return item && stripKeys<PolicyPointer>(item);
  }

  /**
   * The active version and its policy, or undefined while none was ever activated. One read of
   * the pointer and one of the version: routing caches the result for a few seconds.
   */
  async active(): Promise<ActivePolicy | undefined> {
    const pointer = await this.pointer();
    if (!pointer) return undefined;
    const version = await this.getVersion(pointer.version);
    return version && { version: version.version, policy: version.policy };
  }

  /**
   * Makes `version` the active one, if the active one is still `expected` (what the caller read:
   * two people switching at once cannot both win unseen). 404 for a version never stored;
   * version 0 is the built-in policy.
   */
  async activate(version: number, by: string, at: string, expected: number): Promise<PolicyPointer> {
    if (version !== 0 && !(await this.getVersion(version)))
      throw new NotFoundError('routing policy version', String(version));
    const pointer: PolicyPointer = { version, activatedAt: at, activatedBy: by, previous: expected };
    const switched = await this.#table.put(
      { ...registryKeys.activePolicy(), ...pointer },
      {
        ConditionExpression:
          expected === 0 ? 'attribute_not_exists(pk) OR #version = :expected' : '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expected },
      },
    );
    if (!switched) {
      throw new ConflictError(
        `the active routing policy changed since version ${expected} was read: read it again and retry`,
      );
    }
    // The history of the version: kept on the version itself, after the switch (the switch is what counts).
    if (version === 0) return pointer;
    await this.#table.updateIf(registryKeys.policyVersion(version), {
      UpdateExpression: 'SET #activations = list_append(if_not_exists(#activations, :none), :one)',
      ExpressionAttributeNames: { '#activations': 'activations' },
      ExpressionAttributeValues: { ':none': [], ':one': [{ at, by }] },
    });
    return pointer;
  }
}

function toVersion(item: Item): PolicyVersion {
  const version = stripKeys<PolicyVersion>(item);
  return { ...version, activations: version.activations ?? [] };
}
