/**
 * Drawing a workflow run in the terminal: its steps in topological layers with status symbols,
 * timings and dependencies, redrawn in place on a terminal, or one line per step event otherwise.
 * Everything here is pure: the clock and the style come in as arguments, so a frame is a string
 * that tests can compare whole.
 */
import { layers } from '../core/graph.ts';
import type { ExecutionStatus, StepRecord, StepRunStatus } from '../core/workflow/workflow-records.ts';
import type { ExecutionView } from '../core/workflow/workflow-service.ts';
import type { Style, Tone } from './format.ts';

/**
 * What drawing needs of a template step. The API fills `dependencies` and `any_of` with their
 * defaults, but both are optional here so a partial template still draws.
 */
export interface DagStep {
  step_id: string;
  name?: string | undefined;
  dependencies?: readonly string[] | undefined;
  any_of?: readonly (readonly string[])[] | undefined;
}

/** What a step shows before the run has recorded anything about it. */
export type StepShown = StepRunStatus | 'PENDING';

/** One symbol per step state; `·` is a step the run has not reached, `⏸` one held by a pause. */
export const STEP_SYMBOLS: Readonly<Record<StepShown, string>> = {
  PENDING: '·',
  WAITING: '⏸',
  RUNNING: '▶',
  CALLBACK: '⧗',
  SUCCEEDED: '✓',
  FAILED: '✗',
  SKIPPED: '↷',
};

const STEP_TONES: Readonly<Record<StepShown, Tone | undefined>> = {
  PENDING: 'muted',
  WAITING: 'muted',
  RUNNING: 'warn',
  CALLBACK: 'warn',
  SUCCEEDED: 'good',
  FAILED: 'bad',
  SKIPPED: 'muted',
};

const RUN_TONES: Readonly<Record<ExecutionStatus, Tone | undefined>> = {
  PENDING: 'muted',
  RUNNING: 'warn',
  PAUSED: 'warn',
  SUCCEEDED: 'good',
  FAILED: 'bad',
  TIMED_OUT: 'bad',
  CANCELLED: 'bad',
};

/** Statuses after which a run changes no more. */
export const ENDED: ReadonlySet<ExecutionStatus> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);
const ACTIVE: ReadonlySet<StepRunStatus> = new Set(['RUNNING', 'CALLBACK']);

/** Every step a step waits for: its `dependencies` and each member of its `any_of` groups, once. */
export function stepDependencies(step: DagStep): string[] {
  return [...new Set([...(step.dependencies ?? []), ...(step.any_of ?? []).flat()])];
}

/**
 * The steps in topological layers: layer k holds the steps whose longest chain of dependencies
 * has k edges, so every step sits below everything it waits for. Template order is kept within
 * a layer. Dependencies on unknown steps are ignored; the API refuses cycles, and should one
 * reach the drawing anyway, the edge closing it is left out rather than looped on.
 */
export function layerSteps<S extends DagStep>(steps: readonly S[]): S[][] {
  const byId = new Map(steps.map((s) => [s.step_id, s]));
  const graph = new Map(steps.map((s) => [s.step_id, stepDependencies(s)]));
  return layers(graph).map((layer) => layer.map((id) => byId.get(id) as S));
}

/** A duration as the view shows it: `0.8s`, `12.3s`, `2m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 59_950) return `${(safe / 1000).toFixed(1)}s`;
  const seconds = Math.round(safe / 1000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** `a, b, (c | d)`: the plain dependencies, then each any_of group with its alternatives. */
export function formatDependencies(step: DagStep): string {
  const groups = (step.any_of ?? []).map((group) =>
    group.length === 1 ? (group[0] as string) : `(${group.join(' | ')})`,
  );
  return [...(step.dependencies ?? []), ...groups].join(', ');
}

