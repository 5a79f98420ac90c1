import { describe, expect, it } from 'vitest';
import { Cached } from '../../lib/core/cached.ts';
import { manualClock } from './support.ts';

/** A load whose answers the test scripts, counting its calls; `hold()` makes the next ones wait. */
function scriptedLoad<T>(answers: Array<T | Error>) {
  let calls = 0;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  return {
    get calls() {
      return calls;
    },
    hold() {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release() {
      open?.();
      gate = undefined;
    },
    load: async (): Promise<T> => {
      const answer = answers[calls];
      calls++;
      if (gate) await gate;
      if (answer === undefined) throw new Error(`load ${calls} was not scripted`);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe('Cached', () => {
  it('reuses the loaded value while it is younger than ttlMs', async () => {
    const clock = manualClock();
    const source = scriptedLoad(['first', 'second']);
    const cached = new Cached(source.load, { ttlMs: 1_000, now: clock.now });

    expect(await cached.get()).toBe('first');
    clock.advance(999);
    expect(await cached.get()).toBe('first');
    expect(source.calls).toBe(1);
  });

  it('loads again once the value is ttlMs old', async () => {
    const clock = manualClock();
    const source = scriptedLoad(['first', 'second']);
    const cached = new Cached(source.load, { ttlMs: 1_000, now: clock.now });

    await cached.get();
    clock.advance(1_000);
    expect(await cached.get()).toBe('second');
    expect(source.calls).toBe(2);
    // The new value is fresh again.
    clock.advance(500);
    expect(await cached.get()).toBe('second');
    expect(source.calls).toBe(2);
  });

  it('lets concurrent readers share one load', async () => {
    const clock = manualClock();
    const source = scriptedLoad(['only']);
    const cached = new Cached(source.load, { ttlMs: 1_000, now: clock.now });

    source.hold();
    const readers = [cached.get(), cached.get(), cached.refresh(), cached.get()];
    source.release();

    expect(await Promise.all(readers)).toEqual(['only', 'only', 'only', 'only']);
    expect(source.calls).toBe(1);
  });

  it('refresh() loads even while the value is fresh, and get() then serves the new value', async () => {
    const clock = manualClock();
    const source = scriptedLoad(['first', 'second']);
    const cached = new Cached(source.load, { ttlMs: 60_000, now: clock.now });

    await cached.get();
    expect(await cached.refresh()).toBe('second');
    expect(source.calls).toBe(2);
    expect(await cached.get()).toBe('second');
    expect(source.calls).toBe(2);
  });

  it('does not keep a failed load: the next get() loads again', async () => {
    const clock = manualClock();
    const source = scriptedLoad([new Error('registry unavailable'), 'recovered']);
    const cached = new Cached(source.load, { ttlMs: 60_000, now: clock.now });

    await expect(cached.get()).rejects.toThrow('registry unavailable');
    expect(await cached.get()).toBe('recovered');
    expect(source.calls).toBe(2);
  });

  it('shares a failing load between concurrent readers, then loads afresh', async () => {
    const clock = manualClock();
    const source = scriptedLoad([new Error('throttled'), 'recovered']);
    const cached = new Cached(source.load, { ttlMs: 60_000, now: clock.now });

    source.hold();
    const readers = [cached.get(), cached.get()];
    source.release();
    const settled = await Promise.allSettled(readers);

    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(source.calls).toBe(1);
    expect(await cached.get()).toBe('recovered');
    expect(source.calls).toBe(2);
  });
});
