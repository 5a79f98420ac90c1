import { describe, expect, it } from 'vitest';
import { executionStatusChange, runEndOf } from '../../../lib/core/workflow/run-end-event.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');

function event(detail: Record<string, unknown>) {
  return executionStatusChange.parse({
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    detail: {
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:vobee-dev-wf-launch:run-1-r2',
      name: 'run-1-r2',
      status: 'SUCCEEDED',
      stopDate: Date.parse('2026-03-01T11:59:00.000Z'),
      ...detail,
    },
  });
}

describe("the end of a run, from Step Functions' status change event", () => {
  it('belongs to the run its input names, with the time it stopped', () => {
    const input = JSON.stringify({ input: {}, run: { id: 'run-1', deadline: '2026-03-01T13:00:00.000Z' } });
    expect(runEndOf(event({ input }), NOW)).toEqual({
      runId: 'run-1',
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:vobee-dev-wf-launch:run-1-r2',
      end: { status: 'SUCCEEDED', at: '2026-03-01T11:59:00.000Z' },
    });
  });

  it('without its input (too large for the event), belongs to the run its name is made from', () => {
    expect(runEndOf(event({ input: null }), NOW).runId).toBe('run-1');
    expect(runEndOf(event({ input: '{"cut', name: 'run-7' }), NOW).runId).toBe('run-7');
  });

  it('keeps the error and a cause cut to 2,000 characters, and the time of reading when none is given', () => {
    const { end } = runEndOf(
      event({ status: 'FAILED', error: 'States.Timeout', cause: 'x'.repeat(5_000), stopDate: null }),
      NOW,
    );
    expect(end).toEqual({
      status: 'FAILED',
      at: NOW.toISOString(),
      error: 'States.Timeout',
      cause: 'x'.repeat(2_000),
    });
  });

  it('is refused for anything else', () => {
    expect(executionStatusChange.safeParse({ source: 'aws.states', detail: {} }).success).toBe(false);
    expect(
      executionStatusChange.safeParse({
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        detail: { executionArn: 'a', name: 'n', status: 'RUNNING' },
      }).success,
    ).toBe(false);
  });
});
