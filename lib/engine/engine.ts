/**
 * What both engines share besides the port they implement (`WorkflowEngine` in
 * `lib/core/workflow/workflow-ports.ts`): the errors they raise and the names they accept.
 */
import { ConflictError } from '../core/errors.ts';
import type { StateMachineType } from '../core/workflow/compile.ts';

/**
 * The engine cannot describe this execution: Step Functions keeps no history of Express
 * executions (DescribeExecution refuses them), so the caller answers from its own records.
 */
export class ExecutionNotDescribable extends Error {
  constructor(
    readonly executionId: string,
    options?: { cause?: unknown },
  ) {
    super(`execution '${executionId}' cannot be described: express executions keep no history`, options);
    this.name = 'ExecutionNotDescribable';
  }
}

/** A deploy that asks for another type than the state machine was created with. */
export function typeChangeConflict(
  name: string,
  existing: StateMachineType,
  requested: StateMachineType,
  options?: { cause?: unknown },
): ConflictError {
  return new ConflictError(
    `the engine of a workflow cannot change between versions: '${name}' runs on ${existing.toLowerCase()}, not ${requested.toLowerCase()}`,
    options,
  );
}

/** Execution names allow letters, digits, `-` and `_`, up to 80 characters. */
export function executionName(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '-');
  return safe.length <= 80 ? safe : safe.slice(0, 80);
}
