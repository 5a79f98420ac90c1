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

/** A Cached over a scripted load, on a manual clock. */
function cachedOver<T>(answers: Array<T | Error>, ttlMs: number) {
  const clock = manualClock();
  const source = scriptedLoad(answers);
  return { clock, source, cached: new Cached(source.load, { ttlMs, now: clock.now }) };
}

describe('Cached', () => {
  it('reuses the loaded value while it is younger than ttlMs', async () => {
    const { clock, source, cached } = cachedOver(['first', 'second'], 1_000);

    expect(await cached.get()).toBe('first');
    clock.advance(999);
    expect(await cached.get()).toBe('first');
    expect(source.calls).toBe(1);
  });

  it('loads again once the value is ttlMs old', async () => {
    const { clock, source, cached } = cachedOver(['first', 'second'], 1_000);

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
    const { source, cached } = cachedOver(['only'], 1_000);

    source.hold();
    const readers = [cached.get(), cached.get(), cached.refresh(), cached.get()];
    source.release();

    expect(await Promise.all(readers)).toEqual(['only', 'only', 'only', 'only']);
    expect(source.calls).toBe(1);
  });

  it('refresh() loads even while the value is fresh, and get() then serves the new value', async () => {
    const { source, cached } = cachedOver(['first', 'second'], 60_000);

    await cached.get();
    expect(await cached.refresh()).toBe('second');
    expect(source.calls).toBe(2);
    expect(await cached.get()).toBe('second');
    expect(source.calls).toBe(2);
  });

  it('does not keep a failed load: the next get() loads again', async () => {
    const { source, cached } = cachedOver([new Error('registry unavailable'), 'recovered'], 60_000);

    await expect(cached.get()).rejects.toThrow('registry unavailable');
    expect(await cached.get()).toBe('recovered');
    expect(source.calls).toBe(2);
  });

  it('shares a failing load between concurrent readers, then loads afresh', async () => {
    const { source, cached } = cachedOver([new Error('throttled'), 'recovered'], 60_000);

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
