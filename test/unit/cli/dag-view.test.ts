import { describe, expect, it } from 'vitest';
import {
  type DagStep,
  EventLog,
  eraseFrame,
  fitWidth,
  formatDependencies,
  formatDuration,
  layerSteps,
  outcomeLines,
  redraw,
  renderExecution,
  stepDependencies,
} from '../../../lib/cli/dag-view.ts';
import { createStyle } from '../../../lib/cli/format.ts';
import type { StepRecord } from '../../../lib/core/workflow/workflow-records.ts';
import type { ExecutionView } from '../../../lib/core/workflow/workflow-service.ts';

const plain = createStyle(false);
const T0 = Date.parse('2026-01-15T10:00:00.000Z');
/** An ISO time `s` seconds into the run. */
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const clock = (s: number) => T0 + s * 1000;

/** A small DAG: two roots, one step after the first, and one after both (an any_of group). */
const STEPS: DagStep[] = [
  { step_id: 'fetch', name: 'Fetch data', dependencies: [], any_of: [] },
  { step_id: 'trends', name: 'Trends', dependencies: [], any_of: [] },
  { step_id: 'clean', name: 'Clean', dependencies: ['fetch'], any_of: [] },
  { step_id: 'report', name: 'Report', dependencies: ['fetch'], any_of: [['clean', 'trends']] },
];

const step = (stepId: string, status: StepRecord['status'], extra: Partial<StepRecord> = {}): StepRecord => ({
  stepId,
  status,
  attempts: 1,
  ...extra,
});
const view = (status: ExecutionView['status'], steps: StepRecord[], extra: Partial<ExecutionView> = {}) =>
  ({
    executionId: 'demo-1a2b',
    workflowId: 'demo',
    version: 2,
    status,
    startedAt: at(0),
    currentSteps: [],
    steps,
    results: {},
    ...extra,
  }) satisfies ExecutionView;

