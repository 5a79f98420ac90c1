import * as z from 'zod';
import { type FieldIssue, ValidationError } from '../errors.ts';
import { findCycle } from '../graph.ts';
import { identifier } from '../names.ts';
import { parseInput } from '../validation.ts';
import { ancestorsOf, type Dag } from './dag.ts';
import { forEachIssues, forEachSchema, itemReferenceIssues } from './fan-out.ts';
import { scanReferences } from './references.ts';
import { engineIssue, misplacedFields } from './step-kinds.ts';
import { inputDeclarationsSchema, inputReferenceIssues } from './template-inputs.ts';

/** Upper bound on steps per template: keeps compilation fast and the definition well within Step Functions limits. */
export const MAX_STEPS = 200;
/** Longest run Step Functions allows for a standard workflow (one year), in seconds. */
export const MAX_TIMEOUT_SECONDS = 31_536_000;
/** Longest run of an Express workflow (five minutes), in seconds: also its default `timeout`. */
export const MAX_EXPRESS_TIMEOUT_SECONDS = 300;
/** The `timeout` of a standard workflow that does not give one, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 3_600;

/**
 * Step ids become JSONPath segments (`$.results.<id>`), state names and reference segments
 * (`{{steps.<id>.output...}}`), so they are restricted to what is safe in all three.
 */
export const stepIdSchema = z
  .string()
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must start with a letter and contain only letters, digits and _');

const distinct = (items: readonly string[]) => new Set(items).size === items.length;

export const workflowStepSchema = z
  .object({
    step_id: stepIdSchema,
    name: z.string().trim().min(1, 'must not be empty').max(200),
    factory_type: identifier,
    action: identifier,
    /**
     * Passed to the factory; strings may hold `{{steps.<id>.output.<path>}}` and
     * `{{input.<name>.<path>}}` references.
     */
    parameters: z.record(z.string(), z.json()).default({}),
    /** Steps that must all succeed before this one runs. */
    dependencies: z.array(z.string()).max(MAX_STEPS).default([]).refine(distinct, 'must not repeat a step'),
    /** OR-dependencies: each group needs at least one member to succeed; every member is waited for. */
    any_of: z
      .array(
        z
          .array(z.string())
          .min(1, 'a group needs at least one step')
          .refine(distinct, 'must not repeat a step'),
      )
      .max(20)
      .default([]),
    /** Retries after a failed attempt; the workflow's `max_retries` when absent. */
    retries: z.number().int().min(0).max(10).optional(),
    timeout_seconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
    /** `fail` stops the workflow; `continue` records the step as FAILED and skips its dependents. */
    on_failure: z.enum(['fail', 'continue']).default('fail'),
    /** Selects the callback kind (see `step-kinds.ts`): the factory calls back when done. */
    callback: z.boolean().default(false),
    /** With `callback`: the longest silence allowed between calls from the factory, in seconds. */
    heartbeat_seconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
    /**
     * Runs the step once per item of a list, at most `max_concurrency` at a time; its parameters
     * may use `{{item}}`, `{{item.<path>}}` and `{{index}}`, and its output is the list of the
     * items' outputs, in order (see `fan-out.ts`).
     */
    for_each: forEachSchema.optional(),
  })
  .strict()
  .superRefine((step, ctx) => {
    for (const { field, message } of misplacedFields(step))
      ctx.addIssue({ code: 'custom', path: [field], message });
  });

