import { describe, expect, it } from 'vitest';
import { buildTimeline, criticalPath, type TimedStep, ticks } from '../../../console/src/timeline.ts';

const step = (
  id: string,
  start: number | undefined,
  end: number | undefined,
  ...dependencies: string[]
): TimedStep => ({
  id,
  dependencies,
  start,
  end,
});

describe('run timeline', () => {
  it('follows the dependency that finished last back from the step that ended last', () => {
    const steps = [
      step('research', 0, 100),
      step('trends', 0, 400),
      step('images', 110, 900, 'research'),
      step('digest', 410, 600, 'research', 'trends'),
      step('video', 910, 2000, 'images'),
    ];
    expect(criticalPath(steps, 5_000)).toEqual(['research', 'images', 'video']);
  });

  it('counts a running step as ending now', () => {
    const steps = [step('a', 0, 100), step('b', 100, undefined, 'a'), step('c', 0, 300)];
    expect(criticalPath(steps, 1_000)).toEqual(['a', 'b']);
  });

  it('has no path before anything started', () => {
    expect(criticalPath([step('a', undefined, undefined)], 0)).toEqual([]);
  });

  it('places bars from the run start and marks the critical ones', () => {
    const timeline = buildTimeline(
      [step('a', 1_000, 1_200), step('b', 1_250, undefined, 'a'), step('c', undefined, undefined)],
      1_000,
      undefined,
      2_000,
    );
    expect(timeline.bars).toEqual([
      { id: 'a', offsetMs: 0, durationMs: 200, open: false, critical: true },
      { id: 'b', offsetMs: 250, durationMs: 750, open: true, critical: true },
    ]);
    expect(timeline.spanMs).toBe(1_000);
    expect(timeline.criticalPath).toEqual(['a', 'b']);
  });

  it('puts ticks at round values covering the span', () => {
    expect(ticks(4_800)).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
    expect(ticks(130)).toEqual([0, 50, 100]);
  });
});
