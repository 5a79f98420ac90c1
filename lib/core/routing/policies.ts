import * as z from 'zod';
import { NotFoundError } from '../errors.ts';
import type { Suggestion } from '../self-improvement.ts';
import { parseInput } from '../validation.ts';
import { type RoutingPolicy, routingPolicySchema } from './policy.ts';
import { policyForSuggestion } from './suggested-policy.ts';

/** Who changes the routing policy, and why: every version and switch keeps it. */
const author = {
  changedBy: z.string().trim().min(1).max(200),
  reason: z.string().trim().min(1).max(2_000).optional(),
};

/** `PUT /routing/policy`: a whole policy (defaults filled in), stored as a new version. */
export const policyChangeSchema = z
  .object({
    policy: routingPolicySchema,
    ...author,
    /** Make it the active version at once; otherwise it stays a draft. */
    activate: z.boolean().default(false),
  })
  .strict();
export type PolicyChangeInput = z.input<typeof policyChangeSchema>;

export const policyActivationSchema = z.object(author).strict();

/** One stored version of the routing policy, with who made it and why. */
export interface StoredPolicyVersion {
  version: number;
  policy: RoutingPolicy;
  createdBy: string;
  reason?: string | undefined;
  createdAt: string;
  /** The accepted suggestion this version embodies, when it came from one. */
  suggestionId?: string | undefined;
  /** Each time this version was made the active one. */
  activations: Array<{ at: string; by: string }>;
}

/** A stored version as the API shows it: whether it is the active one. */
export interface PolicyVersionView extends StoredPolicyVersion {
  active: boolean;
}

/** The policy in force: version 0 is the built-in one, in force until a version is activated. */
export interface ActivePolicyView {
  version: number;
  policy: RoutingPolicy;
  source: 'built-in' | 'stored';
  activatedAt?: string | undefined;
  activatedBy?: string | undefined;
}

export interface PolicyPorts {
  builtIn: RoutingPolicy;
  addVersion(fields: {
    policy: RoutingPolicy;
    createdBy: string;
    reason?: string | undefined;
    createdAt: string;
    suggestionId?: string | undefined;
  }): Promise<StoredPolicyVersion>;
  getVersion(version: number): Promise<StoredPolicyVersion | undefined>;
  listVersions(): Promise<StoredPolicyVersion[]>;
  pointer(): Promise<{ version: number; activatedAt: string; activatedBy: string } | undefined>;
  /**
   * Switches to `version` if the active one is still `expected`: a `ConflictError` otherwise, a
   * `NotFoundError` for a version never stored (0, the built-in policy, always exists).
   */
  activate(version: number, by: string, at: string, expected: number): Promise<unknown>;
  now(): Date;
}

/**
 * Versioned routing policies: a change is validated and stored as a new version, a draft until a
 * person activates it; activating an older version is the rollback. Workers read the active one
 * through a short cache (see `lib/wiring/routing.ts`).
 */
export class RoutingPolicies {
  readonly #ports: PolicyPorts;

  constructor(ports: PolicyPorts) {
    this.#ports = ports;
  }

  async active(): Promise<ActivePolicyView> {
    const pointer = await this.#ports.pointer();
    if (!pointer || pointer.version === 0) {
      return {
        version: 0,
        policy: this.#ports.builtIn,
        source: 'built-in',
        activatedAt: pointer?.activatedAt,
        activatedBy: pointer?.activatedBy,
      };
    }
    const stored = await this.#ports.getVersion(pointer.version);
    if (!stored) throw new NotFoundError('routing policy version', String(pointer.version));
    return {
      version: stored.version,
      policy: stored.policy,
      source: 'stored',
      activatedAt: pointer.activatedAt,
      activatedBy: pointer.activatedBy,
    };
  }

  /** Stores a new version (and activates it when asked); `suggestionId` links it to its suggestion. */
  async change(input: unknown, suggestionId?: string): Promise<PolicyVersionView> {
    const change = parseInput(policyChangeSchema, input, 'body');
    const expected = (await this.#ports.pointer())?.version ?? 0;
    const now = this.#ports.now().toISOString();
    const stored = await this.#ports.addVersion({
      policy: change.policy,
      createdBy: change.changedBy,
      reason: change.reason,
      createdAt: now,
      suggestionId,
    });
    if (!change.activate) return { ...stored, active: false };
    await this.#ports.activate(stored.version, change.changedBy, now, expected);
    return { ...stored, activations: [{ at: now, by: change.changedBy }], active: true };
  }

  /** Every stored version, newest first, with the active one marked. */
  async list(): Promise<{ active: number; versions: PolicyVersionView[] }> {
    const [pointer, versions] = await Promise.all([this.#ports.pointer(), this.#ports.listVersions()]);
    const active = pointer?.version ?? 0;
    return { active, versions: versions.map((v) => ({ ...v, active: v.version === active })) };
  }

  async get(version: number): Promise<PolicyVersionView> {
    if (version === 0) {
      const pointer = await this.#ports.pointer();
      return {
        version: 0,
        policy: this.#ports.builtIn,
        createdBy: 'built-in',
        createdAt: new Date(0).toISOString(),
        activations: [],
        active: (pointer?.version ?? 0) === 0,
      };
    }
    const stored = await this.#ports.getVersion(version);
    if (!stored) throw new NotFoundError('routing policy version', String(version));
    const pointer = await this.#ports.pointer();
    return { ...stored, active: pointer?.version === version };
  }

  /** Makes `version` active (0: back to the built-in policy). */
  async activate(version: number, input: unknown): Promise<ActivePolicyView> {
    const who = parseInput(policyActivationSchema, input, 'body');
    const expected = (await this.#ports.pointer())?.version ?? 0;
    await this.#ports.activate(version, who.changedBy, this.#ports.now().toISOString(), expected);
    return this.active();
  }

  /**
   * An accepted routing suggestion as a draft version made from the active policy, linked to the
   * suggestion (see `policyForSuggestion`); undefined for a suggestion that is not about routing.
   */
  async draftFor(suggestion: Suggestion, decidedBy: string): Promise<number | undefined> {
    const policy = policyForSuggestion((await this.active()).policy, suggestion);
    if (!policy) return undefined;
    const draft = await this.change(
      {
        policy,
        changedBy: decidedBy,
        reason: `from suggestion ${suggestion.id}: ${suggestion.proposedAction.description}`.slice(0, 2_000),
      },
      suggestion.id,
    );
    return draft.version;
  }
}
