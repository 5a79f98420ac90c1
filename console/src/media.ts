/**
 * What of an output can be shown rather than read: images, sounds and videos, inline (base64 or
 * SVG text) or kept as artifacts (`{"artifact": {id, mimeType, bytes}}`, downloaded through
 * `GET /artifacts/{id}`, which redirects to the file). Pure: it only walks the JSON.
 */

export type MediaKind = 'image' | 'audio' | 'video' | 'file';

export interface MediaItem {
  kind: MediaKind;
  /** Where the browser fetches it: a data URL, or the API's artifact route. */
  src: string;
  mimeType: string;
  /** Where in the output it was, e.g. `images.0`. */
  path: string;
  bytes?: number;
  artifactId?: string;
  /** A caption from the output (prompt, caption, title, text), when there is one. */
  label?: string;
}

export interface ArtifactRef {
  id: string;
  mimeType?: string;
  bytes?: number;
}

const MAX_DEPTH = 6;
const MAX_ITEMS = 12;

function kindOf(mimeType: string): MediaKind {
  if (/^image\/(png|jpeg|gif|webp|svg\+xml|avif)\b/i.test(mimeType)) return 'image';
  if (/^audio\//i.test(mimeType)) return 'audio';
  if (/^video\/(mp4|webm|ogg)\b/i.test(mimeType)) return 'video';
  return 'file';
}

/** The artifact reference a value is, if it is one: `{"artifact": {"id": ...}}`. */
export function artifactOf(value: unknown): ArtifactRef | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const artifact = (value as { artifact?: unknown }).artifact;
  if (typeof artifact !== 'object' || artifact === null) return undefined;
  const { id, mimeType, bytes } = artifact as { id?: unknown; mimeType?: unknown; bytes?: unknown };
  if (typeof id !== 'string') return undefined;
  return {
    id,
    ...(typeof mimeType === 'string' ? { mimeType } : {}),
    ...(typeof bytes === 'number' ? { bytes } : {}),
  };
}

export function artifactUrl(id: string): string {
  return `/artifacts/${encodeURIComponent(id)}`;
}

function labelOf(record: Record<string, unknown>): string | undefined {
  for (const key of ['caption', 'prompt', 'title', 'text', 'name']) {
    const value = record[key];
    if (typeof value === 'string' && value.trim() !== '')
      return value.length > 80 ? `${value.slice(0, 79)}…` : value;
  }
  return undefined;
}

/** Every showable item in `output`, depth first, at most 12. */
export function findMedia(output: unknown): MediaItem[] {
  const found: MediaItem[] = [];
  const visit = (
    value: unknown,
    path: string[],
    depth: number,
    inherited: Record<string, unknown> | undefined,
  ) => {
    if (found.length >= MAX_ITEMS || depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
    const artifact = artifactOf(value);
    if (artifact) {
      const mimeType = artifact.mimeType ?? 'application/octet-stream';
      found.push({
        kind: kindOf(mimeType),
        src: artifactUrl(artifact.id),
        mimeType,
        path: path.join('.'),
        artifactId: artifact.id,
        ...(artifact.bytes === undefined ? {} : { bytes: artifact.bytes }),
        ...(inherited && labelOf(inherited) ? { label: labelOf(inherited) } : {}),
      });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        visit(item, [...path, String(i)], depth + 1, undefined);
      });
      return;
    }
    const record = value as Record<string, unknown>;
    const mimeType = typeof record.mimeType === 'string' ? record.mimeType : undefined;
    const inline = mimeType ? inlineSource(record, mimeType) : undefined;
    if (mimeType && inline) {
      found.push({
        kind: kindOf(mimeType),
        src: inline,
        mimeType,
        path: path.join('.'),
        ...(typeof record.bytes === 'number' ? { bytes: record.bytes } : {}),
        ...(labelOf(record) ? { label: labelOf(record) } : {}),
      });
      return;
    }
    for (const [key, child] of Object.entries(record)) visit(child, [...path, key], depth + 1, record);
  };
  visit(output, [], 0, undefined);
  return found.filter((item) => item.kind !== 'file' || item.artifactId !== undefined);
}

/**
 * A data URL for media carried in the output itself: `data` (base64), `svg` (text), or a base64
 * string under the kind's own name (`audio`, `video`, `image`).
 */
function inlineSource(record: Record<string, unknown>, mimeType: string): string | undefined {
  if (typeof record.svg === 'string' && /svg/i.test(mimeType)) {
    return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(record.svg)}`;
  }
  for (const key of ['data', 'audio', 'video', 'image']) {
    const value = record[key];
    if (typeof value === 'string' && record.encoding === 'base64') return `data:${mimeType};base64,${value}`;
  }
  return undefined;
}

/**
 * A copy of the output for reading as JSON: long base64 strings and SVG text become a short note
 * of their size, so the text stays readable and the page light.
 */
export function readableJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    if (value.length > 256 && /^[A-Za-z0-9+/=\s]+$/.test(value.slice(0, 256))) {
      return `‹${Math.round((value.length * 3) / 4 / 1000)} KB of base64›`;
    }
    if (value.length > 2_000) return `${value.slice(0, 2_000)}… ‹${value.length} characters›`;
    return value;
  }
  if (depth > 20 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => readableJson(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readableJson(v, depth + 1)]));
}
