import { describe, expect, it } from 'vitest';
import { budgetBench, COST_SPREAD, makeRun, simulateRun } from '../../../bench/budget-runs.ts';
import { DEFAULT_BUDGET_MARGIN } from '../../../lib/core/workflow/budget.ts';
import { seeded } from '../workflow/support.ts';

describe('the budgeted runs simulator', () => {
  it('draws actual costs within the spread, inside the reserve', () => {
    expect(COST_SPREAD).toBeLessThan(DEFAULT_BUDGET_MARGIN);
    const random = seeded(11);
    for (let r = 0; r < 50; r++) {
      const run = makeRun(random);
      expect(run.steps.length).toBeGreaterThanOrEqual(3);
      expect(run.steps.length).toBeLessThanOrEqual(8);
      expect(run.budget.max_cost_usd !== undefined || run.budget.deadline_seconds !== undefined).toBe(true);
      for (const [i, step] of run.steps.entries()) {
        expect(step.options.length).toBeGreaterThanOrEqual(2);
        // Dearest first, no two alike.
        const prices = step.options.map((option) => option.expectedCostUsd);
        expect(prices).toEqual([...prices].sort((a, b) => b - a));
        expect(new Set(prices).size).toBe(prices.length);
        for (const [k, option] of step.options.entries()) {
          const costs = run.costsUsd[i]?.[k] ?? [];
          expect(costs).toHaveLength(step.times ?? 1);
          for (const cost of costs) {
            expect(Math.abs(cost / option.expectedCostUsd - 1)).toBeLessThanOrEqual(COST_SPREAD + 1e-12);
          }
        }
      }
    }
  });

  it('replays the same runs from the same seed', () => {
    const a = makeRun(seeded(5));
    const b = makeRun(seeded(5));
    expect(b).toEqual(a);
    expect(simulateRun(b, true)).toEqual(simulateRun(a, true));
  });

  it('keeps every admitted run within its cost cap, which the unchecked runs overrun', () => {
    const report = budgetBench({ seed: 3, runs: 200 });
    const { elapsedMs: _a, ...figures } = report;
    const { elapsedMs: _b, ...again } = budgetBench({ seed: 3, runs: 200 });
    expect(again).toEqual(figures);

    expect(report.runs).toBe(200);
    expect(report.refusedAtStart + report.completed + report.stoppedBudgetExceeded).toBe(200);
    expect(report.stoppedBy.cost + report.stoppedBy.deadline + report.stoppedBy.both).toBe(
      report.stoppedBudgetExceeded,
    );
    expect(report.refusedAtStart).toBe(report.drawnImpossible);
    expect(report.refusedAtStart).toBeGreaterThan(0);
    expect(report.overruns).toBe(0);
    expect(report.unchecked.runs).toBe(200 - report.refusedAtStart);
    expect(report.unchecked.overruns).toBeGreaterThan(0);
    expect(report.switchedToCheaper).toBeGreaterThan(0);
    expect(report.meanCostShare).toBeLessThanOrEqual(1);
  });
});