export const workflowTemplateSchema = z
  .object({
    workflow_id: identifier,
    name: z.string().trim().min(1, 'must not be empty').max(200),
    description: z.string().max(2_000).default(''),
    version: z.number().int().min(1).default(1),
    /** The run inputs steps may reference as `{{input.<name>}}`: name -> type and optional default. */
    inputs: inputDeclarationsSchema.optional(),
    steps: z.array(workflowStepSchema).min(1, 'must contain at least one step').max(MAX_STEPS),
    max_retries: z.number().int().min(0).max(10).default(3),
    parallel_execution: z.boolean().default(true),
    /**
     * The state machine type: `standard` bills each state entered and may run a year, wait for
     * callbacks and pause; `express` bills by duration (far cheaper for short runs) but runs at
     * most five minutes, at least once, and has no task tokens.
     */
    engine: z.enum(['standard', 'express']).default('standard'),
    /** Bound on the whole run, in seconds; 3,600 by default, 300 for an express workflow. */
    timeout: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
  })
  .strict()
  .superRefine((template, ctx) => {
    template.steps.forEach((step, i) => {
      const issue = engineIssue(step, template.engine);
      if (issue) ctx.addIssue({ code: 'custom', path: ['steps', i, issue.field], message: issue.message });
    });
    if (template.engine !== 'express') return;
    if (template.timeout !== undefined && template.timeout > MAX_EXPRESS_TIMEOUT_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeout'],
        message: `an express workflow runs at most ${MAX_EXPRESS_TIMEOUT_SECONDS} seconds: use engine 'standard' for longer runs`,
      });
    }
  })
  // Parsing the output again gives the same template (the API parses, then the service validates).
  .transform((template) => ({
    ...template,
    timeout:
      template.timeout ??
      (template.engine === 'express' ? MAX_EXPRESS_TIMEOUT_SECONDS : DEFAULT_TIMEOUT_SECONDS),
  }));

export type WorkflowStep = z.output<typeof workflowStepSchema>;
export type WorkflowStepInput = z.input<typeof workflowStepSchema>;
export type WorkflowTemplate = z.output<typeof workflowTemplateSchema>;
export type WorkflowTemplateInput = z.input<typeof workflowTemplateSchema>;

