import { describe, expect, it } from 'vitest';
import { applyRunChange, runChangeSchema } from '../../../lib/core/workflow/run-change.ts';
import { outOfTime, type RunControl, readyGates } from '../../../lib/core/workflow/run-control.ts';
import { validateTemplate } from '../../../lib/core/workflow/template.ts';

const control = (fields: Partial<RunControl> = {}): RunControl => ({
  control: 'running',
  ended: {},
  gates: {},
  carried: {},
  pausedSeconds: 0,
  started: [],
  committedUsd: 0,
  ...fields,
});

describe('readyGates', () => {
  it('opens the gates whose dependencies have all ended, whatever the way they ended', () => {
    const run = control({
      ended: { a: 'SUCCEEDED', b: 'FAILED' },
      gates: {
        c: { token: 't-c', after: ['a', 'b'] },
        d: { token: 't-d', after: ['a', 'x'] },
        e: { token: 't-e', after: [] },
      },
    });
    expect(readyGates(run)).toEqual([
      { stepId: 'c', token: 't-c' },
      { stepId: 'e', token: 't-e' },
    ]);
  });

  it('opens nothing while the run is paused or cancelled', () => {
    const gates = { c: { token: 't', after: [] } };
    expect(readyGates(control({ control: 'paused', gates }))).toEqual([]);
    expect(readyGates(control({ control: 'cancelled', gates }))).toEqual([]);
  });
});

describe('outOfTime', () => {
  const deadline = '2026-01-15T10:01:00.000Z';
  it('counts active time only: past pauses and the current one push the deadline back', () => {
    expect(outOfTime(control(), deadline, new Date('2026-01-15T10:00:59.000Z'))).toBe(false);
    expect(outOfTime(control(), deadline, new Date('2026-01-15T10:01:01.000Z'))).toBe(true);
    expect(outOfTime(control({ pausedSeconds: 3_600 }), deadline, new Date('2026-01-15T11:00:59.000Z'))).toBe(
      false,
    );
    expect(outOfTime(control({ pausedSeconds: 3_600 }), deadline, new Date('2026-01-15T11:01:01.000Z'))).toBe(
      true,
    );
    const paused = control({ control: 'paused', pausedAt: '2026-01-15T10:00:30.000Z' });
    expect(outOfTime(paused, deadline, new Date('2026-01-15T12:00:00.000Z'))).toBe(false);
  });
  it('has no limit without a deadline (runs compiled before runs had one)', () => {
    expect(outOfTime(control(), undefined, new Date('2030-01-01T00:00:00.000Z'))).toBe(false);
  });
});

describe('applyRunChange', () => {
  const template = validateTemplate({
    workflow_id: 'copy',
    name: 'Copy',
    steps: [
      { step_id: 'a', name: 'a', factory_type: 'studio', action: 'prepare' },
      { step_id: 'b', name: 'b', factory_type: 'studio', action: 'write', dependencies: ['a'] },
    ],
  });
  const change = (input: object) => runChangeSchema.parse({ changedBy: 'ana', ...input });

  it('replaces parameters and adds steps, leaving the rest as it was', () => {
    const next = applyRunChange(
      template,
      change({
        replaceParameters: { b: { tone: 'warm' } },
        addSteps: [
          { step_id: 'c', name: 'c', factory_type: 'studio', action: 'publish', dependencies: ['b'] },
        ],
      }),
      new Set(['a']),
    );
    expect(next.steps.map((s) => s.step_id)).toEqual(['a', 'b', 'c']);
    expect(next.steps[1]?.parameters).toEqual({ tone: 'warm' });
    expect(next.steps[0]).toEqual(template.steps[0]);
  });

  it('refuses to touch a step that has started (409) and names unknown steps (422)', () => {
    expect(() => applyRunChange(template, change({ skipSteps: ['a'] }), new Set(['a']))).toThrow(
      /cannot change step 'a': already started/,
    );
    expect(() => applyRunChange(template, change({ skipSteps: ['zz'] }), new Set())).toThrow(
      /unknown step 'zz'/,
    );
  });

  it('asks for a change and a name', () => {
    expect(runChangeSchema.safeParse({ changedBy: 'ana' }).success).toBe(false);
    expect(runChangeSchema.safeParse({ skipSteps: ['b'] }).success).toBe(false);
  });
});