describe('layerSteps', () => {
  it('puts each step in the layer of its longest dependency chain, template order within a layer', () => {
    const ids = layerSteps(STEPS).map((layer) => layer.map((s) => s.step_id));
    // report waits for clean (layer 1) through its any_of group, so it is in layer 2, not 1.
    expect(ids).toEqual([['fetch', 'trends'], ['clean'], ['report']]);
  });

  it('ignores unknown dependencies and survives a cycle instead of looping', () => {
    const layers = layerSteps([
      { step_id: 'a', dependencies: ['ghost'] },
      { step_id: 'b', dependencies: ['c'] },
      { step_id: 'c', dependencies: ['b'] },
    ]);
    expect(
      layers
        .flat()
        .map((s) => s.step_id)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(layers[0]?.map((s) => s.step_id)).toContain('a');
  });

  it('counts any_of members as dependencies once each', () => {
    expect(stepDependencies({ step_id: 'x', dependencies: ['a'], any_of: [['a', 'b'], ['b']] })).toEqual([
      'a',
      'b',
    ]);
    expect(formatDependencies(STEPS[3] as DagStep)).toBe('fetch, (clean | trends)');
    expect(formatDependencies({ step_id: 'y', any_of: [['only']] })).toBe('only');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0.0s'],
    [800, '0.8s'],
    [12_345, '12.3s'],
    [59_940, '59.9s'],
    [59_960, '1m00s'],
    [125_000, '2m05s'],
    [3_720_000, '1h02m'],
    [-5, '0.0s'],
  ])('%i ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('renderExecution', () => {
  const running = view('RUNNING', [
    step('fetch', 'SUCCEEDED', { service: 'data-factory', startedAt: at(0.2), endedAt: at(3.4) }),
    step('trends', 'RUNNING', { attempts: 2, startedAt: at(5) }),
    step('clean', 'CALLBACK', { service: 'clean-factory', startedAt: at(3.5) }),
  ]);

  it('draws the live frame: header, layers with symbols and timings, dependencies, footer (TTY golden)', () => {
    const lines = renderExecution(running, STEPS, {
      now: clock(12.4),
      style: plain,
      live: true,
      templateVersion: 2,
    });
    expect(redraw(0, lines)).toBe(
      [
        '\r\u001b[2KExecution demo-1a2b  demo v2  RUNNING  12.4s\n',
        '\r\u001b[2K\n',
        '\r\u001b[2KL0 ✓ fetch   Fetch data  data-factory              3.2s\n',
        '\r\u001b[2K   ▶ trends  Trends                     attempt 2  7.4s\n',
        '\r\u001b[2KL1 ⧗ clean   Clean       clean-factory             8.9s  ← fetch\n',
        '\r\u001b[2KL2 · report  Report                                      ← fetch, (clean | trends)\n',
        '\r\u001b[2K\n',
        '\r\u001b[2KCtrl-C stops watching, not the run (vobee executions pause|cancel demo-1a2b)\n',
        '\r\u001b[2K· pending  ▶ running  ⧗ callback  ⏸ paused  ✓ succeeded  ✗ failed  ↷ skipped\n',
        '\u001b[J',
      ].join(''),
    );
    // The next frame first goes back up over the 9 lines of this one.
    expect(redraw(lines.length, ['x'])).toBe('\u001b[9A\r\u001b[2Kx\n\u001b[J');
    expect(eraseFrame(9)).toBe('\u001b[9A\r\u001b[J');
    expect(eraseFrame(0)).toBe('');
  });

  it('draws a failed run once, naming the failed step and its error', () => {
    const failed = view(
      'FAILED',
      [
        step('fetch', 'SUCCEEDED', { service: 'data-factory', startedAt: at(0.2), endedAt: at(3.4) }),
        step('trends', 'SKIPPED', { endedAt: at(4) }),
        step('clean', 'FAILED', { startedAt: at(3.5), endedAt: at(9), error: 'clean-factory: 503' }),
      ],
      { stoppedAt: at(9.5) },
    );
    expect(renderExecution(failed, STEPS, { now: clock(60), style: plain }).join('\n')).toBe(
      [
        'Execution demo-1a2b  demo v2  FAILED  9.5s',
        '',
        'L0 ✓ fetch   Fetch data  data-factory  3.2s',
        '   ↷ trends  Trends',
        'L1 ✗ clean   Clean                     5.5s  ← fetch',
        'L2 · report  Report                          ← fetch, (clean | trends)',
        '',
        'Failed after 9.5s at step clean (Clean): clean-factory: 503',
      ].join('\n'),
    );
  });

  it('notes a template of another version, and draws without one', () => {
    const lines = renderExecution(running, STEPS, { now: clock(13), style: plain, templateVersion: 3 });
    expect(lines[1]).toBe('Drawn from the template of v3, the current version; this run is v2.');
    const bare = renderExecution(running, undefined, { now: clock(13), style: plain });
    expect(bare[1]).toBe('No template found: dependencies are not shown.');
    expect(bare.filter((l) => l.startsWith('L0'))).toHaveLength(1);
    expect(bare.join('\n')).not.toContain('←');
  });

  it('keeps colour codes around the text only, never around the padding', () => {
    const lines = renderExecution(running, STEPS, { now: clock(12.4), style: createStyle(true) });
    // An opening code, only spaces, then a closing code: padding painted.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape codes is the point
    const paintedPadding = /\u001b\[(1|2|3[123])m\s*\u001b\[(22|39)m/;
    for (const line of lines) expect(line).not.toMatch(paintedPadding);
    expect(lines[2]).toContain('\u001b[32m✓\u001b[39m fetch');
  });

  it('cuts lines to the terminal width so a redraw never wraps', () => {
    const lines = renderExecution(running, STEPS, { now: clock(12.4), style: createStyle(true), width: 30 });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape codes is the point
    const codes = /\u001b\[[0-9;]*m/g;
    for (const line of lines) expect([...line.replace(codes, '')].length).toBeLessThan(30);
    expect(fitWidth('short', 30)).toBe('short');
    expect(fitWidth('abcdef', 5)).toBe('abc…');
  });
});

describe('outcomeLines', () => {
  it('says how each ending came about', () => {
    const done = view('SUCCEEDED', [step('fetch', 'SUCCEEDED')], { stoppedAt: at(4) });
    expect(outcomeLines(done, STEPS, clock(9), plain)).toEqual([
      'Succeeded in 4.0s: 1 of 4 steps succeeded.',
    ]);
    const engineFailure = view('FAILED', [], {
      stoppedAt: at(2),
      error: { error: 'States.Timeout', cause: 'the run took over 3600 s' },
    });
    expect(outcomeLines(engineFailure, STEPS, clock(9), plain)).toEqual([
      'Failed after 2.0s: States.Timeout: the run took over 3600 s',
    ]);
    const cancelled = view('CANCELLED', [], { stoppedAt: at(1) });
    expect(outcomeLines(cancelled, STEPS, clock(9), plain)).toEqual([
      'Cancelled after 1.0s: 0 of 4 steps succeeded.',
    ]);
    expect(outcomeLines(view('PAUSED', []), STEPS, clock(3), plain)).toEqual([
      'Paused after 3.0s: 0 of 4 steps succeeded. Resume it with: vobee executions resume demo-1a2b',
    ]);
  });
});

describe('EventLog (plain golden)', () => {
  it('prints one line per step event, with times from the run start, and only what changed', () => {
    const log = new EventLog(STEPS.map((s) => s.step_id));
    const polls: [ExecutionView, number][] = [
      [view('RUNNING', []), 0.1],
      [
        view('RUNNING', [
          step('fetch', 'RUNNING', { startedAt: at(0.2) }),
          step('trends', 'RUNNING', { startedAt: at(0.2) }),
        ]),
        0.5,
      ],
      [
        // fetch ended and clean started and ended between two polls: all three lines still appear.
        view('PAUSED', [
          step('fetch', 'SUCCEEDED', { service: 'data-factory', startedAt: at(0.2), endedAt: at(1.0) }),
          step('trends', 'RUNNING', { startedAt: at(0.2) }),
          step('clean', 'SUCCEEDED', { service: 'clean-factory', startedAt: at(1.1), endedAt: at(1.9) }),
        ]),
        2.0,
      ],
      [
        view('PAUSED', [
          step('fetch', 'SUCCEEDED', { service: 'data-factory', startedAt: at(0.2), endedAt: at(1.0) }),
          step('trends', 'FAILED', { startedAt: at(0.2), endedAt: at(2.1), error: 'timeout' }),
          step('clean', 'SUCCEEDED', { service: 'clean-factory', startedAt: at(1.1), endedAt: at(1.9) }),
          step('report', 'WAITING'),
        ]),
        2.25,
      ],
      [
        view('RUNNING', [
          step('fetch', 'SUCCEEDED', { service: 'data-factory', startedAt: at(0.2), endedAt: at(1.0) }),
          step('trends', 'RUNNING', { attempts: 2, startedAt: at(2.6) }),
          step('clean', 'SUCCEEDED', { service: 'clean-factory', startedAt: at(1.1), endedAt: at(1.9) }),
          step('report', 'WAITING'),
        ]),
        2.75,
      ],
      [
        view(
          'SUCCEEDED',
          [
            step('fetch', 'SUCCEEDED', { service: 'data-factory', startedAt: at(0.2), endedAt: at(1.0) }),
            step('trends', 'SUCCEEDED', {
              attempts: 2,
              service: 'trend-factory',
              startedAt: at(2.6),
              endedAt: at(3.0),
            }),
            step('clean', 'SUCCEEDED', { service: 'clean-factory', startedAt: at(1.1), endedAt: at(1.9) }),
            step('report', 'SUCCEEDED', { service: 'report-factory', startedAt: at(3.1), endedAt: at(12.4) }),
          ],
          { stoppedAt: at(12.5) },
        ),
        13,
      ],
    ];
    const out = polls.map(([v, s]) => log.update(v, clock(s)));
    expect(out.map((lines) => lines.join('\n')).join('\n---\n')).toBe(
      [
        '',
        '---',
        ' 0.2s  fetch        RUNNING',
        ' 0.2s  trends       RUNNING',
        '---',
        ' 1.0s  fetch        SUCCEEDED (0.8s, data-factory)',
        ' 1.1s  clean        RUNNING',
        ' 1.9s  clean        SUCCEEDED (0.8s, clean-factory)',
        ' 2.0s  (execution)  PAUSED',
        '---',
        ' 2.1s  trends       FAILED (1.9s): timeout',
        ' 2.3s  report       WAITING (paused)',
        '---',
        ' 2.6s  trends       RUNNING (attempt 2)',
        ' 2.8s  (execution)  RUNNING',
        '---',
        ' 3.0s  trends       SUCCEEDED (0.4s, trend-factory, 2 attempts)',
        ' 3.1s  report       RUNNING',
        '12.4s  report       SUCCEEDED (9.3s, report-factory)',
        '12.5s  (execution)  SUCCEEDED',
      ].join('\n'),
    );
  });

  it('reports a run that had already ended when first seen', () => {
    const log = new EventLog(['a']);
    expect(
      log.update(
        view('CANCELLED', [step('a', 'FAILED', { startedAt: at(1), error: 'the run ended (CANCELLED)' })], {
          stoppedAt: at(4),
        }),
        clock(100),
      ),
    ).toEqual([
      ' 1.0s  a            RUNNING',
      ' 4.0s  a            FAILED: the run ended (CANCELLED)',
      ' 4.0s  (execution)  CANCELLED',
    ]);
  });
});
