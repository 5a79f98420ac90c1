/**
 * Fan-out steps (`for_each`): a step that runs once per item of a list, at most `max_concurrency`
 * at a time, and whose output is the list of its items' outputs, in item order.
 *
 * What is here is pure: the template field and its checks, the `{{item}}` / `{{index}}`
 * references of the step's parameters, the bounds of a list and where it travels (inline in the
 * state, or as a JSON artifact a Distributed Map reads), and how the items' outputs become the
 * step's output. The states are emitted by `compile.ts`; the step handler (`step-runner.ts`) runs
 * the list (`(items)`), each item, and the collection (`(collect)`).
 */
import * as z from 'zod';
import { type FieldIssue, ValidationError } from '../errors.ts';
import { humanBytes, jsonBytes, LIMITS } from '../limits.ts';
import { ancestorsOf, type Dag } from './dag.ts';
import { scanReferences } from './references.ts';
import type { StepPayload } from './step-runner.ts';
import { findInputReferences, type InputDeclarations, inputReferenceIssues } from './template-inputs.ts';

/** Items a template may list literally (longer lists come from the run input or an earlier step). */
export const MAX_LITERAL_ITEMS = 1_000;
/** Items one fan-out runs: the collected outputs are read back in one invocation. */
export const MAX_ITEMS = 10_000;
export const DEFAULT_MAX_CONCURRENCY = 10;
export const MAX_CONCURRENCY = 1_000;
/**
 * On Standard, a list of at most this many items runs in an inline Map; a longer one in a
 * Distributed Map. An inline Map runs about 40 iterations at a time whatever `MaxConcurrency`
 * says, and every iteration's events count against the execution's history of 25,000 events; a
 * Distributed Map runs each item as a child execution, with neither limit.
 */
export const MAX_INLINE_ITEMS = 40;
/** ...and whose JSON takes at most this many bytes: an inline list travels in the state (256 KB). */
export const MAX_INLINE_ITEMS_BYTES = 32 * 1_024;
/**
 * Express has no Distributed Map: its lists always travel in the state, up to this size (with the
 * run input's 64 KiB, the state stays near half of Step Functions' 256 KB).
 */
export const MAX_EXPRESS_ITEMS_BYTES = 64 * 1_024;
/** One item: it is substituted into the step's parameters, which are bounded alike. */
export const MAX_ITEM_BYTES = LIMITS.taskParameters.bytes;
/** Longest a Distributed Map child execution may run to be Express (Express runs last 5 minutes). */
const EXPRESS_CHILD_SECONDS = 300;

/** The `for_each` field of a step. */
export const forEachSchema = z
  .object({
    /**
     * A JSON list, or one reference to a list: `{{input.<name>.<path>}}` or
     * `{{steps.<id>.output.<path>}}` (of a direct or transitive dependency).
     */
    items: z.json().superRefine((items, ctx) => {
      if (typeof items === 'string') return;
      if (!Array.isArray(items)) {
        ctx.addIssue({
          code: 'custom',
          message:
            "must be a JSON list or one reference to a list: '{{input.<name>}}' or '{{steps.<id>.output.<path>}}'",
        });
      } else if (items.length > MAX_LITERAL_ITEMS) {
        ctx.addIssue({
          code: 'custom',
          message: `lists ${items.length} items, more than the ${MAX_LITERAL_ITEMS} a template may list: pass a longer list through the run input or an earlier step's output`,
        });
      } else {
        for (const [i, item] of items.entries()) {
          const bytes = jsonBytes(item);
          if (bytes > MAX_ITEM_BYTES)
            ctx.addIssue({ code: 'custom', path: [i], message: itemTooLarge(bytes) });
          const key = pathKey(item);
          if (key)
            ctx.addIssue({
              code: 'custom',
              path: [i, ...key],
              message: "keys must not end with '.$' (Step Functions would evaluate them as paths)",
            });
        }
      }
    }),
    /** Items run at the same time, at most. */
    max_concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).default(DEFAULT_MAX_CONCURRENCY),
  })
  .strict();

export type ForEach = z.output<typeof forEachSchema>;