export interface ValidateTemplateOptions {
  /** Factory type -> its actions. When given, every step must name a known factory and action. */
  capabilities?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Validates a template and fills its defaults. Beyond the schema: step ids are unique,
 * dependencies name other existing steps and form no cycle, references point at (direct or
 * transitive) dependencies, input references name declared inputs, parameter keys avoid the `.$`
 * suffix that Step Functions would evaluate, and, given `capabilities`, factories and actions
 * exist. Every problem is reported, each under its field, in one {@link ValidationError}.
 */
export function validateTemplate(input: unknown, options: ValidateTemplateOptions = {}): WorkflowTemplate {
  const template = parseInput(workflowTemplateSchema, input, 'template');
  const issues: FieldIssue[] = [];
  const indexById = new Map<string, number>();
  template.steps.forEach((step, i) => {
    const first = indexById.get(step.step_id);
    if (first === undefined) indexById.set(step.step_id, i);
    else
      issues.push({
        field: `steps.${i}.step_id`,
        message: `duplicate step '${step.step_id}' (see steps.${first})`,
      });
  });

  let edgesValid = issues.length === 0;
  template.steps.forEach((step, i) => {
    const check = (dep: string, field: string) => {
      if (dep === step.step_id) {
        issues.push({ field, message: 'a step cannot depend on itself' });
        edgesValid = false;
      } else if (!indexById.has(dep)) {
        issues.push({ field, message: `unknown step '${dep}'` });
        edgesValid = false;
      }
    };
    for (const [j, dep] of step.dependencies.entries()) check(dep, `steps.${i}.dependencies.${j}`);
    for (const [g, group] of step.any_of.entries()) {
      for (const [j, dep] of group.entries()) check(dep, `steps.${i}.any_of.${g}.${j}`);
    }
    issues.push(...capabilityIssues(step, i, options.capabilities));
    walkJson(step.parameters, `steps.${i}.parameters`, {
      key: (key, field) => {
        if (key.endsWith('.$')) {
          issues.push({
            field,
            message: "keys must not end with '.$' (Step Functions would evaluate them as paths)",
          });
        }
      },
      string: (text, field) => issues.push(...inputReferenceIssues(text, field, template.inputs)),
    });
    walkJson(step.parameters, `steps.${i}.parameters`, {
      string: (text, field) => issues.push(...itemReferenceIssues(text, field, step.for_each !== undefined)),
    });
  });

  if (edgesValid) {
    const dag = stepDag(template);
    const cycle = findCycle(dag);
    if (cycle) {
      const [from, to] = cycle as [string, string];
      const index = indexById.get(from) as number;
      const via = template.steps[index]?.dependencies.includes(to) ? 'dependencies' : 'any_of';
      issues.push({ field: `steps.${index}.${via}`, message: `dependency cycle: ${cycle.join(' -> ')}` });
    } else {
      issues.push(...referenceIssues(template, dag, indexById));
      issues.push(...forEachIssues(template.steps, dag, template.inputs));
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return template;
}

/** The DAG of a template: each step -> every step it waits for (`dependencies` and all `any_of` members). */
export function stepDag(template: Pick<WorkflowTemplate, 'steps'>): Dag {
  return new Map(
    template.steps.map((step) => [step.step_id, [...new Set([...step.dependencies, ...step.any_of.flat()])]]),
  );
}

/** How many times a failed attempt of the step is retried. */
export function effectiveRetries(
  step: WorkflowStep,
  template: Pick<WorkflowTemplate, 'max_retries'>,
): number {
  return step.retries ?? template.max_retries;
}

/** A `{{steps.<step_id>.output.<dotted.path>}}` reference found in a parameter string. */
export interface StepReference {
  /** The reference as written, braces included. */
  text: string;
  stepId: string;
  /** Segments after `output`; empty for the whole output. Numeric segments index arrays. */
  path: string[];
}

const REFERENCE = /^\s*steps\.([A-Za-z][A-Za-z0-9_]*)\.output((?:\.[^.\s]+)*)\s*$/;

/**
 * The step references in a string, plus the `{{steps...}}` snippets that look like references but
 * do not parse (see `scanReferences`).
 */
export function findReferences(text: string): { references: StepReference[]; malformed: string[] } {
  const { references, malformed } = scanReferences(text, /^\s*steps\b/, REFERENCE);
  return { references: references.map(({ name, ...ref }) => ({ ...ref, stepId: name })), malformed };
}

/** Visits every key and string of a JSON value, with its dotted field path. */
export function walkJson(
  value: unknown,
  field: string,
  visit: { key?: (key: string, field: string) => void; string?: (text: string, field: string) => void },
): void {
  if (typeof value === 'string') {
    visit.string?.(value, field);
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) walkJson(item, `${field}.${i}`, visit);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      visit.key?.(key, `${field}.${key}`);
      walkJson(item, `${field}.${key}`, visit);
    }
  }
}

function capabilityIssues(
  step: WorkflowStep,
  i: number,
  capabilities: ValidateTemplateOptions['capabilities'],
): FieldIssue[] {
  if (!capabilities) return [];
  const actions = Object.hasOwn(capabilities, step.factory_type)
    ? capabilities[step.factory_type]
    : undefined;
  if (!actions) {
    const known = Object.keys(capabilities).sort().join(', ') || 'none';
    return [
      {
        field: `steps.${i}.factory_type`,
        message: `unknown factory type '${step.factory_type}' (known: ${known})`,
      },
    ];
  }
  if (!actions.includes(step.action)) {
    return [
      {
        field: `steps.${i}.action`,
        message: `factory '${step.factory_type}' has no action '${step.action}'`,
      },
    ];
  }
  return [];
}

function referenceIssues(template: WorkflowTemplate, dag: Dag, indexById: Map<string, number>): FieldIssue[] {
  const ancestors = ancestorsOf(dag);
  const issues: FieldIssue[] = [];
  template.steps.forEach((step, i) => {
    walkJson(step.parameters, `steps.${i}.parameters`, {
      string: (text, field) => {
        const { references, malformed } = findReferences(text);
        for (const snippet of malformed) {
          issues.push({
            field,
            message: `malformed reference '${snippet}': expected {{steps.<step_id>.output.<path>}}`,
          });
        }
        for (const ref of references) {
          if (!indexById.has(ref.stepId)) {
            issues.push({ field, message: `'${ref.text}' refers to unknown step '${ref.stepId}'` });
          } else if (!ancestors.get(step.step_id)?.has(ref.stepId)) {
            issues.push({
              field,
              message: `'${ref.text}' refers to step '${ref.stepId}', which is not a dependency (direct or transitive) of '${step.step_id}'`,
            });
          }
        }
      },
    });
  });
  return issues;
}