function time(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** How long the run has taken: up to `stoppedAt` once it ended, else up to `now`. */
export function runElapsed(view: ExecutionView, now: number): number {
  const start = time(view.startedAt) ?? now;
  const lastEnd = Math.max(start, ...view.steps.map((s) => time(s.endedAt) ?? start));
  const end = ENDED.has(view.status) ? (time(view.stoppedAt) ?? lastEnd) : now;
  return Math.max(0, end - start);
}

/** How long a step has run (still running) or took (ended); undefined before it started. */
export function stepElapsed(step: StepRecord, view: ExecutionView, now: number): number | undefined {
  const start = time(step.startedAt);
  if (start === undefined) return undefined;
  if (ACTIVE.has(step.status)) {
    const end = ENDED.has(view.status) ? (time(view.stoppedAt) ?? now) : now;
    return Math.max(0, end - start);
  }
  if (step.status === 'SUCCEEDED' || step.status === 'FAILED') {
    const end = time(step.endedAt);
    return end === undefined ? undefined : Math.max(0, end - start);
  }
  return undefined;
}

/** How a frame is drawn. */
export interface ViewOptions {
  /** The clock, in ms since the epoch: running steps and the run's elapsed time are measured to it. */
  now: number;
  style: Style;
  /** The live frame: a footer on how to stop watching instead of the outcome. */
  live?: boolean;
  /** Terminal width: longer lines are cut, so a wrapped line never breaks the redraw. */
  width?: number | undefined;
  /** The version whose template `steps` came from, when known; a different run version is noted. */
  templateVersion?: number | undefined;
}

type Cell = readonly [string, Tone | undefined];

/**
 * Cells aligned on their column's widest text and painted; the padding stays outside the colour,
 * and the last non-empty cell is not padded, so no line ends in spaces. `tight` holds the columns
 * followed by one space instead of two (a symbol and the id it belongs to).
 */
function joinCells(
  rows: readonly (readonly Cell[])[],
  style: Style,
  { right, tight }: { right: ReadonlySet<number>; tight: ReadonlySet<number> },
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, [text]] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, text.length);
  }
  // A column with nothing in it (no step retried yet, say) takes no room at all.
  const shown = widths.flatMap((w, i) => (w > 0 ? [i] : []));
  return rows.map((full) => {
    const row = shown.map((i) => full[i] as Cell);
    const at = (j: number) => shown[j] as number;
    let last = row.length - 1;
    while (last > 0 && row[last]?.[0] === '') last--;
    let line = '';
    for (const [j, [text, tone]] of row.slice(0, last + 1).entries()) {
      const gap = ' '.repeat((widths[at(j)] ?? 0) - text.length);
      const painted = style.paint(text, tone);
      line += right.has(at(j)) ? gap + painted : j === last ? painted : painted + gap;
      if (j < last) line += tight.has(at(j)) ? ' ' : '  ';
    }
    return line;
  });
}

/**
 * The run as lines: a header (execution, workflow and version, status, elapsed time), then the
 * DAG one step a line (layer, symbol, id, name, service, attempt, time, `← dependencies`), then
 * the outcome, or in the live frame how to stop watching.
 * @param steps the template's steps; without them the recorded steps are drawn in one layer.
 */
export function renderExecution(
  view: ExecutionView,
  steps: readonly DagStep[] | undefined,
  options: ViewOptions,
): string[] {
  const { now, style } = options;
  const header = [
    `Execution ${view.executionId}`,
    `${view.workflowId} v${view.version}`,
    style.paint(view.status, RUN_TONES[view.status]),
    formatDuration(runElapsed(view, now)),
  ].join('  ');
  const lines = [header];
  if (steps === undefined) {
    lines.push(style.paint('No template found: dependencies are not shown.', 'muted'));
  } else if (options.templateVersion !== undefined && options.templateVersion !== view.version) {
    lines.push(
      style.paint(
        `Drawn from the template of v${options.templateVersion}, the current version; this run is v${view.version}.`,
        'muted',
      ),
    );
  }
  lines.push('', ...dagLines(view, steps, options));
  lines.push('', ...(options.live ? liveFooter(view, style) : outcomeLines(view, steps, now, style)));
  return options.width === undefined ? lines : lines.map((line) => fitWidth(line, options.width as number));
}

function dagLines(view: ExecutionView, steps: readonly DagStep[] | undefined, options: ViewOptions) {
  const { now, style } = options;
  const records = new Map(view.steps.map((s) => [s.stepId, s]));
  const known = steps ?? view.steps.map((s) => ({ step_id: s.stepId }));
  const layers: DagStep[][] = layerSteps(known);
  // Steps the run recorded but the template lacks (it changed since): shown last, without a layer.
  const extra = view.steps.filter((s) => !known.some((k) => k.step_id === s.stepId));
  if (extra.length > 0) layers.push(extra.map((s) => ({ step_id: s.stepId })));
  const rows: Cell[][] = [];
  layers.forEach((layer, k) => {
    layer.forEach((step, i) => {
      const record = records.get(step.step_id);
      const shown: StepShown = record?.status ?? 'PENDING';
      const elapsed = record ? stepElapsed(record, view, now) : undefined;
      const deps = formatDependencies(step);
      const gutter = i > 0 ? '' : k < layers.length - 1 || extra.length === 0 ? `L${k}` : '+';
      rows.push([
        [gutter, 'muted'],
        [STEP_SYMBOLS[shown], STEP_TONES[shown]],
        [step.step_id, shown === 'PENDING' ? 'muted' : undefined],
        [step.name ?? '', 'muted'],
        [record?.service ?? '', undefined],
        [record && record.attempts > 1 ? `attempt ${record.attempts}` : '', 'warn'],
        [elapsed === undefined ? '' : formatDuration(elapsed), undefined],
        [deps === '' ? '' : `← ${deps}`, 'muted'],
      ]);
    });
  });
  return joinCells(rows, style, { right: new Set([6]), tight: new Set([0, 1]) });
}

