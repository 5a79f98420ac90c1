import { describe, expect, it } from 'vitest';
import {
  admissibleOptions,
  type BudgetStep,
  budgetCommitment,
  checkBudgetAtStart,
  remainingFloor,
  runBudgetSchema,
  type StepOption,
} from '../../../lib/core/workflow/budget.ts';

const premium = (costUsd: number, ms: number): StepOption => ({
  service: 'premium',
  expectedCostUsd: costUsd,
  expectedMs: ms,
});
const basic = (costUsd: number, ms: number): StepOption => ({
  service: 'basic',
  expectedCostUsd: costUsd,
  expectedMs: ms,
});

/** a -> b -> c, each premium ($0.50, 1 s) or basic ($0.10, 3 s). */
const chain: BudgetStep[] = ['a', 'b', 'c'].map((id, i) => ({
  id,
  dependsOn: i === 0 ? [] : [['a', 'b'][i - 1] as string],
  options: [premium(0.5, 1_000), basic(0.1, 3_000)],
}));

/** a -> {b, c} -> d, one option each taking 10 s and costing $1. */
const diamond: BudgetStep[] = [
  { id: 'a', dependsOn: [], options: [basic(1, 10_000)] },
  { id: 'b', dependsOn: ['a'], options: [basic(1, 10_000)] },
  { id: 'c', dependsOn: ['a'], options: [basic(1, 10_000)] },
  { id: 'd', dependsOn: ['b', 'c'], options: [basic(1, 10_000)] },
];

const start = { spentUsd: 0, elapsedMs: 0, ended: new Set<string>() };

describe('runBudgetSchema', () => {
  it('takes a cost cap, a deadline or both', () => {
    expect(runBudgetSchema.parse({ max_cost_usd: 2.5 })).toEqual({ max_cost_usd: 2.5 });
    expect(runBudgetSchema.parse({ deadline_seconds: 60 })).toEqual({ deadline_seconds: 60 });
    expect(runBudgetSchema.parse({ max_cost_usd: 1, deadline_seconds: 60 })).toEqual({
      max_cost_usd: 1,
      deadline_seconds: 60,
    });
  });

  it('refuses an empty budget, naming the fields', () => {
    const result = runBudgetSchema.safeParse({});
    expect(result.success).toBe(false);
    const message = result.error?.issues.map((issue) => issue.message).join('; ');
    expect(message).toContain('max_cost_usd');
    expect(message).toContain('deadline_seconds');
  });

  it('refuses zero, negative, infinite and excessive figures under their field, and unknown fields', () => {
    for (const [input, field] of [
      [{ max_cost_usd: -1 }, 'max_cost_usd'],
      [{ max_cost_usd: 0 }, 'max_cost_usd'],
      [{ max_cost_usd: 2e6 }, 'max_cost_usd'],
      [{ deadline_seconds: -5, max_cost_usd: 1 }, 'deadline_seconds'],
      [{ deadline_seconds: Number.POSITIVE_INFINITY }, 'deadline_seconds'],
      [{ deadline_seconds: 40_000_000 }, 'deadline_seconds'],
    ] as const) {
      const result = runBudgetSchema.safeParse(input);
      expect(result.success, JSON.stringify(input)).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path)).toContainEqual([field]);
    }
    expect(runBudgetSchema.safeParse({ max_cost_usd: 1, currency: 'EUR' }).success).toBe(false);
  });
});

