import { describe, expect, it } from 'vitest';
import { type ArtifactRef, type ArtifactStore, resolveInputReferences } from '../../lib/core/artifacts.ts';
import { PayloadTooLargeError, ValidationError } from '../../lib/core/errors.ts';
import { jsonBytes, LIMITS } from '../../lib/core/limits.ts';
import type { TaskMessage } from '../../lib/core/task-message.ts';
import type { TaskRecord } from '../../lib/core/task-record.ts';
import {
  type TaskParameters,
  TaskSubmission,
  type TaskSubmissionPorts,
} from '../../lib/core/task-submission.ts';
import { rejection } from '../helpers/errors.ts';

const LIMIT = LIMITS.taskParameters.bytes;

/** Parameters whose JSON is exactly `bytes` long: `{"blob":"xxx..."}`. */
function parametersOf(bytes: number): TaskParameters {
  const parameters = { blob: 'x'.repeat(bytes - jsonBytes({ blob: '' })) };
  expect(jsonBytes(parameters)).toBe(bytes);
  return parameters;
}

/** A submission on in-memory ports, recording every write and every message. */
function submission(resolveReferences?: TaskSubmissionPorts['resolveReferences']) {
  const written: TaskRecord[] = [];
  const sent: TaskMessage[] = [];
  const order: string[] = [];
  const ports: TaskSubmissionPorts = {
    async putTaskIfAbsent(record) {
      order.push('write');
      written.push(record);
      return undefined;
    },
    async deleteTask() {},
    async claimRequeue() {
      return false;
    },
    async contextExists() {
      return true;
    },
    queue: {
      async send(message) {
        sent.push(message);
      },
    },
    ...(resolveReferences
      ? {
          resolveReferences: async (parameters: TaskParameters) => {
            order.push('resolve');
            return resolveReferences(parameters);
          },
        }
      : {}),
    now: () => new Date('2026-01-15T10:00:00.000Z'),
  };
  return { tasks: new TaskSubmission(ports), written, sent, order };
}

const ARTIFACT_ID = '0b6f3c1e-8d7a-4c2b-9e5f-1a2b3c4d5e6f';
/** A stored artifact of 1 GiB: far over every inline limit. */
const HUGE: ArtifactRef = {
  id: ARTIFACT_ID,
  uri: `s3://vobee-artifacts/${ARTIFACT_ID}`,
  bytes: 1024 ** 3,
  sha256: 'a'.repeat(64),
  mimeType: 'video/mp4',
};

/** An artifact store that knows one artifact, and is only asked about it. */
const store = {
  async describe(id: string) {
    return id === HUGE.id ? HUGE : undefined;
  },
  async seal() {
    return undefined;
  },
} as unknown as ArtifactStore;

describe('task parameters at submission', () => {
  it('takes parameters of exactly the limit', async () => {
    const { tasks, written, sent } = submission();
    const { created } = await tasks.submit({ type: 'render', parameters: parametersOf(LIMIT) });
    expect(created).toBe(true);
    expect(written).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });

  it('refuses one byte more (413, naming the limit) and writes and queues nothing', async () => {
    const { tasks, written, sent } = submission();
    const error = await rejection(
      tasks.submit({ type: 'render', parameters: parametersOf(LIMIT + 1) }),
      PayloadTooLargeError,
    );
    expect(error.message).toBe(
      `task parameters (large inputs go by artifact reference): ${LIMIT + 1} bytes is over the limit of ${LIMIT} bytes (64 KiB)`,
    );
    expect(written).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('counts a reference to a large artifact as its small JSON, resolved before the task is written', async () => {
    const { tasks, written, order } = submission((p) => resolveInputReferences(p, store, 'parameters'));
    const { created } = await tasks.submit({
      type: 'render',
      parameters: { ...parametersOf(LIMIT - 1_000), video: { artifact: { id: ARTIFACT_ID } } },
    });
    expect(created).toBe(true);
    expect(order).toEqual(['resolve', 'write']);
    // The reference was completed from the store: the task carries it, not the artifact.
    expect(written[0]?.task.parameters.video).toEqual({ artifact: HUGE });
    expect(jsonBytes(written[0]?.task.parameters)).toBeLessThanOrEqual(LIMIT);
  });

  it('measures the parameters as resolved: a reference completed past the limit is refused', async () => {
    const { tasks, written, order } = submission((p) => resolveInputReferences(p, store, 'parameters'));
    // Within the limit as sent ({"id": ...} only); over it once the store completes the reference.
    const parameters = { ...parametersOf(LIMIT - 100), video: { artifact: { id: ARTIFACT_ID } } };
    expect(jsonBytes(parameters)).toBeLessThanOrEqual(LIMIT);
    await rejection(tasks.submit({ type: 'render', parameters }), PayloadTooLargeError);
    expect(order).toEqual(['resolve']);
    expect(written).toEqual([]);
  });

  it('refuses an unknown artifact before anything is written', async () => {
    const { tasks, written, sent } = submission((p) => resolveInputReferences(p, store, 'parameters'));
    const error = await rejection(
      tasks.submit({
        type: 'render',
        parameters: { video: { artifact: { id: '11111111-2222-4333-8444-555555555555' } } },
      }),
      ValidationError,
    );
    expect(error.issues.map((i) => i.field)).toEqual(['parameters.video.artifact.id']);
    expect(written).toEqual([]);
    expect(sent).toEqual([]);
  });
});
