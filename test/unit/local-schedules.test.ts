import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cronJob, LocalSchedules, parseRate, toCron } from '../../lib/local/local-schedules.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A Wednesday, noon UTC. */
const FROM = '2025-06-04T12:00:00.000Z';

const EXPRESSIONS = [
  'cron(0 9 ? * 2 *)',
  'cron(0 9 ? * 2-6 *)',
  'cron(0 9 ? * MON-FRI *)',
  'cron(0 9 ? * 1,7 *)',
  'cron(0 3 * * ? *)',
];

/** The next `count` runs of each expression, computed in a process with the given TZ. */
async function nextRunsIn(tz: string, count: number): Promise<Record<string, string[]>> {
  const script = `
    import { cronJob } from './lib/local/local-schedules.ts';
    const out = {};
    for (const e of ${JSON.stringify(EXPRESSIONS)}) {
      out[e] = cronJob(e).nextRuns(${count}, new Date(${JSON.stringify(FROM)})).map((d) => d.toISOString());
    }
    process.stdout.write(JSON.stringify({ offset: new Date(${JSON.stringify(FROM)}).getTimezoneOffset(), out }));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, TZ: tz },
  });
  const parsed = JSON.parse(stdout) as { offset: number; out: Record<string, string[]> };
  // The child really ran in that zone, so a wrong reading would show.
  expect(parsed.offset).not.toBe(0);
  return parsed.out;
}

describe('local schedules read cron as EventBridge does (UTC, 1 = Sunday)', () => {
  for (const tz of ['America/New_York', 'Asia/Tokyo']) {
    it(`fires at the same UTC instants with TZ=${tz}`, async () => {
      const runs = await nextRunsIn(tz, 5);
      // Mondays at 09:00 UTC.
      expect(runs['cron(0 9 ? * 2 *)']).toEqual([
        '2025-06-09T09:00:00.000Z',
        '2025-06-16T09:00:00.000Z',
        '2025-06-23T09:00:00.000Z',
        '2025-06-30T09:00:00.000Z',
        '2025-07-07T09:00:00.000Z',
      ]);
      // 2-6 is MON-FRI.
      const weekdays = [
        '2025-06-05T09:00:00.000Z',
        '2025-06-06T09:00:00.000Z',
        '2025-06-09T09:00:00.000Z',
        '2025-06-10T09:00:00.000Z',
        '2025-06-11T09:00:00.000Z',
      ];
      expect(runs['cron(0 9 ? * 2-6 *)']).toEqual(weekdays);
      expect(runs['cron(0 9 ? * MON-FRI *)']).toEqual(weekdays);
      // 1 and 7 are Sunday and Saturday.
      expect(runs['cron(0 9 ? * 1,7 *)']).toEqual([
        '2025-06-07T09:00:00.000Z',
        '2025-06-08T09:00:00.000Z',
        '2025-06-14T09:00:00.000Z',
        '2025-06-15T09:00:00.000Z',
        '2025-06-21T09:00:00.000Z',
      ]);
      // The daily analysis at 03:00 UTC.
      expect(runs['cron(0 3 * * ? *)']?.[0]).toBe('2025-06-05T03:00:00.000Z');
    });
  }

  const next = (expression: string, count = 3) =>
    cronJob(expression)
      .nextRuns(count, new Date(FROM))
      .map((d) => d.toISOString());

  it('reads L, # and names the way EventBridge does', () => {
    // 6L: the last Friday of the month.
    expect(next('cron(0 18 ? * 6L *)')).toEqual([
      '2025-06-27T18:00:00.000Z',
      '2025-07-25T18:00:00.000Z',
      '2025-08-29T18:00:00.000Z',
    ]);
    // 3#2: the second Tuesday.
    expect(next('cron(0 9 ? * 3#2 *)', 2)).toEqual(['2025-06-10T09:00:00.000Z', '2025-07-08T09:00:00.000Z']);
    // L alone in day-of-week: the last day of the week, Saturday.
    expect(next('cron(0 9 ? * L *)', 2)).toEqual(['2025-06-07T09:00:00.000Z', '2025-06-14T09:00:00.000Z']);
    expect(next('cron(0 9 ? * SUN *)', 1)).toEqual(['2025-06-08T09:00:00.000Z']);
    // L in day-of-month: the last day of the month.
    expect(next('cron(0 9 L * ? *)', 2)).toEqual(['2025-06-30T09:00:00.000Z', '2025-07-31T09:00:00.000Z']);
  });

  it('keeps the year field and a start before a step', () => {
    expect(next('cron(0 0 1 1 ? 2027)')).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(next('cron(0/15 * * * ? *)', 2)).toEqual(['2025-06-04T12:15:00.000Z', '2025-06-04T12:30:00.000Z']);
  });

  it('turns the six EventBridge fields into croner seconds-first fields', () => {
    expect(toCron('cron(0 3 * * ? *)')).toBe('0 0 3 * * ? *');
    expect(() => toCron('cron(0 3 * * ?)')).toThrow('an EventBridge cron has six fields');
    expect(() => toCron('every day')).toThrow('not a schedule expression');
  });

  it('reads rate(...) as an interval', () => {
    expect(parseRate('rate(5 minutes)')).toBe(300_000);
    expect(parseRate('rate(1 hour)')).toBe(3_600_000);
    expect(parseRate('rate(2 days)')).toBe(172_800_000);
    expect(parseRate('cron(0 3 * * ? *)')).toBeUndefined();
  });

  it('starts and stops timers for both kinds, and runs one on demand', async () => {
    const results: string[] = [];
    const schedules = new LocalSchedules(
      [
        { id: 'Probe', expression: 'rate(5 minutes)', run: async () => 'probed' },
        { id: 'Weekly', expression: 'cron(0 9 ? * 2 *)', run: async () => 'weekly' },
      ],
      (id, result) => results.push(`${id}:${String(result)}`),
    );
    schedules.start();
    expect(schedules.list()).toEqual([
      { id: 'Probe', expression: 'rate(5 minutes)' },
      { id: 'Weekly', expression: 'cron(0 9 ? * 2 *)' },
    ]);
    await expect(schedules.runNow('Weekly')).resolves.toBe('weekly');
    await expect(schedules.runNow('Nope')).rejects.toThrow("no schedule 'Nope'");
    schedules.stop();
    expect(results).toEqual(['Weekly:weekly']);
  });
});