describe('remainingFloor', () => {
  it('prices every step left at its cheapest and times the critical path at the fastest', () => {
    const all = remainingFloor(chain, new Set());
    expect(all.costUsd).toBeCloseTo(0.3, 12);
    expect(all.criticalPathMs).toBe(3_000);
    const afterA = remainingFloor(chain, new Set(['a']), 'b');
    expect(afterA.costUsd).toBeCloseTo(0.1, 12);
    expect(afterA.criticalPathMs).toBe(1_000);
  });

  it('does not add up steps that run side by side', () => {
    // Four steps of 10 s: a, then b and c side by side, then d.
    expect(remainingFloor(diamond, new Set()).criticalPathMs).toBe(30_000);
    expect(remainingFloor(diamond, new Set(['a', 'b'])).criticalPathMs).toBe(20_000);
    expect(remainingFloor(diamond, new Set()).costUsd).toBe(4);
  });

  it('multiplies the cost of a fan-out by its items, and its time by its waves', () => {
    const fanOut: BudgetStep[] = [
      { id: 'split', dependsOn: [], options: [basic(0.01, 100)] },
      { id: 'each', dependsOn: ['split'], options: [basic(0.25, 2_000)], times: 5, concurrency: 2 },
    ];
    const floor = remainingFloor(fanOut, new Set());
    expect(floor.costUsd).toBeCloseTo(0.01 + 5 * 0.25, 12);
    // Five items two at a time: three waves.
    expect(floor.criticalPathMs).toBe(100 + 3 * 2_000);
    // By default up to ten items run at once: one wave.
    expect(remainingFloor([{ ...(fanOut[1] as BudgetStep), concurrency: undefined }], new Set())).toEqual({
      costUsd: 1.25,
      criticalPathMs: 2_000,
    });
  });

  it('refuses a step without options, a repeated step and a negative expectation', () => {
    expect(() => remainingFloor([{ id: 'x', dependsOn: [], options: [] }], new Set())).toThrow(RangeError);
    expect(() => remainingFloor([...diamond, diamond[0] as BudgetStep], new Set())).toThrow(/listed twice/);
    expect(() => remainingFloor([{ id: 'x', dependsOn: [], options: [basic(-1, 5)] }], new Set())).toThrow(
      RangeError,
    );
  });
});

