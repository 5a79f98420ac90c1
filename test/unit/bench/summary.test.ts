import { describe, expect, it } from 'vitest';
import {
  entry,
  missing,
  roundFigure,
  SUMMARY_KEYS,
  type Summary,
  summaryJson,
  summaryLines,
} from '../../../bench/summary.ts';

/** The keys and their order, as the issue lists them. */
const ISSUE_KEYS = [
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
];

/** Every key missing, then `figures` over it. */
function summaryWith(figures: Partial<Summary>): Summary {
  return { ...Object.fromEntries(ISSUE_KEYS.map((key) => [key, missing('not run')])), ...figures } as Summary;
}

describe('the summary block', () => {
  it('has the keys of the issue, in its order', () => {
    expect([...SUMMARY_KEYS]).toEqual(ISSUE_KEYS);
  });

  it('prints one line per key, in order, a null with its reason', () => {
    const lines = summaryLines(
      summaryWith({ wru_per_task: { value: 7 }, decisions_per_s: missing('hot-paths not run (--only)') }),
    );
    expect(lines).toHaveLength(ISSUE_KEYS.length);
    expect(lines.map((line) => line.slice(0, line.indexOf(':')))).toEqual(
      ISSUE_KEYS.map((k) => `summary.${k}`),
    );
    expect(lines[0]).toBe('summary.dynamodb_requests_per_task: null (not run)');
    expect(lines[1]).toBe('summary.wru_per_task: 7');
    expect(lines[11]).toBe('summary.decisions_per_s: null (hot-paths not run (--only))');
  });

  it('rounds to four significant digits', () => {
    expect(roundFigure(144_661.2)).toBe(144_700);
    expect(roundFigure(0.016584)).toBe(0.01658);
    expect(roundFigure(3.03)).toBe(3.03);
    expect(roundFigure(1_000)).toBe(1_000);
    expect(roundFigure(-125.64)).toBe(-125.6);
    expect(Object.is(roundFigure(-0.000_000_1 * 0), 0)).toBe(true);
  });

  it('writes the same figures to the JSON, nulls with their reasons apart', () => {
    const summary = summaryWith({
      local_tasks_per_s: { value: 52.6371 },
      cost_per_1k_tasks_usd: { value: 0.016584 },
    });
    const json = summaryJson(summary);
    expect(Object.keys(json)).toEqual([...ISSUE_KEYS, 'nullReasons']);
    expect(json.local_tasks_per_s).toBe(52.64);
    expect(json.cost_per_1k_tasks_usd).toBe(0.01658);
    expect(json.wru_per_task).toBeNull();
    expect(json.nullReasons.wru_per_task).toBe('not run');
    expect(json.nullReasons).not.toHaveProperty('local_tasks_per_s');
    expect(Object.keys(json.nullReasons)).toHaveLength(ISSUE_KEYS.length - 2);
    for (const line of summaryLines(summary)) {
      const [key, value] = line.replace(/^summary\./, '').split(': ') as [keyof typeof json, string];
      expect(value.startsWith('null') ? null : Number(value)).toBe(json[key]);
    }
  });
});

describe('a figure', () => {
  it('is null with the reason when it is missing or not a finite number', () => {
    expect(entry(undefined, 'why')).toEqual({ value: null, reason: 'why' });
    expect(entry(null, 'why')).toEqual({ value: null, reason: 'why' });
    expect(entry(Number.NaN, 'why')).toEqual({ value: null, reason: 'why' });
    expect(entry(Number.POSITIVE_INFINITY, 'why')).toEqual({ value: null, reason: 'why' });
  });

  it('keeps a measured zero', () => {
    expect(entry(0, 'why')).toEqual({ value: 0 });
  });
});
