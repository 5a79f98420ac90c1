import { Cron } from 'croner';

export interface Schedule {
  id: string;
  expression: string;
  run(): Promise<unknown>;
}

/**
 * Runs the manifest's EventBridge schedule expressions in-process: `rate(5 minutes)` as an
 * interval, `cron(0 3 * * ? *)` through croner (EventBridge's year field is dropped and `?` is
 * read as `*`). Each schedule can also be run at once, for demos and tests.
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
        const job = new Cron(toCron(schedule.expression), { unref: true }, fire);
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

/** An EventBridge `cron(min hour dom month dow year)` as a five-field cron for croner. */
export function toCron(expression: string): string {
  const match = /^cron\((.+)\)$/.exec(expression.trim());
  if (!match) throw new Error(`not a schedule expression: ${expression}`);
  const fields = (match[1] as string).split(/\s+/);
  if (fields.length !== 6) throw new Error(`an EventBridge cron has six fields: ${expression}`);
  return fields
    .slice(0, 5)
    .map((f) => (f === '?' ? '*' : f))
    .join(' ');
}
