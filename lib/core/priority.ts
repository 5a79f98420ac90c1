import * as z from 'zod';
import { identifier } from './names.ts';
import { parseInput } from './validation.ts';

/** Priority levels and their base scores: critical 4, high 3, normal 2, low 1. */
export const PRIORITY_LEVELS = { critical: 4, high: 3, normal: 2, low: 1 } as const;
export type Priority = keyof typeof PRIORITY_LEVELS;
export const priority = z.enum(['critical', 'high', 'normal', 'low']);

/**
 * Task-type multipliers: security and money first, resource-heavy media last.
 * Types not listed score with {@link DEFAULT_MULTIPLIER}.
 */
export const DEFAULT_TYPE_MULTIPLIERS: Readonly<Record<string, number>> = Object.freeze({
  fraud_detection: 1.5,
  finance: 1.5,
  crypto_prediction: 1.2,
  email_campaign: 1.0,
  video_generation: 0.8,
});
export const DEFAULT_MULTIPLIER = 1.0;

export const multipliersSchema = z.record(identifier, z.number().positive().max(100));

/** The part of a task that decides its priority. */
export interface Prioritizable {
  type: string;
  priority?: Priority | undefined;
}

const prioritizableSchema = z.looseObject({ type: identifier, priority: priority.optional() });

/** Score = priority level x task-type multiplier, rounded to 4 decimals so 3 x 0.8 is 2.4, not 2.4000000000000004. */
export function priorityScore(
  task: Prioritizable,
  multipliers: Readonly<Record<string, number>> = DEFAULT_TYPE_MULTIPLIERS,
): number {
  const level = PRIORITY_LEVELS[task.priority ?? 'normal'];
  // Own properties only: a type named like an Object method (`toString`) must not find one.
  const multiplier = Object.hasOwn(multipliers, task.type)
    ? (multipliers[task.type] as number)
    : DEFAULT_MULTIPLIER;
  return Math.round(level * multiplier * 10_000) / 10_000;
}

/**
 * Orders tasks by priority score, highest first. Ties keep their input order, so a batch that
 * arrives in submission order stays first-come-first-served within a score.
 */
export function prioritize<T extends Prioritizable>(
  tasks: readonly T[],
  multipliers: Readonly<Record<string, number>> = DEFAULT_TYPE_MULTIPLIERS,
): Array<T & { priorityScore: number }> {
  parseInput(z.array(prioritizableSchema), tasks, 'tasks');
  parseInput(multipliersSchema, multipliers, 'multipliers');
  return tasks
    .map((task, index) => ({ task: { ...task, priorityScore: priorityScore(task, multipliers) }, index }))
    .sort((a, b) => b.task.priorityScore - a.task.priorityScore || a.index - b.index)
    .map(({ task }) => task);
}
