/**
 * Artifacts: outputs too large to travel inline, kept in an object store and passed by reference.
 * A reference is the JSON object `{ "artifact": { id, uri, bytes, sha256, mimeType } }`, wherever
 * it sits in parameters or outputs. Records, step outputs and workflow state carry references;
 * a factory receives each referenced input with a presigned GET `url` added, and may upload its own
 * large output through the presigned PUT it is offered and answer with the reference.
 */
import * as z from 'zod';
import { type FieldIssue, NotFoundError, ValidationError } from './errors.ts';
import type { FactoryCaller, FactoryCallResult, FactoryRequest } from './factory-call.ts';
import { jsonBytes, LIMITS, overLimitMessage } from './limits.ts';

export const artifactIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be an artifact id (a UUID)');

export const artifactRefSchema = z.object({
  id: artifactIdSchema,
  uri: z.string().min(1).max(2_048),
  bytes: z.number().int().min(0).max(LIMITS.artifact.bytes),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  mimeType: z
    .string()
    .max(255)
    .regex(/^[\w.+-]+\/[\w.+-]+(;.*)?$/, 'must be a media type such as image/png'),
});

/** What a stored artifact is. */
export type ArtifactRef = z.output<typeof artifactRefSchema>;

/** A reference as a factory receives it: with a short-lived presigned GET URL. */
export type ArtifactInput = ArtifactRef & { url: string };

/** Where a factory may upload its own large output (one object per call). */
export interface UploadOffer {
  /** Presigned PUT: send the bytes with their Content-Type. */
  url: string;
  method: 'PUT';
  artifact: { id: string; uri: string };
  expiresAt: string;
  maxBytes: number;
}

/** The object store behind artifacts (S3, or an S3-compatible server locally). */
export interface ArtifactStore {
  newId(): string;
  /** Stores bytes as a new artifact. */
  put(body: Uint8Array, mimeType: string): Promise<ArtifactRef>;
  /** The stored artifact, or undefined when there is none. `sha256` is '' for an unsealed upload. */
  describe(id: string): Promise<ArtifactRef | undefined>;
  /** Reads an upload whole (streamed), records its size and sha256, and returns its reference. */
  seal(id: string): Promise<ArtifactRef | undefined>;
  /** The content, refused past `maxBytes`. */
  read(id: string, maxBytes: number): Promise<Uint8Array>;
  downloadUrl(id: string): Promise<string>;
  uploadOffer(id: string): Promise<UploadOffer>;
}

/** A factory answered with a reference that does not hold: the call failed (a callback gets 422). */
export class ArtifactReferenceError extends ValidationError {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactReferenceError';
  }
}

/** True for an object shaped like a reference: its only key is `artifact`, holding an object. */
export function isReference(value: unknown): value is { artifact: Record<string, unknown> } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const inner = (value as { artifact?: unknown }).artifact;
  return (
    keys.length === 1 &&
    keys[0] === 'artifact' &&
    inner !== null &&
    typeof inner === 'object' &&
    !Array.isArray(inner)
  );
}

