import { describe, expect, it } from 'vitest';
import { economicsBench } from '../../../bench/routing-economics.ts';

describe('the routing economics bench', () => {
  it('is reproducible for a seed', async () => {
    const a = await economicsBench({ seed: 3, tasks: 400 });
    const b = await economicsBench({ seed: 3, tasks: 400 });
    const c = await economicsBench({ seed: 4, tasks: 400 });
    expect(b).toEqual(a);
    expect(c.costAware.runs.learned).not.toEqual(a.costAware.runs.learned);
  });

  it('meets its targets on the default seed, and no policy beats the oracle in expectation', async () => {
    const report = await economicsBench();
    const { costAware, contextual } = report;
    expect(costAware.costAwareCostRatio).toBeLessThanOrEqual(0.7);
    expect(costAware.costAwareSuccessRatio).toBeGreaterThanOrEqual(0.97);
    expect(costAware.costStrategyCostRatio).toBeLessThanOrEqual(0.7);
    expect(costAware.costStrategySuccessRatio).toBeGreaterThanOrEqual(0.97);
    expect(contextual.contextualSuccessRatio).toBeGreaterThanOrEqual(0.95);
    expect(contextual.nonContextualSuccessRatio).toBeLessThan(contextual.contextualSuccessRatio);
    expect(contextual.contextualExpectedRatio).toBeLessThanOrEqual(1);
    expect(contextual.nonContextualExpectedRatio).toBeLessThanOrEqual(1);
    // the bad service is the cheapest: the cost strategy must not settle on it
    expect(costAware.runs.cost.share.bad).toBeLessThan(0.01);
    for (const run of [...Object.values(costAware.runs), ...Object.values(contextual.runs)]) {
      expect(Object.values(run.share).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(run.meanPropensity).toBeGreaterThan(0);
      expect(run.meanPropensity).toBeLessThanOrEqual(1);
    }
  });
});
