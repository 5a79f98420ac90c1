/**
 * The run's control item as the step handler reads it: what pause, resume and cancel set, how
 * each step ended, and the gates parked until their dependencies end. Every change to it is one
 * atomic write that returns the whole item, so whichever of "a gate parks" and "its last
 * dependency ends" comes second sees both, and releases the gate: a gate is never left waiting.
 */
import type { WorkflowEngine } from './workflow-ports.ts';
import type { ExecutionControl } from './workflow-records.ts';

export type StepEnd = 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

/** A gate parked on the control item: the engine token to release, and the steps it waits for. */
export interface ParkedGate {
  token: string;
  after: string[];
}

export interface RunControl {
  control: ExecutionControl;
  /** How each step that has finished for good ended. */
  ended: Readonly<Record<string, StepEnd>>;
  gates: Readonly<Record<string, ParkedGate>>;
  /**
   * Callback steps still waiting for their factory when the run moved to a new execution (the
   * local runtime restarted): the hash of the token the factory holds, which stays valid.
   */
  carried: Readonly<Record<string, string>>;
  /** Time spent paused so far (before the current pause), in seconds. */
  pausedSeconds: number;
  /** When the current pause began. */
  pausedAt?: string | undefined;
  /** Steps that have started (ended or not). */
  started: readonly string[];
  /** A budgeted run: what its ended steps cost plus what its running steps are expected to (USD). */
  committedUsd: number;
}

/** Whether a gate waiting for `after` may open: the run is running and they have all ended. */
export function gateReady(run: RunControl, after: readonly string[]): boolean {
  return run.control === 'running' && after.every((id) => Object.hasOwn(run.ended, id));
}

/** The parked gates that may open (see {@link gateReady}). */
export function readyGates(run: RunControl): Array<{ stepId: string; token: string }> {
  return Object.entries(run.gates)
    .filter(([, gate]) => gateReady(run, gate.after))
    .map(([stepId, gate]) => ({ stepId, token: gate.token }));
}

/**
 * Whether the run has used up its time: `deadline` is its start plus its timeout, and time spent
 * paused (the current pause included) does not count.
 */
export function outOfTime(run: RunControl, deadline: string | undefined, now: Date): boolean {
  if (deadline === undefined) return false;
  const paused = run.pausedSeconds + (run.pausedAt ? (now.getTime() - Date.parse(run.pausedAt)) / 1000 : 0);
  return now.getTime() > Date.parse(deadline) + paused * 1000;
}

/** Opens the gates that are ready (see {@link readyGates}). */
export async function openReadyGates(
  run: RunControl,
  engine: Pick<WorkflowEngine, 'sendTaskSuccess'>,
): Promise<void> {
  await Promise.all(readyGates(run).map((gate) => openGate(gate.token, engine)));
}

/**
 * Opens one gate. One that is open already (two steps ended at once and both saw it ready, or
 * its execution is gone) is left alone.
 */
export async function openGate(
  token: string,
  engine: Pick<WorkflowEngine, 'sendTaskSuccess'>,
): Promise<void> {
  try {
    await engine.sendTaskSuccess(token, { status: 'OPEN' });
  } catch (error) {
    const name = (error as Error).name;
    if (name !== 'TaskTimedOut' && name !== 'TaskDoesNotExist' && name !== 'InvalidToken') throw error;
  }
}