describe('admissibleOptions', () => {
  it('switches a chain to the cheaper option once the expensive one no longer fits', () => {
    const budget = { max_cost_usd: 1 };
    // a: premium needs 0.50 + 0.10 + 0.10 = 0.70 <= 1.
    expect(admissibleOptions(budget, chain, 'a', start, 0)).toEqual({
      ok: true,
      allowed: ['premium', 'basic'],
    });
    // b after a spent 0.50: premium needs 0.50 + 0.50 + 0.10 = 1.10 > 1; basic 0.70.
    const b = { spentUsd: 0.5, elapsedMs: 1_000, ended: new Set(['a']) };
    expect(admissibleOptions(budget, chain, 'b', b, 0)).toEqual({ ok: true, allowed: ['basic'] });
    // c after 0.60: premium needs 1.10 > 1.
    const c = { spentUsd: 0.6, elapsedMs: 4_000, ended: new Set(['a', 'b']) };
    expect(admissibleOptions(budget, chain, 'c', c, 0)).toEqual({ ok: true, allowed: ['basic'] });
  });

  it('keeps the reserve: premium at b fits without margin but not with 20%', () => {
    const budget = { max_cost_usd: 1.2 };
    const b = { spentUsd: 0.5, elapsedMs: 1_000, ended: new Set(['a']) };
    // Without margin: 0.50 + 0.50 + 0.10 = 1.10 <= 1.20. With 20%: 0.50 + 0.60 + 0.12 = 1.22 > 1.20.
    expect(admissibleOptions(budget, chain, 'b', b, 0)).toEqual({ ok: true, allowed: ['premium', 'basic'] });
    expect(admissibleOptions(budget, chain, 'b', b)).toEqual({ ok: true, allowed: ['basic'] });
  });

  it('fails with BudgetExceeded and the figures when even the cheapest way on overspends', () => {
    // a cost 0.95 instead of 0.50: the cheapest way on is 0.10 + 0.10.
    const b = { spentUsd: 0.95, elapsedMs: 1_000, ended: new Set(['a']) };
    const check = admissibleOptions({ max_cost_usd: 1 }, chain, 'b', b, 0);
    expect(check).toMatchObject({
      ok: false,
      error: 'BudgetExceeded',
      limit: 'cost',
      figures: {
        maxCostUsd: 1,
        spentUsd: 0.95,
        heldUsd: 0,
        cheapestStepUsd: 0.1,
        restFloorUsd: 0.1,
        margin: 0,
      },
    });
    expect(check.ok === false && check.figures.leftUsd).toBeCloseTo(0.05, 12);
    expect(check.ok === false && check.cause).toMatch(/spent \$0\.95 of \$1, leaving \$0\.05.*costs \$0\.2/);
  });

  it('holds the expected cost of steps in flight', () => {
    // b and c side by side after a; each premium $0.50 or basic $0.10; d basic only, $0.10.
    const steps: BudgetStep[] = [
      { id: 'a', dependsOn: [], options: [basic(0.1, 1_000)] },
      { id: 'b', dependsOn: ['a'], options: [premium(0.5, 1_000), basic(0.1, 1_000)] },
      { id: 'c', dependsOn: ['a'], options: [premium(0.5, 1_000), basic(0.1, 1_000)] },
      { id: 'd', dependsOn: ['b', 'c'], options: [basic(0.1, 1_000)] },
    ];
    const state = { spentUsd: 0.1, elapsedMs: 1_000, ended: new Set(['a']) };
    // b alone: 0.10 + 0.50 + 0.10 (c) + 0.10 (d) = 0.80 <= 0.9.
    expect(admissibleOptions({ max_cost_usd: 0.9 }, steps, 'b', state, 0)).toEqual({
      ok: true,
      allowed: ['premium', 'basic'],
    });
    // c while b runs premium: 0.10 + 0.50 held + 0.50 + 0.10 = 1.20 > 0.9; basic 0.80.
    const running = new Map([['b', premium(0.5, 1_000)]]);
    expect(admissibleOptions({ max_cost_usd: 0.9 }, steps, 'c', { ...state, running }, 0)).toEqual({
      ok: true,
      allowed: ['basic'],
    });
    // Routing b again (a failover) does not hold b against itself.
    expect(admissibleOptions({ max_cost_usd: 0.9 }, steps, 'b', { ...state, running }, 0)).toEqual({
      ok: true,
      allowed: ['premium', 'basic'],
    });
  });

  it('checks the critical path, not the sum of the steps, against the deadline', () => {
    // b and c side by side: 10 s each after a. d is 10 s more: 20 s left at b, whichever of b, c.
    const state = { spentUsd: 1, elapsedMs: 10_000, ended: new Set(['a']) };
    expect(admissibleOptions({ deadline_seconds: 30 }, diamond, 'b', state, 0)).toEqual({
      ok: true,
      allowed: ['basic'],
    });
    const late = { ...state, elapsedMs: 10_500 };
    const check = admissibleOptions({ deadline_seconds: 30 }, diamond, 'b', late, 0);
    expect(check).toMatchObject({
      ok: false,
      error: 'BudgetExceeded',
      limit: 'deadline',
      figures: { deadlineMs: 30_000, elapsedMs: 10_500, leftMs: 19_500, fastestPathMs: 20_000 },
    });
    expect(check.ok === false && check.cause).toMatch(/10\.5 s of the 30 s deadline.*takes 20 s/);
  });

  it('times the routed step at each option, then the steps that wait for it', () => {
    // a (premium 1 s or basic 3 s) -> b -> c, at 1 s fastest each: 5 s deadline.
    expect(admissibleOptions({ deadline_seconds: 5 }, chain, 'a', start, 0)).toEqual({
      ok: true,
      allowed: ['premium', 'basic'],
    });
    expect(admissibleOptions({ deadline_seconds: 4.5 }, chain, 'a', start, 0)).toEqual({
      ok: true,
      allowed: ['premium'],
    });
  });

  it('counts the paths that do not pass through the routed step', () => {
    // x is quick and alone; y takes 60 s and is side by side with it.
    const steps: BudgetStep[] = [
      { id: 'x', dependsOn: [], options: [basic(0, 1_000)] },
      { id: 'y', dependsOn: [], options: [basic(0, 60_000)] },
    ];
    const check = admissibleOptions({ deadline_seconds: 30 }, steps, 'x', start, 0);
    expect(check).toMatchObject({ ok: false, limit: 'deadline', figures: { fastestPathMs: 60_000 } });
  });

  it('refuses when the options cheap enough are too slow and the fast ones too dear', () => {
    const steps: BudgetStep[] = [{ id: 'a', dependsOn: [], options: [premium(2, 1_000), basic(0.5, 9_000)] }];
    const check = admissibleOptions({ max_cost_usd: 1, deadline_seconds: 5 }, steps, 'a', start, 0);
    expect(check).toMatchObject({ ok: false, error: 'BudgetExceeded', limit: 'both' });
    expect(check.ok === false && check.cause).toContain('keeps both');
    expect(admissibleOptions({ max_cost_usd: 1 }, steps, 'a', start, 0)).toEqual({
      ok: true,
      allowed: ['basic'],
    });
    expect(admissibleOptions({ deadline_seconds: 5 }, steps, 'a', start, 0)).toEqual({
      ok: true,
      allowed: ['premium'],
    });
  });

  it('charges a fan-out once per item and times it by waves', () => {
    const steps: BudgetStep[] = [
      {
        id: 'each',
        dependsOn: [],
        options: [premium(0.3, 1_000), basic(0.1, 2_000)],
        times: 4,
        concurrency: 2,
      },
    ];
    // premium: 4 x 0.30 = 1.20 > 1; basic 0.40.
    expect(admissibleOptions({ max_cost_usd: 1 }, steps, 'each', start, 0)).toEqual({
      ok: true,
      allowed: ['basic'],
    });
    // Two waves: premium 2 s, basic 4 s.
    expect(admissibleOptions({ deadline_seconds: 3 }, steps, 'each', start, 0)).toEqual({
      ok: true,
      allowed: ['premium'],
    });
  });

  it('refuses an unknown or ended step and a negative margin', () => {
    expect(() => admissibleOptions({ max_cost_usd: 1 }, chain, 'z', start)).toThrow(/unknown step/);
    expect(() =>
      admissibleOptions({ max_cost_usd: 1 }, chain, 'a', { ...start, ended: new Set(['a']) }),
    ).toThrow(/has ended/);
    expect(() => admissibleOptions({ max_cost_usd: 1 }, chain, 'a', start, -0.1)).toThrow(RangeError);
  });
});