/** The path to the first key ending in `.$` in a literal item (it travels in a Task's Parameters). */
function pathKey(value: unknown): string[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (!Array.isArray(value) && key.endsWith('.$')) return [key];
    const below = pathKey(child);
    if (below) return [key, ...below];
  }
  return undefined;
}

/** What the checks read of a step. */
interface FanOutStep {
  step_id: string;
  for_each?: ForEach | undefined;
  callback?: boolean | undefined;
}

const STEP_LIST = /^\{\{\s*steps\.([A-Za-z][A-Za-z0-9_]*)\.output((?:\.[^.\s{}]+)*)\s*\}\}$/;

/**
 * What is wrong with the `for_each` of each step, under `steps.<i>.for_each...`: a reference that
 * is not exactly one `{{input...}}` or `{{steps...}}` reference, an undeclared input or one that
 * cannot hold a list, a step that is not a (transitive) dependency, and `callback: true`.
 * `dag` must be acyclic.
 */
export function forEachIssues(
  steps: readonly FanOutStep[],
  dag: Dag,
  inputs: InputDeclarations | undefined,
): FieldIssue[] {
  const ancestors = ancestorsOf(dag);
  const issues: FieldIssue[] = [];
  steps.forEach((step, i) => {
    const forEach = step.for_each;
    if (!forEach) return;
    if (step.callback) {
      issues.push({
        field: `steps.${i}.callback`,
        message:
          'a for_each step cannot wait for callbacks: its items are called within their own invocations, and a task token per item is not supported',
      });
    }
    if (typeof forEach.items !== 'string') return;
    const field = `steps.${i}.for_each.items`;
    const text = forEach.items;
    const fromStep = STEP_LIST.exec(text);
    if (fromStep) {
      const stepId = fromStep[1] as string;
      if (!dag.has(stepId)) {
        issues.push({ field, message: `'${text}' refers to unknown step '${stepId}'` });
      } else if (!ancestors.get(step.step_id)?.has(stepId)) {
        issues.push({
          field,
          message: `'${text}' refers to step '${stepId}', which is not a dependency (direct or transitive) of '${step.step_id}'`,
        });
      }
      return;
    }
    const { references } = findInputReferences(text);
    const only = references[0];
    if (references.length !== 1 || only?.text !== text) {
      issues.push({
        field,
        message: `'${text}' is not a list: give a JSON list, or exactly one reference to a list, '{{input.<name>.<path>}}' or '{{steps.<id>.output.<path>}}'`,
      });
      return;
    }
    const problems = inputReferenceIssues(text, field, inputs);
    issues.push(...problems);
    const declared = inputs && Object.hasOwn(inputs, only.name) ? inputs[only.name] : undefined;
    if (problems.length === 0 && only.path.length === 0 && declared && declared.type !== 'array') {
      issues.push({
        field,
        message: `'${text}' is input '${only.name}', declared as ${declared.type}: a for_each needs a list (declare it as 'array')`,
      });
    }
  });
  return issues;
}

/** An `{{item}}`, `{{item.<path>}}` or `{{index}}` reference found in a parameter string. */
export interface ItemReference {
  text: string;
  kind: 'item' | 'index';
  path: string[];
}

const ITEM_REFERENCE = /^\s*(item|index)((?:\.[^.\s]+)*)\s*$/;

/** The item references in a string, and the `{{item...}}` / `{{index...}}` snippets that do not parse. */
export function findItemReferences(text: string): { references: ItemReference[]; malformed: string[] } {
  const found = scanReferences(text, /^\s*(item|index)\b/, ITEM_REFERENCE);
  const references: ItemReference[] = [];
  const malformed = [...found.malformed];
  for (const { text: snippet, name, path } of found.references) {
    // An index is a number: nothing to look into.
    if (name === 'index' && path.length > 0) malformed.push(snippet);
    else references.push({ text: snippet, kind: name === 'index' ? 'index' : 'item', path });
  }
  return { references, malformed };
}

/**
 * What is wrong with the item references of one parameter string: malformed ones, and any at all
 * in a step without `for_each`.
 */