function liveFooter(view: ExecutionView, style: Style): string[] {
  return [
    style.paint(
      `Ctrl-C stops watching, not the run (vobee executions pause|cancel ${view.executionId})`,
      'muted',
    ),
    legend(style),
  ];
}

function legend(style: Style): string {
  return style.paint('· pending  ▶ running  ⧗ callback  ⏸ paused  ✓ succeeded  ✗ failed  ↷ skipped', 'muted');
}

/** What the run came to, naming the step that failed and its error; the live frame leaves it out. */
export function outcomeLines(
  view: ExecutionView,
  steps: readonly DagStep[] | undefined,
  now: number,
  style: Style,
): string[] {
  const total = Math.max(steps?.length ?? 0, view.steps.length);
  const succeeded = view.steps.filter((s) => s.status === 'SUCCEEDED').length;
  const done = `${succeeded} of ${total} steps succeeded`;
  const elapsed = formatDuration(runElapsed(view, now));
  const id = view.executionId;
  switch (view.status) {
    case 'SUCCEEDED':
      return [style.paint(`Succeeded in ${elapsed}: ${done}.`, 'good')];
    case 'FAILED': {
      const failed = view.steps
        .filter((s) => s.status === 'FAILED')
        .sort((a, b) => (time(a.endedAt) ?? now) - (time(b.endedAt) ?? now));
      const names = new Map((steps ?? []).map((s) => [s.step_id, s.name]));
      const [first, ...others] = failed;
      if (first === undefined) {
        return [style.paint(`Failed after ${elapsed}: ${runError(view) ?? 'no error was reported'}`, 'bad')];
      }
      const name = names.get(first.stepId);
      return [
        style.paint(
          `Failed after ${elapsed} at step ${first.stepId}${name ? ` (${name})` : ''}: ${first.error ?? runError(view) ?? 'no error was reported'}`,
          'bad',
        ),
        ...others.map((s) =>
          style.paint(`Also failed: ${s.stepId}: ${s.error ?? 'no error was reported'}`, 'bad'),
        ),
      ];
    }
    case 'CANCELLED':
      return [style.paint(`Cancelled after ${elapsed}: ${done}.`, 'bad')];
    case 'TIMED_OUT':
      return [
        style.paint(
          `Timed out after ${elapsed}: ${done}. Run it again from where it stopped with: vobee executions redrive ${id}`,
          'bad',
        ),
      ];
    case 'PAUSED':
      return [`Paused after ${elapsed}: ${done}. Resume it with: vobee executions resume ${id}`];
    default:
      return [
        `${view.status === 'PENDING' ? 'Starting' : 'Running'}: ${done}. Follow it with: vobee executions watch ${id}`,
      ];
  }
}

