/**
 * A change to a running workflow: steps added, the parameters of a step not yet started
 * replaced, steps not yet started skipped. It becomes a template version scoped to the run,
 * validated like any template; a change never touches a step that has started.
 */
import * as z from 'zod';
import { ConflictError, type FieldIssue, ValidationError } from '../errors.ts';
import { type WorkflowTemplate, workflowStepSchema } from './template.ts';

export const runChangeSchema = z
  .object({
    /** Who makes the change: kept in the run's history. */
    changedBy: z.string().trim().min(1).max(200),
    reason: z.string().max(1_000).optional(),
    addSteps: z.array(workflowStepSchema).max(50).default([]),
    /** Step id -> its new parameters. */
    replaceParameters: z.record(z.string(), z.record(z.string(), z.json())).default({}),
    skipSteps: z.array(z.string()).max(200).default([]),
  })
  .strict()
  .refine(
    (c) => c.addSteps.length + Object.keys(c.replaceParameters).length + c.skipSteps.length > 0,
    'must add, change or skip at least one step',
  );

export type RunChange = z.output<typeof runChangeSchema>;
export type RunChangeInput = z.input<typeof runChangeSchema>;

/** One entry of a run's history of changes. */
export interface RunChangeRecord {
  changedBy: string;
  at: string;
  reason?: string | undefined;
  added: string[];
  replaced: string[];
  skipped: string[];
  /** The run-scoped version the run carried on under. */
  version: number;
}

/**
 * The run's template after the change (to be validated by the caller with `validateTemplate`).
 * `started` are the steps that have started in the run: they cannot be replaced or skipped.
 */
export function applyRunChange(
  template: WorkflowTemplate,
  change: RunChange,
  started: ReadonlySet<string>,
): WorkflowTemplate {
  const known = new Set(template.steps.map((s) => s.step_id));
  const issues: FieldIssue[] = [];
  const untouchable = (id: string, field: string) => {
    if (!known.has(id)) issues.push({ field, message: `unknown step '${id}'` });
    else if (started.has(id)) return true;
    return false;
  };
  const startedRefs: string[] = [];
  for (const id of Object.keys(change.replaceParameters))
    if (untouchable(id, `replaceParameters.${id}`)) startedRefs.push(id);
  change.skipSteps.forEach((id, i) => {
    if (untouchable(id, `skipSteps.${i}`)) startedRefs.push(id);
  });
  if (issues.length > 0) throw new ValidationError(issues);
  if (startedRefs.length > 0) {
    throw new ConflictError(
      `cannot change step${startedRefs.length > 1 ? 's' : ''} ${startedRefs.map((id) => `'${id}'`).join(', ')}: already started`,
    );
  }
  return {
    ...template,
    steps: [
      ...template.steps.map((step) =>
        Object.hasOwn(change.replaceParameters, step.step_id)
          ? {
              ...step,
              parameters: change.replaceParameters[
                step.step_id
              ] as WorkflowTemplate['steps'][number]['parameters'],
            }
          : step,
      ),
      ...change.addSteps,
    ],
  };
}