export function itemReferenceIssues(text: string, field: string, fansOut: boolean): FieldIssue[] {
  const { references, malformed } = findItemReferences(text);
  const issues: FieldIssue[] = malformed.map((snippet) => ({
    field,
    message: `malformed reference '${snippet}': expected {{item}}, {{item.<path>}} or {{index}}`,
  }));
  if (!fansOut) {
    for (const ref of references) {
      issues.push({
        field,
        message: `'${ref.text}' refers to the current item, but the step has no for_each`,
      });
    }
  }
  return issues;
}

/**
 * The parameters of one item: every `{{item}}`, `{{item.<path>}}` and `{{index}}` replaced, as
 * step references are (a string that is exactly one reference takes the value with its type;
 * inside longer text the value is written in, JSON for objects and lists). They are replaced
 * after the step and input references, so text those bring in is not read as a reference.
 * @throws ValidationError naming each parameter whose reference the item cannot satisfy.
 */
export function withItem(
  parameters: Readonly<Record<string, unknown>>,
  item: unknown,
  index: number,
): Record<string, unknown> {
  const issues: FieldIssue[] = [];
  const replace = (value: unknown, field: string): unknown => {
    if (typeof value === 'string') return replaceString(value, field);
    if (Array.isArray(value)) return value.map((v, i) => replace(v, `${field}.${i}`));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, v]) => [key, replace(v, `${field}.${key}`)]),
      );
    }
    return value;
  };
  const replaceString = (text: string, field: string): unknown => {
    const { references } = findItemReferences(text);
    if (references.length === 0) return text;
    const values = new Map<string, unknown>();
    for (const ref of references) {
      const found = ref.kind === 'index' ? { value: index } : lookup(item, ref.path);
      if ('problem' in found)
        issues.push({ field, message: `'${ref.text}': item ${index} ${found.problem}` });
      else values.set(ref.text, found.value);
    }
    const only = references[0] as ItemReference;
    if (references.length === 1 && text === only.text && values.has(only.text))
      return structuredClone(values.get(only.text));
    return text.replace(/\{\{[^{}]*\}\}/g, (snippet) =>
      values.has(snippet) ? stringify(values.get(snippet)) : snippet,
    );
  };
  const resolved = replace(parameters, 'parameters') as Record<string, unknown>;
  if (issues.length > 0) throw new ValidationError(issues);
  return resolved;
}

