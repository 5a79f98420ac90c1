import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineAction, type FactoryDefinition, prepareCall } from '../../../lib/local/factories/contract.ts';

const echo: FactoryDefinition = {
  name: 'echo-factory',
  factoryType: 'test',
  version: '1.0.0',
  actions: {
    echo: defineAction({
      description: 'Returns its word',
      parameters: z.object({ word: z.string().min(1) }),
      run: (p) => ({ said: p.word }),
    }),
    explode: defineAction({
      description: 'Always throws',
      parameters: z.object({}),
      run: () => {
        throw new Error('boom');
      },
    }),
  },
  taskTypes: { speaking: 'echo' },
};

const body = (overrides: Record<string, unknown>) => ({
  action: 'echo',
  parameters: { word: 'hi' },
  taskId: 'task-1',
  context: {},
  ...overrides,
});

describe('prepareCall', () => {
  it('runs a valid call, reached by action or by task type', () => {
    for (const action of ['echo', 'speaking']) {
      const prepared = prepareCall(echo, body({ action }));
      expect(prepared.ok && prepared.call.action).toBe('echo');
      expect(prepared.ok && prepared.call.run()).toEqual({ status: 'succeeded', output: { said: 'hi' } });
    }
  });

  it('names the action when it is unknown, and lists what is offered', () => {
    for (const action of ['paint', 'constructor', '__proto__', 'toString']) {
      const prepared = prepareCall(echo, body({ action }));
      expect(prepared.ok).toBe(false);
      if (!prepared.ok) {
        expect(prepared.error.field).toBe('action');
        expect(prepared.error.message).toContain('offers: echo, explode, speaking');
      }
    }
  });

  it('names the envelope field or the parameter that is wrong', () => {
    const field = (input: unknown) => {
      const prepared = prepareCall(echo, input);
      return prepared.ok ? undefined : prepared.error.field;
    };
    expect(field(body({ taskId: undefined }))).toBe('taskId');
    expect(field(body({ action: '' }))).toBe('action');
    expect(field(body({ parameters: 'hi' }))).toBe('parameters');
    expect(field(body({ callbackUrl: 'file:///etc/passwd' }))).toBe('callbackUrl');
    expect(field(body({ parameters: { word: '' } }))).toBe('parameters.word');
    expect(field(null)).toBe('body');
  });

  it('turns a throwing action into a failed outcome, not an exception', () => {
    const prepared = prepareCall(echo, body({ action: 'explode', parameters: {} }));
    expect(prepared.ok && prepared.call.run()).toEqual({ status: 'failed', error: 'explode failed: boom' });
  });
});
