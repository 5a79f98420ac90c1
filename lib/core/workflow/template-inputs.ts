/**
 * Run inputs a template declares (`inputs`), the `{{input.<name>.<path>}}` references its step
 * parameters make to them, and how the input of a run is checked against the declarations and
 * completed with their defaults. Pure: no I/O.
 */
import * as z from 'zod';
import { type FieldIssue, ValidationError } from '../errors.ts';
import { type FoundReference, scanReferences } from './references.ts';

export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** What each type is called in messages, and the values it takes. */
const TYPES: Readonly<Record<InputType, { called: string; holds(value: unknown): boolean }>> = {
  string: { called: 'a string', holds: (v) => typeof v === 'string' },
  number: { called: 'a number', holds: (v) => typeof v === 'number' && Number.isFinite(v) },
  integer: { called: 'an integer', holds: (v) => Number.isInteger(v) },
  boolean: { called: 'a boolean', holds: (v) => typeof v === 'boolean' },
  object: { called: 'an object', holds: (v) => typeof v === 'object' && v !== null && !Array.isArray(v) },
  array: { called: 'an array', holds: (v) => Array.isArray(v) },
};

/** Input names are reference segments (`{{input.<name>}}`), so they take the characters of step ids. */
const INPUT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** One declared input: its type and, when the run may leave it out, its default. */
export const inputDeclarationSchema = z
  .object({
    type: z.enum(INPUT_TYPES),
    description: z.string().max(500).optional(),
    /** The value a run gets when its input leaves this one out; without a default it is required. */
    default: z.json().optional(),
  })
  .strict()
  .superRefine((declaration, ctx) => {
    const { type, default: value } = declaration;
    if (value !== undefined && !TYPES[type].holds(value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `must be ${TYPES[type].called} (the declared type), not ${kindOf(value)}`,
      });
    }
  });

/** Names are checked even when a declaration is wrong, so that every problem is told at once. */
export const inputDeclarationsSchema = z.record(z.string(), inputDeclarationSchema).superRefine(
  (inputs, ctx) => {
    const names = Object.keys(inputs);
    if (names.length > 50) ctx.addIssue({ code: 'custom', message: 'must declare at most 50 inputs' });
    for (const name of names.filter((n) => !INPUT_NAME.test(n))) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message:
          'an input name must start with a letter and contain only letters, digits and _ (at most 64 characters)',
      });
    }
  },
  { when: ({ value }) => typeof value === 'object' && value !== null && !Array.isArray(value) },
);

export type InputDeclaration = z.output<typeof inputDeclarationSchema>;
export type InputDeclarations = z.output<typeof inputDeclarationsSchema>;

/** A `{{input.<name>.<dotted.path>}}` reference found in a parameter string. */
export type InputReference = FoundReference;

const REFERENCE = /^\s*input\.([A-Za-z][A-Za-z0-9_]*)((?:\.[^.\s]+)*)\s*$/;

/**
 * The input references in a string, plus the `{{input...}}` (or `{{inputs...}}`) snippets that
 * look like references but do not parse (see `scanReferences`).
 */
export function findInputReferences(text: string): { references: InputReference[]; malformed: string[] } {
  return scanReferences(text, /^\s*inputs?\b/, REFERENCE);
}

/**
 * What is wrong with the input references of one parameter string, under `field`: malformed
 * snippets, references when the template declares no inputs, names it does not declare, and
 * paths into an input that is neither an object nor an array.
 */
export function inputReferenceIssues(
  text: string,
  field: string,
  inputs: InputDeclarations | undefined,
): FieldIssue[] {
  const { references, malformed } = findInputReferences(text);
  const issues: FieldIssue[] = malformed.map((snippet) => ({
    field,
    message: `malformed reference '${snippet}': expected {{input.<name>}} or {{input.<name>.<path>}}`,
  }));
  for (const ref of references) {
    const declared = inputs && Object.hasOwn(inputs, ref.name) ? inputs[ref.name] : undefined;
    if (!inputs) {
      issues.push({
        field,
        message: `'${ref.text}' refers to run input '${ref.name}', but the template declares no inputs: declare it under 'inputs'`,
      });
    } else if (!declared) {
      const known = Object.keys(inputs).join(', ') || 'none';
      issues.push({
        field,
        message: `'${ref.text}' refers to undeclared input '${ref.name}' (declared: ${known})`,
      });
    } else if (ref.path.length > 0 && declared.type !== 'object' && declared.type !== 'array') {
      issues.push({
        field,
        message: `'${ref.text}' looks inside input '${ref.name}', which is ${TYPES[declared.type].called}: only an object or array has fields`,
      });
    }
  }
  return issues;
}

/**
 * Checks the input of a run against the template's declarations and fills in their defaults:
 * every declared input without a default must be given, and every given one must have its
 * declared type. Fields the template does not declare are kept as they are.
 * @throws ValidationError naming each problem under `input.<name>`.
 */
export function applyInputs(
  template: { inputs?: InputDeclarations | undefined },
  input: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const completed: Record<string, unknown> = { ...input };
  const issues: FieldIssue[] = [];
  for (const [name, declaration] of Object.entries(template.inputs ?? {})) {
    const field = `input.${name}`;
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    if (value === undefined) {
      if (declaration.default === undefined)
        issues.push({ field, message: `is required: the workflow declares it without a default` });
      else completed[name] = structuredClone(declaration.default);
    } else if (!TYPES[declaration.type].holds(value)) {
      issues.push({ field, message: `must be ${TYPES[declaration.type].called}, not ${kindOf(value)}` });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return completed;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : `a number (${value})`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
