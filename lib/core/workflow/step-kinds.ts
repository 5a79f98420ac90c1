import type { WorkflowEngineType } from './workflow-records.ts';

/**
 * The kinds of workflow step, and everything that differs between them, in one place: which
 * engines can run a kind, which template fields belong to it, and how its Task state invokes the
 * step handler. A new kind is a field in the template schema that selects it ({@link kindOf}), an
 * entry here, and what the step runner does with its payload.
 */
export type StepKind = 'call' | 'callback';

/** The step fields that select and configure a kind. */
export interface StepKindFields {
  callback?: boolean | undefined;
  heartbeat_seconds?: number | undefined;
}

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const LAMBDA_INVOKE_WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
export const DEFAULT_HEARTBEAT_SECONDS = 300;

export interface StepKindSpec {
  /** Engines that can run the kind, and why the others cannot. */
  engines: readonly WorkflowEngineType[];
  unsupportedBecause?: string;
  /** The template field that selects the kind (none for the default kind). */
  selectedBy?: keyof StepKindFields;
  /** Template fields only this kind may set, with what they are called in messages. */
  ownFields: Readonly<Partial<Record<keyof StepKindFields, string>>>;
  /** The step definition fields that tell the step handler the kind (beyond the common ones). */
  definition(step: StepKindFields): Record<string, unknown>;
  /** The Task state's resource, extra payload fields, result selector and kind-specific fields. */
  taskState(step: StepKindFields): {
    Resource: string;
    payload: Record<string, string>;
    ResultSelector: Record<string, string>;
    extra: Record<string, unknown>;
  };
}

export const STEP_KINDS: Readonly<Record<StepKind, StepKindSpec>> = {
  /** The factory answers within the step handler's invocation. */
  call: {
    engines: ['standard', 'express'],
    ownFields: {},
    definition: () => ({}),
    taskState: () => ({
      Resource: LAMBDA_INVOKE,
      payload: {},
      ResultSelector: { 'status.$': '$.Payload.status' },
      extra: {},
    }),
  },
  /**
   * Long work: the factory answers 202 and calls back later with the task token; the step waits
   * without holding a Lambda (SendTaskSuccess ends it) and fails if no callback or heartbeat
   * arrives in time.
   */
  callback: {
    engines: ['standard'],
    unsupportedBecause: 'an express workflow cannot wait for a callback (Express has no task tokens)',
    selectedBy: 'callback',
    ownFields: { heartbeat_seconds: 'heartbeat' },
    definition: () => ({ callback: true }),
    taskState: (step) => ({
      Resource: LAMBDA_INVOKE_WAIT_FOR_TOKEN,
      payload: { 'taskToken.$': '$$.Task.Token' },
      ResultSelector: { 'status.$': '$.status' },
      extra: { HeartbeatSeconds: step.heartbeat_seconds ?? DEFAULT_HEARTBEAT_SECONDS },
    }),
  },
};

/** The kind whose selecting field the step sets; `call` when it sets none. */
export function kindOf(step: StepKindFields): StepKind {
  const kinds = Object.keys(STEP_KINDS) as StepKind[];
  return (
    kinds.find((kind) => {
      const field = STEP_KINDS[kind].selectedBy;
      return field !== undefined && Boolean(step[field]);
    }) ?? 'call'
  );
}

/** Fields a step sets that belong to another kind than its own. */
export function misplacedFields(
  step: StepKindFields,
): Array<{ field: keyof StepKindFields; message: string }> {
  const kind = kindOf(step);
  return Object.entries(STEP_KINDS).flatMap(([other, spec]) =>
    other === kind
      ? []
      : (Object.entries(spec.ownFields) as Array<[keyof StepKindFields, string]>)
          .filter(([field]) => step[field] !== undefined)
          .map(([field, called]) => ({ field, message: `only a ${other} step has a ${called}` })),
  );
}

/** Why `engine` cannot run the step's kind; undefined when it can. */
export function engineIssue(
  step: StepKindFields,
  engine: WorkflowEngineType,
): { field: keyof StepKindFields; message: string } | undefined {
  const spec = STEP_KINDS[kindOf(step)];
  if (spec.engines.includes(engine) || spec.selectedBy === undefined) return undefined;
  return {
    field: spec.selectedBy,
    message: `${spec.unsupportedBecause ?? `engine '${engine}' cannot run this step`}: use engine '${spec.engines[0]}'`,
  };
}