/** The run's own error (`error: cause`), when the engine reported one. */
export function runError(view: ExecutionView): string | undefined {
  if (!view.error) return undefined;
  const parts = [view.error.error, view.error.cause].filter((p) => p !== undefined && p !== '');
  return parts.length > 0 ? parts.join(': ') : undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape codes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

/** Cuts a line to the terminal width (colour dropped on a cut line, so no escape code is split). */
export function fitWidth(line: string, width: number): string {
  const plain = [...line.replace(ANSI, '')];
  // One column short of the edge: a line that exactly fills it wraps on some terminals.
  if (plain.length < width) return line;
  return `${plain.slice(0, Math.max(0, width - 2)).join('')}…`;
}

/**
 * What replaces the previous frame (`previous` lines, the cursor just below it) with `lines`:
 * cursor up to its first line, each line cleared and rewritten, and whatever the old frame had
 * below the new one cleared, in one string so the terminal never shows half a frame.
 */
export function redraw(previous: number, lines: readonly string[]): string {
  const up = previous > 0 ? `\u001b[${previous}A` : '';
  return `${up}${lines.map((line) => `\r\u001b[2K${line}\n`).join('')}\u001b[J`;
}

/** Erases a frame of `previous` lines, leaving the cursor where it began. */
export function eraseFrame(previous: number): string {
  return previous > 0 ? `\u001b[${previous}A\r\u001b[J` : '';
}

const RUN_LABEL = '(execution)';

interface Event {
  at: number;
  subject: string;
  text: string;
}

/**
 * One line per step event for output that is not a terminal (a log, a pipe, `--json`):
 * `12.3s  research_market  RUNNING`. Each update returns only what changed since the last one.
 * Times are offsets from the start of the run, taken from the timestamps the steps recorded, so
 * a step that started and ended between two polls still gets both lines, at their real times.
 */
export class EventLog {
  readonly #order: Map<string, number>;
  readonly #width: number;
  readonly #seen = new Map<string, { status: StepRunStatus; attempts: number }>();
  #status: ExecutionStatus | undefined;

  /** @param stepIds the template's step ids, for their order and the width of the id column. */
  constructor(stepIds: readonly string[]) {
    this.#order = new Map(stepIds.map((id, i) => [id, i]));
    this.#width = Math.max(RUN_LABEL.length, ...stepIds.map((id) => id.length));
  }

  /** The lines for every change since the previous update, oldest first. */
  update(view: ExecutionView, now: number): string[] {
    const start = time(view.startedAt) ?? now;
    const fallbackEnd = ENDED.has(view.status) ? (time(view.stoppedAt) ?? now) : now;
    const events: Event[] = [];
    const ordered = [...view.steps].sort(
      (a, b) => (this.#order.get(a.stepId) ?? Infinity) - (this.#order.get(b.stepId) ?? Infinity),
    );
    for (const step of ordered) {
      const before = this.#seen.get(step.stepId);
      if (before?.status === step.status && before.attempts === step.attempts) continue;
      this.#seen.set(step.stepId, { status: step.status, attempts: step.attempts });
      const started = time(step.startedAt);
      const ended = time(step.endedAt) ?? fallbackEnd;
      const event = (at: number, text: string) => events.push({ at, subject: step.stepId, text });
      const attempt = step.attempts > 1 ? ` (attempt ${step.attempts})` : '';
      // A step that got further than running between two polls still gets its start line.
      const missedStart =
        started !== undefined &&
        (step.status === 'SUCCEEDED' || step.status === 'FAILED' || step.status === 'CALLBACK') &&
        !(before && ACTIVE.has(before.status) && before.attempts === step.attempts);
      if (missedStart) event(started, `RUNNING${attempt}`);
      switch (step.status) {
        case 'RUNNING':
          event(started ?? now, `RUNNING${attempt}`);
          break;
        case 'CALLBACK':
          event(Math.max(now, started ?? now), `CALLBACK (waiting for ${step.service ?? 'the factory'})`);
          break;
        case 'WAITING':
          event(now, 'WAITING (paused)');
          break;
        case 'SKIPPED':
          event(ended, `SKIPPED${step.error ? `: ${step.error}` : ''}`);
          break;
        default: {
          const elapsed = stepElapsed(step, view, now);
          const details = [
            elapsed === undefined ? undefined : formatDuration(elapsed),
            step.service,
            step.attempts > 1 ? `${step.attempts} attempts` : undefined,
          ].filter((d) => d !== undefined);
          const suffix = details.length > 0 ? ` (${details.join(', ')})` : '';
          const error = step.status === 'FAILED' && step.error ? `: ${step.error}` : '';
          event(ended, `${step.status}${suffix}${error}`);
        }
      }
    }
    // Stable: steps that changed at the same time keep template order.
    events.sort((a, b) => a.at - b.at);
    // The run's own changes (a pause, a resume, the end) come after the steps seen with them, even
    // when the engine's clock puts its stop a little before a step's last write. Starting is no news.
    const first = this.#status === undefined;
    if (
      view.status !== this.#status &&
      !(first && (view.status === 'RUNNING' || view.status === 'PENDING'))
    ) {
      events.push({ at: ENDED.has(view.status) ? fallbackEnd : now, subject: RUN_LABEL, text: view.status });
    }
    this.#status = view.status;
    return events.map(
      (e) => `${formatDuration(e.at - start).padStart(5)}  ${e.subject.padEnd(this.#width)}  ${e.text}`,
    );
  }
}