function lookup(item: unknown, path: readonly string[]): { value: unknown } | { problem: string } {
  let current = item;
  for (const [i, segment] of path.entries()) {
    current = Array.isArray(current)
      ? /^(0|[1-9]\d*)$/.test(segment)
        ? current[Number(segment)]
        : undefined
      : current !== null && typeof current === 'object' && Object.hasOwn(current, segment)
        ? (current as Record<string, unknown>)[segment]
        : undefined;
    if (current === undefined) return { problem: `has no '${path.slice(0, i + 1).join('.')}'` };
  }
  return { value: current };
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function itemTooLarge(bytes: number): string {
  return `an item takes ${bytes} bytes, more than the ${humanBytes(MAX_ITEM_BYTES)} one item may take (pass large values by artifact reference)`;
}

/**
 * The list a fan-out runs, checked: a list, of at most {@link MAX_ITEMS} items of at most
 * {@link MAX_ITEM_BYTES} each.
 * @throws ValidationError under `field`.
 */
export function checkItemList(value: unknown, field: string): unknown[] {
  const problem = !Array.isArray(value)
    ? `must resolve to a list, not ${value === null ? 'null' : typeof value}`
    : value.length > MAX_ITEMS
      ? `resolved to ${value.length} items, more than the ${MAX_ITEMS} one step fans out over`
      : undefined;
  if (problem) throw new ValidationError([{ field, message: problem }]);
  const list = value as unknown[];
  for (const [i, item] of list.entries()) {
    const bytes = jsonBytes(item);
    if (bytes > MAX_ITEM_BYTES)
      throw new ValidationError([{ field: `${field}.${i}`, message: itemTooLarge(bytes) }]);
  }
  return list;
}

/**
 * Where a list travels: in the state (an inline Map) or as a JSON artifact (a Distributed Map reads
 * it). Express has no Distributed Map, so there a list too large for the state fails the step.
 * @throws ValidationError under `field` for such a list.
 */
export function placeItems(
  list: readonly unknown[],
  distributed: boolean,
  field: string,
): 'inline' | 'artifact' {
  const bytes = jsonBytes(list);
  if (distributed)
    return list.length <= MAX_INLINE_ITEMS && bytes <= MAX_INLINE_ITEMS_BYTES ? 'inline' : 'artifact';
  if (bytes > MAX_EXPRESS_ITEMS_BYTES) {
    throw new ValidationError([
      {
        field,
        message: `the list takes ${bytes} bytes, more than the ${humanBytes(MAX_EXPRESS_ITEMS_BYTES)} an express workflow carries in its state (Express has no Distributed Map): use engine 'standard' for longer lists`,
      },
    ]);
  }
  return 'inline';
}

/** The bucket and key of an object URI `s3://<bucket>/<key>`. */
export function objectLocation(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an S3 object URI: '${uri}'`);
  return { bucket: match[1] as string, key: match[2] as string };
}

/**
 * The type of a Distributed Map's child executions: Express (billed per request and duration, at
 * least once) when the item's attempts, retries and back-off surely end within Express's five
 * minutes, which takes a `timeout_seconds`; Standard otherwise.
 */
export function childExecutionType(
  timeoutSeconds: number | undefined,
  retries: number,
): 'EXPRESS' | 'STANDARD' {
  if (timeoutSeconds === undefined) return 'STANDARD';
  const backOff = 2 ** retries - 1;
  return (retries + 1) * timeoutSeconds + backOff <= EXPRESS_CHILD_SECONDS ? 'EXPRESS' : 'STANDARD';
}

/**
 * A Distributed Map's label (part of its Map Run ARN): at most 40 characters, unique in the
 * state machine. A step id is made of letters, digits and `_`, all allowed; a long one is cut and
 * made unique again with a hash of the whole id.
 */
export function mapLabel(stepId: string): string {
  if (stepId.length <= 40) return stepId;
  let hash = 0;
  for (const c of stepId) hash = (Math.imul(hash, 31) + (c.codePointAt(0) as number)) >>> 0;
  return `${stepId.slice(0, 31)}_${hash.toString(16).padStart(8, '0')}`;
}

/** What the `(items)` Task sends: the step, and where its list comes from. */
export interface ItemsPayload extends StepPayload {
  items: {
    /** The template's `for_each.items`: a literal list, or one reference to a list. */
    from: unknown;
    /** Whether a long list may go to a Distributed Map (Standard); else it must fit the state. */
    distributed: boolean;
  };
}

/** What each item's Task sends: the step, the item and its index. */
export interface ItemPayload extends StepPayload {
  item: unknown;
  index: number;
}

/** What the `(collect)` Task sends: how many items ran. */
export interface CollectPayload {
  executionId: string;
  run?: StepPayload['run'];
  workflowId: string;
  collect: { stepId: string; count: number };
}

/**
 * The `(items)` Task's answer, which the Choice after it reads: the list inline, or where its
 * artifact is (the Distributed Map's ItemReader reads it); just a status when the step ended
 * without running (skipped, or ended in an earlier execution of the run).
 */
export type ItemList =
  | { status: 'ITEMS'; count: number; items: unknown[] }
  | { status: 'ITEMS'; count: number; bucket: string; key: string };

/** What an item run leaves, one record per item. */
export interface ItemResult {
  index: number;
  status: 'SUCCEEDED' | 'FAILED';
  service?: string | undefined;
  output?: unknown;
  error?: string | undefined;
}

/**
 * The step's output: each item's output, in item order.
 * @throws Error naming the first item that has no output (it did not run, or it failed).
 */
export function collectOutputs(results: readonly ItemResult[], count: number): unknown[] {
  const byIndex = new Map(results.map((r) => [r.index, r]));
  const outputs: unknown[] = [];
  for (let index = 0; index < count; index++) {
    const result = byIndex.get(index);
    if (result?.status !== 'SUCCEEDED') {
      throw new Error(
        result
          ? `item ${index} failed: ${result.error ?? 'no error recorded'}`
          : `item ${index} left no result`,
      );
    }
    outputs.push(result.output ?? null);
  }
  return outputs;
}
