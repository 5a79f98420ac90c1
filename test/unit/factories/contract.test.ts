import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  defineAction,
  type FactoryDefinition,
  prepareCall,
  RefusedError,
} from '../../../lib/local/factories/contract.ts';
import { uploadOffer } from './support.ts';

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
    refuse: defineAction({
      description: 'Refuses after a wait',
      parameters: z.object({}),
      run: async () => {
        await Promise.resolve();
        throw new RefusedError('not like this');
      },
    }),
    upload: defineAction({
      description: 'Says where it would upload; needs an offer for a long word',
      parameters: z.object({ word: z.string() }),
      check: (p, request) =>
        p.word.length > 3 && !request.upload ? { field: 'upload', message: 'is needed' } : undefined,
      run: async (p, call) => ({ word: p.word, to: call.upload?.artifact.id ?? null }),
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

const field = (input: unknown) => {
  const prepared = prepareCall(echo, input);
  return prepared.ok ? undefined : prepared.error.field;
};

describe('prepareCall', () => {
  it('runs a valid call, reached by action or by task type', async () => {
    for (const action of ['echo', 'speaking']) {
      const prepared = prepareCall(echo, body({ action }));
      expect(prepared.ok && prepared.call.action).toBe('echo');
      expect(prepared.ok && (await prepared.call.run())).toEqual({
        httpStatus: 200,
        outcome: { status: 'succeeded', output: { said: 'hi' } },
      });
    }
  });

  it('names the action when it is unknown, and lists what is offered', () => {
    for (const action of ['paint', 'constructor', '__proto__', 'toString']) {
      const prepared = prepareCall(echo, body({ action }));
      expect(prepared.ok).toBe(false);
      if (!prepared.ok) {
        expect(prepared.error.field).toBe('action');
        expect(prepared.error.message).toContain('offers: echo, explode, refuse, upload, speaking');
      }
    }
  });

  it('names the envelope field or the parameter that is wrong', () => {
    expect(field(body({ taskId: undefined }))).toBe('taskId');
    expect(field(body({ action: '' }))).toBe('action');
    expect(field(body({ parameters: 'hi' }))).toBe('parameters');
    expect(field(body({ callbackUrl: 'file:///etc/passwd' }))).toBe('callbackUrl');
    expect(field(body({ parameters: { word: '' } }))).toBe('parameters.word');
    expect(field(null)).toBe('body');
  });

  it('turns a throwing action into a failed outcome answered 500, not an exception', async () => {
    const prepared = prepareCall(echo, body({ action: 'explode', parameters: {} }));
    expect(prepared.ok && (await prepared.call.run())).toEqual({
      httpStatus: 500,
      outcome: { status: 'failed', error: 'explode failed: boom' },
    });
  });

  it('answers a refusal 422, so that callers do not retry it', async () => {
    const prepared = prepareCall(echo, body({ action: 'refuse', parameters: {} }));
    expect(prepared.ok && (await prepared.call.run())).toEqual({
      httpStatus: 422,
      outcome: { status: 'failed', error: 'refuse failed: not like this' },
    });
  });
});

describe('the upload offer', () => {
  it('is accepted when well formed and handed to the action', async () => {
    const prepared = prepareCall(
      echo,
      body({ action: 'upload', parameters: { word: 'long' }, upload: uploadOffer }),
    );
    expect(prepared.ok && (await prepared.call.run()).outcome).toEqual({
      status: 'succeeded',
      output: { word: 'long', to: uploadOffer.artifact.id },
    });
  });

  it('is checked field by field', () => {
    const withUpload = (upload: unknown) => field(body({ upload }));
    expect(withUpload({ ...uploadOffer, method: 'POST' })).toBe('upload.method');
    expect(withUpload({ ...uploadOffer, url: 'file:///etc/passwd' })).toBe('upload.url');
    expect(withUpload({ ...uploadOffer, url: `http://s3.example/${'x'.repeat(9_000)}` })).toBe('upload.url');
    expect(withUpload({ ...uploadOffer, artifact: { ...uploadOffer.artifact, id: 'not-a-uuid' } })).toBe(
      'upload.artifact.id',
    );
    expect(withUpload({ ...uploadOffer, expiresAt: 'tomorrow' })).toBe('upload.expiresAt');
    expect(withUpload({ ...uploadOffer, maxBytes: -1 })).toBe('upload.maxBytes');
    expect(withUpload('http://s3.example/put')).toBe('upload');
    expect(withUpload(uploadOffer)).toBeUndefined();
  });

  it("lets an action refuse a call without one, before anything runs (the action's check)", () => {
    expect(field(body({ action: 'upload', parameters: { word: 'long' } }))).toBe('upload');
    expect(field(body({ action: 'upload', parameters: { word: 'hi' } }))).toBeUndefined();
  });
});
