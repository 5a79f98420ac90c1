import * as z from 'zod';
import { identifier } from './names.ts';
import { priority } from './priority.ts';

/** A unit of work as the brain and the router see it. */
export const taskSchema = z
  .object({
    id: identifier,
    type: identifier,
    action: identifier.optional(),
    priority: priority.default('normal'),
    /** Free words describing the task; content rules match on them. */
    keywords: z.array(z.string().min(1).max(64)).max(50).default([]),
    /** Restricts routing to services of this factory type (e.g. `media`). */
    factoryType: identifier.optional(),
    parameters: z.record(z.string(), z.unknown()).default({}),
    /** Resources the submitter asks for; the brain fills the rest from the task profile and history. */
    resources: z
      .object({
        cpu: z.number().positive().max(64).optional(),
        memoryMb: z.number().int().positive().max(262_144).optional(),
        timeoutSeconds: z.number().positive().max(86_400).optional(),
      })
      .strict()
      .default({}),
    contextId: identifier.optional(),
  })
  .strict();
export type Task = z.output<typeof taskSchema>;
export type TaskInput = z.input<typeof taskSchema>;
