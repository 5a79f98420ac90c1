import { describe, expect, it } from 'vitest';
import { LiveStats, type StatsSnapshot } from '../../lib/core/live-stats.ts';
import type { CallObservation, MinuteCounters, ServiceStats } from '../../lib/core/statistics.ts';
import { makeStats, manualClock, type StatsSpec } from './support.ts';

const TYPE = 'generic';
const START = '2026-01-15T10:00:00.000Z';

function minute(minute: string, service: string, spec: StatsSpec): MinuteCounters {
  return { ...makeStats(service, TYPE, spec), minute, routes: 0, byStrategy: {} };
}

function call(service: string, success: boolean, at = START): CallObservation {
  return { taskType: TYPE, service, success, timedOut: false, latencyMs: 100, at };
}

function countOf(stats: readonly ServiceStats[], service: string) {
  const s = stats.find((x) => x.service === service);
  return s && { count: s.count, successes: s.successes, failures: s.failures };
}

/** A storage read the test answers by hand, recording what was asked. */
function storage() {
  const reads: Array<{
    taskType: string;
    since: Date;
    resolve: (s: StatsSnapshot) => void;
    reject: (e: Error) => void;
  }> = [];
  let answered = 0;
  return {
    reads,
    load: (taskType: string, since: Date) =>
      new Promise<StatsSnapshot>((resolve, reject) => {
        reads.push({ taskType, since, resolve, reject });
      }),
    /** Answers the oldest read not answered yet (waiting for it to be asked for). */
    async answer(answer: StatsSnapshot | Error) {
      for (let i = 0; i < 100 && reads.length <= answered; i++) await Promise.resolve();
      const read = reads[answered];
      if (!read) throw new Error('no read was started');
      answered++;
      if (answer instanceof Error) read.reject(answer);
      else read.resolve(answer);
    },
  };
}

/** Waits for `reading`, answering the storage read it started (or waits on) with `answer`. */
async function read<T>(
  store: ReturnType<typeof storage>,
  answer: StatsSnapshot | Error,
  reading: Promise<T>,
): Promise<T> {
  await store.answer(answer);
  return reading;
}

/** LiveStats over a hand-answered storage, on a manual clock at START. */
function liveStats(options: { ttlMs: number; windowMs: number }) {
  const clock = manualClock(START);
  const store = storage();
  return { clock, store, live: new LiveStats(store.load, { ...options, now: clock.now }) };
}

const snapshot = (allTime: ServiceStats[], minutes: MinuteCounters[] = []): StatsSnapshot => ({
  allTime,
  minutes,
});

/** A snapshot in which svc-a has succeeded `successes` times, all time. */
const svcASucceeded = (successes: number) => snapshot([makeStats('svc-a', TYPE, { successes })]);