describe('checkBudgetAtStart', () => {
  it('admits a budget within reach and reports the floors without the reserve', () => {
    expect(checkBudgetAtStart({ max_cost_usd: 4.8, deadline_seconds: 36 }, diamond)).toEqual({
      ok: true,
      minCostUsd: 4,
      minCriticalPathMs: 30_000,
    });
  });

  it('checks only the limits a budget gives', () => {
    // $4 and 30 s at the least: a cost-only budget ignores time, a deadline-only one ignores cost.
    expect(checkBudgetAtStart({ max_cost_usd: 5 }, diamond)).toMatchObject({ ok: true });
    expect(checkBudgetAtStart({ deadline_seconds: 40 }, diamond)).toMatchObject({ ok: true });
    const slow = { spentUsd: 0, elapsedMs: 1e9, ended: new Set<string>() };
    expect(admissibleOptions({ max_cost_usd: 5 }, diamond, 'a', slow)).toEqual({
      ok: true,
      allowed: ['basic'],
    });
    const dear = { spentUsd: 1e5, elapsedMs: 0, ended: new Set<string>() };
    expect(admissibleOptions({ deadline_seconds: 40 }, diamond, 'a', dear)).toEqual({
      ok: true,
      allowed: ['basic'],
    });
    const refusal = admissibleOptions({ deadline_seconds: 40 }, diamond, 'a', slow);
    expect(refusal).toMatchObject({ ok: false, limit: 'deadline' });
    expect(refusal.ok === false && Object.keys(refusal.figures).sort()).toEqual([
      'deadlineMs',
      'elapsedMs',
      'fastestPathMs',
      'leftMs',
      'margin',
    ]);
  });

  it('refuses an impossible cost with the figures', () => {
    const check = checkBudgetAtStart({ max_cost_usd: 0.25 }, chain);
    expect(check).toMatchObject({
      ok: false,
      error: 'BudgetExceeded',
      limit: 'cost',
      figures: { maxCostUsd: 0.25, margin: 0.2 },
    });
    expect(check.ok === false && check.figures.minCostUsd).toBeCloseTo(0.3, 12);
    expect(check.ok === false && check.figures.minCostWithReserveUsd).toBeCloseTo(0.36, 12);
    expect(check.ok === false && check.cause).toBe(
      'the budget cannot be kept: the cheapest way through is expected to cost $0.3 ($0.36 with the 20% reserve), more than the $0.25 allowed',
    );
  });

  it('refuses a cap the reserve does not fit', () => {
    // $4 expected, $4.80 with the reserve.
    expect(checkBudgetAtStart({ max_cost_usd: 4.5 }, diamond)).toMatchObject({ ok: false, limit: 'cost' });
    expect(checkBudgetAtStart({ max_cost_usd: 4.5 }, diamond, 0)).toMatchObject({ ok: true });
  });

  it('refuses a deadline shorter than the fastest critical path, not the sum of the steps', () => {
    // The steps take 40 s in all, the critical path 30 s.
    expect(checkBudgetAtStart({ deadline_seconds: 31 }, diamond, 0)).toMatchObject({ ok: true });
    const check = checkBudgetAtStart({ deadline_seconds: 29 }, diamond, 0);
    expect(check).toMatchObject({
      ok: false,
      limit: 'deadline',
      figures: { deadlineMs: 29_000, minCriticalPathMs: 30_000 },
    });
    expect(check.ok === false && check.cause).toContain('30 s');
  });

  it('gives both reasons when both limits are out of reach', () => {
    const check = checkBudgetAtStart({ max_cost_usd: 1, deadline_seconds: 10 }, diamond, 0);
    expect(check).toMatchObject({
      ok: false,
      limit: 'both',
      figures: { maxCostUsd: 1, minCostUsd: 4, deadlineMs: 10_000, minCriticalPathMs: 30_000 },
    });
  });

  it('keeps the cheapest way open at every step of a run it admits', () => {
    // Admitted with the reserve; every step costs its expectation plus 15%, and takes basic.
    const budget = { max_cost_usd: 0.36 };
    expect(checkBudgetAtStart(budget, chain)).toMatchObject({ ok: true });
    let spentUsd = 0;
    const ended = new Set<string>();
    for (const step of chain) {
      const check = admissibleOptions(budget, chain, step.id, { spentUsd, elapsedMs: 0, ended });
      expect(check).toEqual({ ok: true, allowed: ['basic'] });
      spentUsd += 0.1 * 1.15;
      ended.add(step.id);
    }
    expect(spentUsd).toBeLessThanOrEqual(0.36);
  });
});

describe('budgetCommitment', () => {
  it('commits the routed option with the reserve, leaving room for the cheapest way through the rest', () => {
    // b at premium: $0.50 x 1.2 = $0.60; c at its cheapest: $0.10 x 1.2 = $0.12; a has ended.
    const commitment = budgetCommitment(1.5, chain, 'b', new Set(['a']), 'premium', 0.2);
    expect(commitment.amountUsd).toBeCloseTo(0.6, 12);
    expect(commitment.ceilingUsd).toBeCloseTo(1.5 - 0.6 - 0.12, 8);
    expect(commitment.refusal).toMatchObject({ ok: false, error: 'BudgetExceeded', limit: 'cost' });
    expect(commitment.refusal.cause).toContain('premium (about $0.6)');
    expect(commitment.refusal.cause).toContain('no longer fit in $1.5');
    // A service the plan does not list is committed at nothing; an unknown step is a mistake.
    expect(budgetCommitment(1.5, chain, 'b', new Set(['a']), 'elsewhere').amountUsd).toBe(0);
    expect(() => budgetCommitment(1.5, chain, 'z', new Set(), 'premium')).toThrow(RangeError);
  });
});
