/**
 * The block `npm run bench` ends with: one `summary.<key>: value` line per key, always every key,
 * always in this order, and the same figures in bench/results/summary.json. A figure that could
 * not be measured (its benchmark did not run, or failed) prints `summary.<key>: null (reason)` and
 * is null in the JSON, its reason kept in `nullReasons`.
 */

/** The summary keys, in the order they are printed. */
export const SUMMARY_KEYS = [
  'dynamodb_requests_per_task',
  'wru_per_task',
  'local_tasks_per_s',
  'direct_factory_calls_per_s',
  'local_throughput_ratio_to_direct',
  'local_p50_overhead_ms',
  'cost_per_1k_tasks_usd',
  'cost_per_1k_workflow4_standard_usd',
  'cost_per_1k_workflow4_express_usd',
  'hot_path_bundle_kb_max',
  'hot_path_init_ratio_to_hello_max',
  'decisions_per_s',
  'slow_factory_within_sla',
  'hottest_key_wru_per_s_at_1k_tasks_per_s',
  'workflow_dynamodb_requests_per_run',
  'workflow_floor_runs_per_s_0ms',
  'local_workflow_ratio_to_floor_0ms',
  'local_workflow_ratio_to_floor_50ms',
  'local_workflow_single_overhead_ms_50ms',
  'cost_per_1k_tasks_at_load_usd',
  'compile_makespan_ratio_mean',
  'compile_makespan_ratio_worst',
  'transitions_per_step',
  'gates_per_step',
  'console_bundle_gzip_kb',
  'replay_abs_error',
  'cost_aware_cost_ratio',
  'cost_aware_success_ratio',
  'budget_overruns',
  'contextual_success_ratio',
  'noncontextual_success_ratio',
] as const;

export type SummaryKey = (typeof SUMMARY_KEYS)[number];

/** A measured figure, or the reason there is none. */
export type SummaryEntry = { value: number } | { value: null; reason: string };

export type Summary = Record<SummaryKey, SummaryEntry>;

/** What summary.json holds: every key (a number or null), and why each null is null. */
export type SummaryJson = Record<SummaryKey, number | null> & {
  nullReasons: Partial<Record<SummaryKey, string>>;
};

/** A measured figure; anything but a finite number (missing, NaN, infinite) becomes null with `reason`. */
export function entry(value: number | null | undefined, reason: string): SummaryEntry {
  return typeof value === 'number' && Number.isFinite(value) ? { value } : { value: null, reason };
}

/** A figure whose benchmark did not run or is not there to run. */
export function missing(reason: string): SummaryEntry {
  return { value: null, reason };
}

/** Four significant digits: what both the printed line and the JSON carry, so the two agree. */
export function roundFigure(value: number): number {
  const rounded = Number(value.toPrecision(4));
  return Object.is(rounded, -0) ? 0 : rounded;
}

/** The printed block, one line per key in {@link SUMMARY_KEYS} order. */
export function summaryLines(summary: Summary): string[] {
  return SUMMARY_KEYS.map((key) => {
    const figure = summary[key];
    return figure.value === null
      ? `summary.${key}: null (${figure.reason})`
      : `summary.${key}: ${roundFigure(figure.value)}`;
  });
}

/** The flat object written to summary.json, keys in {@link SUMMARY_KEYS} order, `nullReasons` last. */
export function summaryJson(summary: Summary): SummaryJson {
  const values = {} as Record<SummaryKey, number | null>;
  const nullReasons: Partial<Record<SummaryKey, string>> = {};
  for (const key of SUMMARY_KEYS) {
    const figure = summary[key];
    values[key] = figure.value === null ? null : roundFigure(figure.value);
    if (figure.value === null) nullReasons[key] = figure.reason;
  }
  return { ...values, nullReasons };
}
