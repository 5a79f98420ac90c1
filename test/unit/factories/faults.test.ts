import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors.ts';
import { executeRequestSchema } from '../../../lib/local/factories/contract.ts';
import {
  faultOptionsSchema,
  injectFaults,
  mulberry32,
  planCalls,
  sampleLatency,
} from '../../../lib/local/factories/faults.ts';

const draws = (random: () => number, n: number) => Array.from({ length: n }, random);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

describe('mulberry32', () => {
  it('draws the same numbers in [0, 1) for the same seed, and others for another seed', () => {
    const a = draws(mulberry32(42), 1_000);
    expect(draws(mulberry32(42), 1_000)).toEqual(a);
    expect(draws(mulberry32(43), 1_000)).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = a.reduce((sum, x) => sum + x, 0) / a.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('sampleLatency', () => {
  const random = () => mulberry32(7);

  it('keeps fixed and uniform latencies where they were put', () => {
    expect(sampleLatency({ kind: 'fixed', ms: 50 }, random())).toBe(50);
    const next = random();
    const uniform = Array.from({ length: 2_000 }, () =>
      sampleLatency({ kind: 'uniform', min: 20, max: 40 }, next),
    );
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...uniform)).toBeLessThan(40);
    expect(median(uniform)).toBeCloseTo(30, 0);
  });

  it('centres a lognormal latency on its median, with a long right tail', () => {
    const next = random();
    const samples = Array.from({ length: 4_000 }, () =>
      sampleLatency({ kind: 'lognormal', medianMs: 100, sigma: 0.5 }, next),
    );
    expect(median(samples)).toBeGreaterThan(90);
    expect(median(samples)).toBeLessThan(110);
    expect(Math.min(...samples)).toBeGreaterThan(0);
    const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
    expect(mean).toBeGreaterThan(median(samples));
  });
});

describe('planCalls', () => {
  const plans = (options: Record<string, unknown>, seed: number, n: number) => {
    const next = planCalls(faultOptionsSchema.parse(options), mulberry32(seed));
    return Array.from({ length: n }, next);
  };

  it('plans the same calls for the same seed', () => {
    const options = { failureRate: 0.3, timeoutRate: 0.2, latencyMs: { kind: 'uniform', min: 0, max: 100 } };
    expect(plans(options, 9, 50)).toEqual(plans(options, 9, 50));
    expect(plans(options, 9, 50)).not.toEqual(plans(options, 10, 50));
  });

  it('fails every call at rate 1 and none at rate 0; a failed call never also hangs', () => {
    expect(plans({ failureRate: 1, timeoutRate: 1 }, 1, 20).every((p) => p.fail && !p.hang)).toBe(true);
    expect(plans({ timeoutRate: 1 }, 1, 20).every((p) => !p.fail && p.hang)).toBe(true);
    expect(plans({}, 1, 20).every((p) => !p.fail && !p.hang && p.latencyMs === 0)).toBe(true);
  });

  it('draws as many numbers whatever it decides, so a plan depends only on the call number', () => {
    const options = { failureRate: 0.5, latencyMs: { kind: 'fixed', ms: 0 } };
    const longRun = plans(options, 5, 30).map((p) => p.fail);
    const shortRun = plans(options, 5, 10).map((p) => p.fail);
    expect(longRun.slice(0, 10)).toEqual(shortRun);
  });
});

describe('injectFaults', () => {
  it('refuses an invalid option, naming it', () => {
    expect(() => injectFaults({ failureRate: 1.5 })).toThrow(ValidationError);
    expect(() => injectFaults({ failureRate: 1.5 })).toThrow(/failureRate/);
    expect(() => injectFaults({ latencyMs: { kind: 'uniform', min: 50, max: 10 } })).toThrow(
      /latencyMs\.max/,
    );
  });

  it('asks for a callback URL and task token when the call is asynchronous', () => {
    const request = (extra: Record<string, unknown>) =>
      executeRequestSchema.parse({ action: 'a', taskId: 't', ...extra });
    const sync = injectFaults();
    expect(sync.check?.(request({}))).toBeUndefined();
    expect(sync.check?.(request({ parameters: { async: true } }))?.field).toBe('callbackUrl');
    expect(sync.check?.(request({ parameters: { async: 'yes' } }))?.field).toBe('parameters.async');
    const asyncFactory = injectFaults({ async: true });
    expect(asyncFactory.check?.(request({}))?.field).toBe('callbackUrl');
    expect(asyncFactory.check?.(request({ callbackUrl: 'http://127.0.0.1:1/cb' }))?.field).toBe('taskToken');
    expect(
      asyncFactory.check?.(request({ callbackUrl: 'http://127.0.0.1:1/cb', taskToken: 'token' })),
    ).toBeUndefined();
  });

  it('reports the seed it drew with, so an unseeded run can be replayed', () => {
    expect(injectFaults({ seed: 1234 }).stats().seed).toBe(1234);
    expect(Number.isInteger(injectFaults().stats().seed)).toBe(true);
  });
});
