import { Cron, type CronOptions } from 'croner';

export interface Schedule {
  id: string;
  expression: string;
  run(): Promise<unknown>;
}

/**
 * Runs the manifest's EventBridge schedule expressions in-process: `rate(5 minutes)` as an
 * interval, `cron(0 3 * * ? *)` through croner, read as EventBridge reads it (see
 * {@link cronJob}). Each schedule can also be run at once, for demos and tests.
 */
export class LocalSchedules {
  readonly #schedules = new Map<string, Schedule>();
  readonly #timers: Array<{ stop(): void }> = [];
  readonly #onResult: (id: string, result: unknown, error?: unknown) => void;

  constructor(
    schedules: readonly Schedule[],
    onResult: (id: string, result: unknown, error?: unknown) => void = () => {},
  ) {
    for (const schedule of schedules) this.#schedules.set(schedule.id, schedule);
    this.#onResult = onResult;
  }

  start(): void {
    for (const schedule of this.#schedules.values()) {
      const fire = () => void this.runNow(schedule.id).catch(() => undefined);
      const rate = parseRate(schedule.expression);
      if (rate !== undefined) {
        const timer = setInterval(fire, rate);
        timer.unref();
        this.#timers.push({ stop: () => clearInterval(timer) });
      } else {
        const job = cronJob(schedule.expression, fire);
        this.#timers.push({ stop: () => job.stop() });
      }
    }
  }

  stop(): void {
    for (const timer of this.#timers.splice(0)) timer.stop();
  }

  list(): Array<{ id: string; expression: string }> {
    return [...this.#schedules.values()].map(({ id, expression }) => ({ id, expression }));
  }

  async runNow(id: string): Promise<unknown> {
    const schedule = this.#schedules.get(id);
    if (!schedule) throw new Error(`no schedule '${id}'`);
    try {
      const result = await schedule.run();
      this.#onResult(id, result);
      return result;
    } catch (error) {
      this.#onResult(id, undefined, error);
      throw error;
    }
  }
}

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Milliseconds of a `rate(...)` expression, or undefined for anything else. */
export function parseRate(expression: string): number | undefined {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/**
 * How croner reads an EventBridge cron: in UTC whatever the machine's time zone, with the
 * day of the week counted 1-7 from Sunday (Quartz numbering, names SUN-SAT), the year field
 * kept, and a start value before a step (`0/15`) allowed.
 */
const EVENTBRIDGE_CRON: CronOptions = {
  timezone: 'Etc/UTC',
  alternativeWeekdays: true,
  mode: '7-part',
  sloppyRanges: true,
};

/**
 * A croner job for an EventBridge `cron(...)` expression that fires when EventBridge would;
 * without `run` it is only for asking the next run times (`nextRun`, `nextRuns`).
 */
export function cronJob(expression: string, run?: () => void): Cron {
  const options: CronOptions = { ...EVENTBRIDGE_CRON, unref: true };
  const pattern = toCron(expression);
  return run ? new Cron(pattern, options, run) : new Cron(pattern, options);
}

/**
 * An EventBridge `cron(min hour dom month dow year)` as a seven-field croner pattern (a zero
 * seconds field first), for croner run with {@link EVENTBRIDGE_CRON}. A lone `L` in the
 * day-of-week field is the last day of the week, Saturday (7).
 */
export function toCron(expression: string): string {
  const match = /^cron\((.+)\)$/.exec(expression.trim());
  if (!match) throw new Error(`not a schedule expression: ${expression}`);
  const fields = (match[1] as string).trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`an EventBridge cron has six fields: ${expression}`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const weekday = dayOfWeek.toUpperCase() === 'L' ? '7' : dayOfWeek;
  return ['0', minutes, hours, dayOfMonth, month, weekday, year].join(' ');
}
