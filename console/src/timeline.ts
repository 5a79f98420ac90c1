/**
 * The timeline of a run (a Gantt chart): when each step ran, and the critical path, the chain of
 * steps that decided when the run ended. Pure: times are numbers and `now` comes in.
 */

export interface TimedStep {
  id: string;
  /** Everything the step waited for (its dependencies and `any_of` members). */
  dependencies: readonly string[];
  /** Milliseconds since the epoch; undefined before the step started. */
  start: number | undefined;
  /** Undefined while it runs. */
  end: number | undefined;
}

export interface TimelineBar {
  id: string;
  /** From the start of the run. */
  offsetMs: number;
  durationMs: number;
  /** Still running: the bar ends at `now`. */
  open: boolean;
  critical: boolean;
}

export interface Timeline {
  bars: TimelineBar[];
  /** The span the chart covers, from the run's start. */
  spanMs: number;
  /** Step ids from first to last. */
  criticalPath: string[];
}

/**
 * The critical path: from the step that ended last (or is still running), back through the
 * dependency that ended last before it, since that is the one it was waiting for, to a step that
 * waited for nothing that ran.
 */
export function criticalPath(steps: readonly TimedStep[], now: number): string[] {
  const started = steps.filter((s) => s.start !== undefined);
  const byId = new Map(started.map((s) => [s.id, s]));
  const endOf = (s: TimedStep) => s.end ?? now;
  let last: TimedStep | undefined;
  for (const step of started) if (!last || endOf(step) > endOf(last)) last = step;
  const path: string[] = [];
  const seen = new Set<string>();
  for (let step = last; step && !seen.has(step.id); ) {
    seen.add(step.id);
    path.unshift(step.id);
    const ran = step.dependencies.flatMap((id) => {
      const dep = byId.get(id);
      return dep && dep.end !== undefined ? [dep] : [];
    });
    step = ran.sort((a, b) => endOf(b) - endOf(a))[0];
  }
  return path;
}

/** Bars for every step that started, in the order given, with the critical path marked. */
export function buildTimeline(
  steps: readonly TimedStep[],
  runStart: number,
  runEnd: number | undefined,
  now: number,
): Timeline {
  const critical = new Set(criticalPath(steps, now));
  const bars = steps.flatMap((step) => {
    if (step.start === undefined) return [];
    const end = step.end ?? runEnd ?? now;
    return [
      {
        id: step.id,
        offsetMs: Math.max(0, step.start - runStart),
        durationMs: Math.max(0, end - step.start),
        open: step.end === undefined,
        critical: critical.has(step.id),
      },
    ];
  });
  const lastEnd = Math.max(0, ...bars.map((b) => b.offsetMs + b.durationMs));
  const spanMs = Math.max(lastEnd, (runEnd ?? now) - runStart, 1);
  return { bars, spanMs, criticalPath: [...critical].filter((id) => bars.some((b) => b.id === id)) };
}

/** Round tick marks for an axis of `spanMs`: about `count` of them, at 1, 2 or 5 times a power of ten. */
export function ticks(spanMs: number, count = 5): number[] {
  if (spanMs <= 0) return [0];
  const rough = spanMs / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const out: number[] = [];
  for (let t = 0; t <= spanMs + step / 1e6; t += step) out.push(Math.round(t));
  return out;
}
