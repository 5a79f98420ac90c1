import { describe, expect, it } from 'vitest';
import { taskCallbackToken, taskIdOfToken, tokenHash } from '../../lib/core/callback-tokens.ts';
import { parseStepToken, type StepToken, stepCallbackToken } from '../../lib/core/workflow/step-token.ts';

const step = (overrides: Partial<StepToken> = {}): StepToken => ({
  executionName: 'nightly-report-2026-01-15',
  stepId: 'fetch',
  service: 'svc-a',
  taskType: 'market_research',
  engineToken: 'AAAAKgAAAAIAAAAAAAAAAQ',
  ...overrides,
});

describe('task callback tokens', () => {
  it.each(['task-1', 'a.b.c', 'ns:tenant:42', 'v1.2:job_7-x', '.', ':'])(
    'carries the task id %j',
    (taskId) => {
      expect(taskIdOfToken(taskCallbackToken(taskId))).toBe(taskId);
    },
  );

  it('gives a new secret each time', () => {
    const first = taskCallbackToken('task-1');
    const second = taskCallbackToken('task-1');
    expect(first).not.toBe(second);
    expect(tokenHash(first)).not.toBe(tokenHash(second));
  });

  it('hashes a token the same way every time, without containing it', () => {
    const token = taskCallbackToken('task-1');
    expect(tokenHash(token)).toBe(tokenHash(token));
    expect(tokenHash(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenHash(token)).not.toContain(token);
  });

  it('is not a step token', () => {
    expect(parseStepToken(taskCallbackToken('task-1'))).toBeUndefined();
    expect(parseStepToken(taskCallbackToken('w.a.b.c.d'))).toBeUndefined();
  });

  it.each(['', 'garbage', 't.', 't..secret', 't.dGFzay0x', 't.dGFzay0x.'])(
    'names no task for the malformed token %j',
    (token) => {
      expect(taskIdOfToken(token)).toBeUndefined();
    },
  );
});

describe('workflow step tokens', () => {
  it('round-trips every part', () => {
    const parts = step();
    expect(parseStepToken(stepCallbackToken(parts))).toEqual(parts);
  });

  it('round-trips names with dots and colons', () => {
    const parts = step({
      executionName: 'run.2026:01:15',
      stepId: 'a.b.c',
      service: 'svc:eu.1',
      taskType: 'market.research:v2',
    });
    expect(parseStepToken(stepCallbackToken(parts))).toEqual(parts);
  });

  it.each(['AAA.BBB.CCC', 'abc/def+ghi==', 'a.b/c.d/e', '.leading.and.trailing.'])(
    'keeps the engine token %j whole',
    (engineToken) => {
      expect(parseStepToken(stepCallbackToken(step({ engineToken })))).toEqual(step({ engineToken }));
    },
  );

  it('is not a task token', () => {
    expect(taskIdOfToken(stepCallbackToken(step()))).toBeUndefined();
    expect(
      taskIdOfToken(stepCallbackToken(step({ executionName: 't', engineToken: 'x.y' }))),
    ).toBeUndefined();
  });

  it.each(['', 'w.', 'w.YQ.Yg.Yw.ZA', 'w.YQ.Yg.Yw.ZA.', 'w..Yg.Yw.ZA.engine', 'x.YQ.Yg.Yw.ZA.engine'])(
    'reads nothing from the malformed token %j',
    (token) => {
      expect(parseStepToken(token)).toBeUndefined();
    },
  );
});