/** `value` with every reference replaced by what `replace` makes of it (a copy; `value` is untouched). */
async function mapReferences(
  value: unknown,
  replace: (ref: Record<string, unknown>, field: string) => Promise<unknown>,
  field = '',
): Promise<unknown> {
  if (isReference(value)) return { artifact: await replace(value.artifact, field) };
  if (Array.isArray(value))
    return Promise.all(value.map((item, i) => mapReferences(item, replace, `${field}.${i}`)));
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(
        async ([key, item]) =>
          [key, await mapReferences(item, replace, field ? `${field}.${key}` : key)] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** A stored artifact with its size and sha256, an upload being read and sealed on first sight. */
async function knownArtifact(store: ArtifactStore, id: string): Promise<ArtifactRef | undefined> {
  const described = await store.describe(id);
  return described?.sha256 ? described : store.seal(id);
}

/**
 * Why `output` cannot be kept as it is: over the inline limit, which only happens when no artifact
 * store kept it by reference on the way. Undefined when it can.
 */
export function inlineRefusal(output: unknown): string | undefined {
  const bytes = jsonBytes(output);
  return bytes > LIMITS.inlineOutput.bytes
    ? `${overLimitMessage('inlineOutput', bytes)}, and no artifact store is configured`
    : undefined;
}

/**
 * The artifacts a task or run input references, checked against the store: each reference needs
 * only its `id`; every other field given must match what is stored, and the reference is completed
 * from the store. Unknown artifacts are refused (422) naming the field.
 */
export async function resolveInputReferences<T>(value: T, store: ArtifactStore, what: string): Promise<T> {
  const issues: FieldIssue[] = [];
  const resolved = await mapReferences(value, async (ref, field) => {
    const path = `${what}.${field}.artifact`;
    const id = artifactIdSchema.safeParse(ref.id);
    if (!id.success) {
      issues.push({ field: `${path}.id`, message: id.error.issues[0]?.message ?? 'must be an artifact id' });
      return ref;
    }
    const known = await knownArtifact(store, id.data);
    if (!known) {
      issues.push({ field: `${path}.id`, message: `artifact '${id.data}' not found` });
      return ref;
    }
    for (const key of ['uri', 'bytes', 'sha256', 'mimeType'] as const) {
      if (ref[key] !== undefined && ref[key] !== known[key])
        issues.push({
          field: `${path}.${key}`,
          message: `does not match the stored artifact (${known[key]})`,
        });
    }
    return known;
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return resolved as T;
}

/** `value` with a presigned GET `url` added to every reference, for the factory that reads it. */
export function withDownloadUrls<T>(value: T, store: ArtifactStore): Promise<T> {
  return mapReferences(value, async (ref) => {
    const { url: _old, ...rest } = ref;
    return typeof rest.id === 'string' ? { ...rest, url: await store.downloadUrl(rest.id) } : rest;
  }) as Promise<T>;
}

/**
 * What is kept of a factory's output: every reference in it must name a stored artifact whose size
 * and sha256 match (an upload is read and sealed on first sight), and the output as a whole, when
 * its JSON is above the inline limit, is stored as an `application/json` artifact and replaced by
 * its reference. Throws ArtifactReferenceError for a reference that does not hold.
 */
export async function keepOutput(output: unknown, store: ArtifactStore): Promise<unknown> {
  const checked = await mapReferences(output ?? null, async (ref, field) => {
    const where = field ? ` at '${field}'` : '';
    const claimed = artifactRefSchema.omit({ uri: true }).partial({ mimeType: true }).safeParse(ref);
    if (!claimed.success) {
      const issue = claimed.error.issues[0];
      throw new ArtifactReferenceError(
        `artifact reference${where}: ${issue?.path.join('.') || 'artifact'} ${issue?.message ?? 'is invalid'}`,
      );
    }
    const stored = await knownArtifact(store, claimed.data.id);
    if (!stored)
      throw new ArtifactReferenceError(`artifact reference${where}: '${claimed.data.id}' was never uploaded`);
    if (stored.bytes !== claimed.data.bytes || stored.sha256 !== claimed.data.sha256) {
      throw new ArtifactReferenceError(
        `artifact reference${where}: '${stored.id}' holds ${stored.bytes} bytes with sha256 ${stored.sha256}, not ${claimed.data.bytes} bytes with sha256 ${claimed.data.sha256}`,
      );
    }
    return stored;
  });
  if (jsonBytes(checked) <= LIMITS.inlineOutput.bytes) return checked;
  const ref = await store.put(new TextEncoder().encode(JSON.stringify(checked)), 'application/json');
  return { artifact: ref };
}

/**
 * The factory caller with artifacts: referenced inputs get presigned GET URLs, each call is offered
 * an upload, and what the factory answers is kept as {@link keepOutput} says. The store's own
 * failures are thrown (the invocation fails and its message is delivered again); a reference that
 * does not hold fails the call, like any wrong answer.
 */
export class ArtifactCalls implements FactoryCaller {
  readonly #inner: FactoryCaller;
  readonly #store: ArtifactStore;
  constructor(inner: FactoryCaller, store: ArtifactStore) {
    this.#inner = inner;
    this.#store = store;
  }

  async execute(endpoint: string, request: FactoryRequest, timeoutMs: number): Promise<FactoryCallResult> {
    const [parameters, upload] = await Promise.all([
      withDownloadUrls(request.parameters, this.#store),
      this.#store.uploadOffer(this.#store.newId()),
    ]);
    const result = await this.#inner.execute(endpoint, { ...request, parameters, upload }, timeoutMs);
    if (!result.ok || result.accepted) return result;
    try {
      return { ...result, output: await keepOutput(result.output, this.#store) };
    } catch (error) {
      if (!(error instanceof ArtifactReferenceError)) throw error;
      return {
        ok: false,
        error: { kind: 'error', message: error.message },
        retryable: false,
        latencyMs: result.latencyMs,
      };
    }
  }
}

/** The reference of a stored artifact, for the API (404 when unknown). */
export async function describeArtifact(store: ArtifactStore, id: string): Promise<ArtifactRef> {
  const parsed = artifactIdSchema.safeParse(id);
  const found = parsed.success ? await store.describe(parsed.data) : undefined;
  if (!found) throw new NotFoundError('artifact', id);
  return found;
}
