/**
 * What the step handler decides when Step Functions hands it a step: run it (with its parameter
 * references replaced by the outputs of earlier steps and by the run's input) or record it as
 * skipped. Pure functions of the step's definition, the results gathered so far and the input.
 */
import { type FieldIssue, ValidationError } from '../errors.ts';
import { findReferences, type StepReference, type WorkflowStep, walkJson } from './template.ts';
import { findInputReferences, type InputReference } from './template-inputs.ts';

export type StepStatus = 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

/** The record of one finished step in the workflow state (`results.<step_id>`). */
export interface StepResult {
  status: StepStatus;
  output?: unknown;
  /** The content of an output kept as a JSON artifact: what references with a path look into. */
  document?: unknown;
  error?: unknown;
}

export type StepResults = Readonly<Record<string, StepResult | undefined>>;

/** The input of the run, as its steps receive it (defaults filled in when it started). */
export type RunInput = Readonly<Record<string, unknown>>;

/** What decideStep reads of a step: a {@link WorkflowStep} fits, as does the step in the Task payload. */
export interface ReadinessStep {
  step_id: string;
  parameters: Readonly<Record<string, unknown>>;
  dependencies: readonly string[];
  any_of?: readonly (readonly string[])[];
}

export type StepDecision =
  | { run: true; parameters: Record<string, unknown> }
  | { run: false; status: 'SKIPPED'; reason: string };

/**
 * Replaces every `{{steps.<id>.output.<dotted.path>}}` and `{{input.<name>.<dotted.path>}}` in
 * the parameters' strings. A string that is exactly one reference becomes the referenced value
 * with its own type (an array stays an array); a reference inside longer text is stringified in
 * place (JSON for objects and arrays). Every unresolvable reference is reported, under
 * `parameters.<field>`, in one ValidationError.
 */
export function resolveParameters(
  parameters: Readonly<Record<string, unknown>>,
  results: StepResults,
  input: RunInput = {},
): Record<string, unknown> {
  const issues: FieldIssue[] = [];
  const sources = { results, input };
  const resolved = resolveValue(parameters, 'parameters', sources, issues) as Record<string, unknown>;
  if (issues.length > 0) throw new ValidationError(issues);
  return resolved;
}

/**
 * Whether the step runs. Every step it waits for must have a result (the compiled state machine
 * guarantees it, so a missing one is a bug and throws). It is skipped when a `dependencies` entry
 * did not succeed or when an `any_of` group has no success; otherwise it runs with its parameters
 * resolved (which throws a ValidationError when a reference cannot be resolved).
 */
export function decideStep(step: ReadinessStep, results: StepResults, input: RunInput = {}): StepDecision {
  const anyOf = step.any_of ?? [];
  for (const dep of [...step.dependencies, ...anyOf.flat()]) {
    if (!results[dep])
      throw new Error(`step '${step.step_id}' was started before its dependency '${dep}' finished`);
  }
  for (const dep of step.dependencies) {
    const status = results[dep]?.status;
    if (status !== 'SUCCEEDED') {
      return { run: false, status: 'SKIPPED', reason: `dependency '${dep}' ${describe(status)}` };
    }
  }
  for (const group of anyOf) {
    if (!group.some((dep) => results[dep]?.status === 'SUCCEEDED')) {
      return {
        run: false,
        status: 'SKIPPED',
        reason: `none of the steps ${group.map((d) => `'${d}'`).join(', ')} succeeded`,
      };
    }
  }
  return { run: true, parameters: resolveParameters(step.parameters, results, input) };
}

/**
 * The steps whose outputs the parameters reference, each with whether a reference looks inside
 * the output (a path) rather than taking it whole.
 */
export function referencedOutputs(parameters: Readonly<Record<string, unknown>>): Map<string, boolean> {
  const found = new Map<string, boolean>();
  walkJson(parameters, 'parameters', {
    string: (text) => {
      for (const ref of findReferences(text).references)
        found.set(ref.stepId, (found.get(ref.stepId) ?? false) || ref.path.length > 0);
    },
  });
  return found;
}

function describe(status: StepStatus | undefined): string {
  return status === 'FAILED' ? 'failed' : status === 'SKIPPED' ? 'was skipped' : `ended ${status}`;
}

/** What references are resolved from. */
interface Sources {
  results: StepResults;
  input: RunInput;
}

type Found = { value: unknown } | { problem: string };

function resolveValue(value: unknown, field: string, sources: Sources, issues: FieldIssue[]): unknown {
  if (typeof value === 'string') return resolveString(value, field, sources, issues);
  if (Array.isArray(value))
    return value.map((item, i) => resolveValue(item, `${field}.${i}`, sources, issues));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        resolveValue(item, `${field}.${key}`, sources, issues),
      ]),
    );
  }
  return value;
}

function resolveString(text: string, field: string, sources: Sources, issues: FieldIssue[]): unknown {
  const references: Array<{ text: string; find: () => Found }> = [
    ...findReferences(text).references.map((ref) => ({
      text: ref.text,
      find: () => lookup(ref, sources.results),
    })),
    ...findInputReferences(text).references.map((ref) => ({
      text: ref.text,
      find: () => lookupInput(ref, sources.input),
    })),
  ];
  if (references.length === 0) return text;
  const values = new Map<string, unknown>();
  for (const ref of references) {
    const found = ref.find();
    if ('problem' in found) issues.push({ field, message: `'${ref.text}': ${found.problem}` });
    else values.set(ref.text, found.value);
  }
  if (values.size < new Set(references.map((r) => r.text)).size) return text;
  const only = references[0] as { text: string };
  if (references.length === 1 && text === only.text) {
    return structuredClone(values.get(only.text));
  }
  return text.replace(/\{\{[^{}]*\}\}/g, (snippet) =>
    values.has(snippet) ? stringify(values.get(snippet)) : snippet,
  );
}

function lookup(ref: StepReference, results: StepResults): Found {
  const result = results[ref.stepId];
  if (!result) return { problem: `step '${ref.stepId}' has no result` };
  if (result.status !== 'SUCCEEDED') {
    return { problem: `step '${ref.stepId}' has no output: it ${describe(result.status)}` };
  }
  let current: unknown =
    ref.path.length > 0 && result.document !== undefined ? result.document : result.output;
  for (const [i, segment] of ref.path.entries()) {
    const next = child(current, segment);
    if (next === undefined) {
      return {
        problem: `the output of step '${ref.stepId}' has no '${ref.path.slice(0, i + 1).join('.')}'`,
      };
    }
    current = next;
  }
  if (current === undefined) return { problem: `step '${ref.stepId}' has no output` };
  return { value: current };
}

function lookupInput(ref: InputReference, input: RunInput): Found {
  if (!Object.hasOwn(input, ref.name) || input[ref.name] === undefined)
    return { problem: `the run input has no '${ref.name}'` };
  let current: unknown = input[ref.name];
  for (const [i, segment] of ref.path.entries()) {
    current = child(current, segment);
    if (current === undefined) {
      return { problem: `the run input '${ref.name}' has no '${ref.path.slice(0, i + 1).join('.')}'` };
    }
  }
  return { value: current };
}

function child(value: unknown, segment: string): unknown {
  if (Array.isArray(value)) return /^(0|[1-9]\d*)$/.test(segment) ? value[Number(segment)] : undefined;
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, segment)) {
    return (value as Record<string, unknown>)[segment];
  }
  return undefined;
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
