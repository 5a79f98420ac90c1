import type { Task } from '../task.ts';

/** At most this many keywords become features: the first distinct ones, as the submitter listed them. */
export const MAX_KEYWORD_FEATURES = 3;

/**
 * Size classes of a task's `parameters`, by the length of their JSON text (UTF-16 code units,
 * which is bytes for ASCII): `small` below 1 KiB, `large` from 16 KiB, `medium` between. A
 * prompt of a few sentences is small; a pasted document or an inline image is large.
 */
export const SMALL_PARAMETERS_BELOW = 1_024;
export const LARGE_PARAMETERS_FROM = 16_384;

export type ParametersSize = 'small' | 'medium' | 'large';

/**
 * The features of a task that may predict which service does it best, as `name=value` strings:
 * `priority=<p>`, `factoryType=<f>` when set, `keyword=<k>` for each of the first
 * {@link MAX_KEYWORD_FEATURES} distinct keywords (trimmed, lower-cased), and `size=<class>` (see
 * {@link parametersSize}). The set is small and bounded (at most six), in that order, without
 * duplicates: statistics keep counters per (task type, service, feature), so it must stay cheap.
 */
export function taskFeatures(
  task: Pick<Task, 'priority' | 'keywords' | 'factoryType' | 'parameters'>,
): string[] {
  const features = [`priority=${task.priority}`];
  if (task.factoryType !== undefined) features.push(`factoryType=${task.factoryType}`);
  const keywords = new Set<string>();
  for (const keyword of task.keywords ?? []) {
    if (keywords.size === MAX_KEYWORD_FEATURES) break;
    const normalized = keyword.trim().toLowerCase();
    if (normalized !== '') keywords.add(normalized);
  }
  for (const keyword of keywords) features.push(`keyword=${keyword}`);
  const size = parametersSize(task.parameters);
  if (size !== undefined) features.push(`size=${size}`);
  return features;
}

/** The size class of `parameters` (undefined when they cannot be written as JSON). */
export function parametersSize(parameters: Record<string, unknown> | undefined): ParametersSize | undefined {
  let length: number;
  try {
    length = JSON.stringify(parameters ?? {}).length;
  } catch {
    return undefined;
  }
  return length < SMALL_PARAMETERS_BELOW ? 'small' : length < LARGE_PARAMETERS_FROM ? 'medium' : 'large';
}