describe('LiveStats', () => {
  it('reads storage at most once per ttlMs per task type', async () => {
    const { clock, store, live } = liveStats({ ttlMs: 10_000, windowMs: 60_000 });
    const a = svcASucceeded(3);

    // Concurrent first readers wait for one read.
    const first = Promise.all([live.allTime(TYPE), live.recent(TYPE), live.allTime(TYPE)]);
    await read(store, a, first);
    clock.advance(9_999);
    await live.allTime(TYPE);
    await live.recent(TYPE);
    expect(store.reads).toHaveLength(1);

    // Another task type has its own read.
    const other = live.allTime('other');
    await read(store, snapshot([]), other);
    expect(store.reads.map((r) => r.taskType)).toEqual([TYPE, 'other']);

    clock.advance(1);
    const again = live.allTime(TYPE);
    const stats = await read(store, svcASucceeded(4), again);
    expect(store.reads).toHaveLength(3);
    expect(countOf(stats, 'svc-a')).toEqual({ count: 4, successes: 4, failures: 0 });
  });

  it('asks storage for the minutes since the start of the recent window', async () => {
    const { store, live } = liveStats({ ttlMs: 10_000, windowMs: 15 * 60_000 });

    await read(store, snapshot([]), live.recent(TYPE));
    expect(store.reads[0]?.since.toISOString()).toBe('2026-01-15T09:45:00.000Z');
  });

  it('counts an observed call at once, in allTime and in recent', async () => {
    const { clock, store, live } = liveStats({ ttlMs: 60_000, windowMs: 5 * 60_000 });
    const stored = snapshot(
      [makeStats('svc-a', TYPE, { successes: 10, failures: 2 })],
      [minute('2026-01-15T09:58', 'svc-a', { successes: 2 })],
    );
    await read(store, stored, live.allTime(TYPE));
    // Aggregates read before the call must not be served after it.
    expect(countOf(await live.allTime(TYPE), 'svc-a')).toEqual({ count: 12, successes: 10, failures: 2 });
    expect(countOf(await live.recent(TYPE), 'svc-a')).toEqual({ count: 2, successes: 2, failures: 0 });

    clock.advance(1_000);
    live.observe(call('svc-a', false));
    live.observe(call('svc-b', true));

    expect(countOf(await live.allTime(TYPE), 'svc-a')).toEqual({ count: 13, successes: 10, failures: 3 });
    expect(countOf(await live.allTime(TYPE), 'svc-b')).toEqual({ count: 1, successes: 1, failures: 0 });
    expect(countOf(await live.recent(TYPE), 'svc-a')).toEqual({ count: 3, successes: 2, failures: 1 });
    expect(countOf(await live.recent(TYPE), 'svc-b')).toEqual({ count: 1, successes: 1, failures: 0 });
    expect(store.reads).toHaveLength(1);
  });

  it('drops the calls observed before a read started when its snapshot arrives, and keeps later ones', async () => {
    const { clock, store, live } = liveStats({ ttlMs: 10_000, windowMs: 60_000 });
    await read(store, svcASucceeded(5), live.allTime(TYPE));

    clock.advance(1_000);
    live.observe(call('svc-a', true)); // before the next read: storage will have it
    expect(countOf(await live.allTime(TYPE), 'svc-a')?.count).toBe(6);

    clock.advance(10_000);
    const reading = live.allTime(TYPE); // the read starts now
    clock.advance(5);
    live.observe(call('svc-a', false)); // during the read: storage may not have it
    // Storage answers with the first call counted.
    const during = await read(store, svcASucceeded(6), reading);
    expect(countOf(during, 'svc-a')).toEqual({ count: 7, successes: 6, failures: 1 });

    clock.advance(5);
    live.observe(call('svc-a', false)); // after the read
    expect(countOf(await live.allTime(TYPE), 'svc-a')).toEqual({ count: 8, successes: 6, failures: 2 });
    expect(store.reads).toHaveLength(2);
  });

  it('sums only the minutes in the recent window, and the window moves with time', async () => {
    const { clock, store, live } = liveStats({ ttlMs: 10 * 60_000, windowMs: 5 * 60_000 });
    const minutes = [
      minute('2026-01-15T09:50', 'svc-a', { failures: 7 }),
      minute('2026-01-15T09:57', 'svc-a', { successes: 3 }),
      minute('2026-01-15T09:59', 'svc-a', { successes: 1, failures: 1 }),
      minute('2026-01-15T09:57', 'svc-b', { successes: 4 }),
    ];
    const recent = await read(store, snapshot([], minutes), live.recent(TYPE));
    expect(countOf(recent, 'svc-a')).toEqual({ count: 5, successes: 4, failures: 1 });
    expect(countOf(recent, 'svc-b')).toEqual({ count: 4, successes: 4, failures: 0 });

    // Three and a half minutes later 09:57 has left the window; storage is not read again.
    clock.advance(3.5 * 60_000);
    const later = await live.recent(TYPE);
    expect(countOf(later, 'svc-a')).toEqual({ count: 2, successes: 1, failures: 1 });
    expect(countOf(later, 'svc-b')).toBeUndefined();
    expect(store.reads).toHaveLength(1);
  });

  it('throws when the first read fails, and reads again on the next call', async () => {
    const { store, live } = liveStats({ ttlMs: 60_000, windowMs: 60_000 });

    await expect(read(store, new Error('throttled'), live.allTime(TYPE))).rejects.toThrow('throttled');
    const stats = await read(store, svcASucceeded(2), live.allTime(TYPE));
    expect(countOf(stats, 'svc-a')?.count).toBe(2);
    expect(store.reads).toHaveLength(2);
  });

  it('keeps serving the older snapshot when a later read fails, and tries again next time', async () => {
    const { clock, store, live } = liveStats({ ttlMs: 10_000, windowMs: 60_000 });
    await read(store, svcASucceeded(5), live.allTime(TYPE));

    clock.advance(10_000);
    const stale = await read(store, new Error('throttled'), live.allTime(TYPE));
    expect(countOf(stale, 'svc-a')?.count).toBe(5);

    const fresh = await read(store, svcASucceeded(9), live.allTime(TYPE));
    expect(countOf(fresh, 'svc-a')?.count).toBe(9);
    expect(store.reads).toHaveLength(3);
  });
});
