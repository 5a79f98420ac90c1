import { describe, expect, it } from 'vitest';
import {
  validateTemplate,
  type WorkflowStepInput,
  type WorkflowTemplateInput,
} from '../../../lib/core/workflow/template.ts';
import {
  applyInputs,
  findInputReferences,
  type InputDeclarations,
} from '../../../lib/core/workflow/template-inputs.ts';
import { issuesOf } from '../../helpers/errors.ts';

const inputs: InputDeclarations = {
  product_name: { type: 'string', description: 'What is launched', default: 'Widget' },
  count: { type: 'integer', default: 2 },
  budget: { type: 'number' },
  live: { type: 'boolean', default: false },
  brand: { type: 'object', default: { color: 'teal', fonts: ['Inter'] } },
  channels: { type: 'array', default: ['email'] },
};

describe('applyInputs', () => {
  it('fills the defaults of the inputs left out, and keeps what was given and fields nobody declared', () => {
    expect(applyInputs({ inputs }, { budget: 1_500, count: 5, campaign: 'Q1' })).toEqual({
      product_name: 'Widget',
      count: 5,
      budget: 1_500,
      live: false,
      brand: { color: 'teal', fonts: ['Inter'] },
      channels: ['email'],
      campaign: 'Q1',
    });
  });

  it('gives each run its own copy of a default', () => {
    const first = applyInputs({ inputs }, { budget: 1 });
    (first.brand as { color: string }).color = 'red';
    (first.channels as string[]).push('sms');
    expect(applyInputs({ inputs }, { budget: 1 })).toMatchObject({
      brand: { color: 'teal' },
      channels: ['email'],
    });
    expect(inputs.brand?.default).toEqual({ color: 'teal', fonts: ['Inter'] });
  });

  it('refuses a run that leaves out an input without a default, naming it', () => {
    expect(issuesOf(() => applyInputs({ inputs }, { product_name: 'Lamp' }))).toEqual([
      'input.budget: is required: the workflow declares it without a default',
    ]);
  });

  it('refuses a value of another type, naming the declared type, and reports every problem at once', () => {
    expect(
      issuesOf(() =>
        applyInputs(
          { inputs },
          {
            product_name: 42,
            count: 1.5,
            budget: '1500',
            live: 'yes',
            brand: ['teal'],
            channels: { email: true },
          },
        ),
      ),
    ).toEqual([
      'input.product_name: must be a string, not an integer',
      'input.count: must be an integer, not a number (1.5)',
      'input.budget: must be a number, not a string',
      'input.live: must be a boolean, not a string',
      'input.brand: must be an object, not an array',
      'input.channels: must be an array, not an object',
    ]);
    expect(issuesOf(() => applyInputs({ inputs }, { budget: null }))).toEqual([
      'input.budget: must be a number, not null',
    ]);
  });

  it('takes an integer as a number, and leaves the input alone when nothing is declared', () => {
    expect(applyInputs({ inputs: { n: { type: 'number' } } }, { n: 3 })).toEqual({ n: 3 });
    expect(applyInputs({}, { anything: [1] })).toEqual({ anything: [1] });
    expect(applyInputs({ inputs: {} }, {})).toEqual({});
  });

  it('does not take an inherited property for a given input', () => {
    const declared: InputDeclarations = Object.fromEntries([['toString', { type: 'string' as const }]]);
    expect(issuesOf(() => applyInputs({ inputs: declared }, {}))).toEqual([
      'input.toString: is required: the workflow declares it without a default',
    ]);
  });
});

describe('findInputReferences', () => {
  it('parses references with and without a path, and leaves step references and other braces alone', () => {
    expect(
      findInputReferences('{{ input.brand.fonts.0 }} {{input.count}} {{steps.a.output}} {{name}}'),
    ).toEqual({
      references: [
        { text: '{{ input.brand.fonts.0 }}', name: 'brand', path: ['fonts', '0'] },
        { text: '{{input.count}}', name: 'count', path: [] },
      ],
      malformed: [],
    });
  });

  it('reports snippets that look like input references but do not parse', () => {
    expect(findInputReferences('{{input}} {{inputs.count}} {{input..x}} {{input.1st}}').malformed).toEqual([
      '{{input}}',
      '{{inputs.count}}',
      '{{input..x}}',
      '{{input.1st}}',
    ]);
  });
});

describe('validateTemplate with inputs', () => {
  const template = (
    parameters: WorkflowStepInput['parameters'],
    declared: WorkflowTemplateInput['inputs'] | undefined,
  ): WorkflowTemplateInput => ({
    workflow_id: 'wf',
    name: 'Workflow',
    ...(declared === undefined ? {} : { inputs: declared }),
    steps: [
      { step_id: 'a', name: 'A', factory_type: 'media', action: 'generate_image' },
      { step_id: 'b', name: 'B', factory_type: 'media', action: 'generate_image', dependencies: ['a'] },
      {
        step_id: 'c',
        name: 'C',
        factory_type: 'media',
        action: 'generate_image',
        dependencies: ['b'],
        parameters,
      },
    ],
  });

  it('keeps the declarations, and accepts references to declared inputs, into objects and arrays too', () => {
    const parsed = validateTemplate(
      template(
        {
          prompt: '{{input.product_name}} in {{input.brand.color}}',
          count: '{{input.count}}',
          first: '{{input.channels.0}}',
          brief: '{{steps.a.output.summary}}',
        },
        inputs,
      ),
    );
    expect(parsed.inputs).toEqual(inputs);
    expect(validateTemplate(template({}, undefined)).inputs).toBeUndefined();
  });

  it('refuses references to inputs the template does not declare, naming the parameter', () => {
    expect(
      issuesOf(() =>
        validateTemplate(
          template({ prompt: 'About {{input.product}}', nested: ['{{input.count}}'] }, inputs),
        ),
      ),
    ).toEqual([
      "steps.2.parameters.prompt: '{{input.product}}' refers to undeclared input 'product' (declared: product_name, count, budget, live, brand, channels)",
    ]);
  });

  it('refuses input references when the template declares no inputs, saying to declare them', () => {
    expect(issuesOf(() => validateTemplate(template({ x: { y: ['{{input.count}}'] } }, undefined)))).toEqual([
      "steps.2.parameters.x.y.0: '{{input.count}}' refers to run input 'count', but the template declares no inputs: declare it under 'inputs'",
    ]);
    expect(issuesOf(() => validateTemplate(template({ prompt: '{{input.count}}' }, {})))).toEqual([
      "steps.2.parameters.prompt: '{{input.count}}' refers to undeclared input 'count' (declared: none)",
    ]);
  });

  it('reports malformed input references, and paths into an input that has no fields', () => {
    expect(
      issuesOf(() =>
        validateTemplate(
          template({ a: '{{input}}', b: '{{inputs.count}}', c: '{{input.count.value}}' }, inputs),
        ),
      ),
    ).toEqual([
      "steps.2.parameters.a: malformed reference '{{input}}': expected {{input.<name>}} or {{input.<name>.<path>}}",
      "steps.2.parameters.b: malformed reference '{{inputs.count}}': expected {{input.<name>}} or {{input.<name>.<path>}}",
      "steps.2.parameters.c: '{{input.count.value}}' looks inside input 'count', which is an integer: only an object or array has fields",
    ]);
  });

  it('refuses a default that does not have the declared type, and declarations it does not know', () => {
    expect(
      issuesOf(() =>
        validateTemplate(
          template(
            {},
            {
              count: { type: 'integer', default: '3' },
              ratio: { type: 'number', default: null },
              tags: { type: 'array', default: {} },
              // @ts-expect-error: not a type an input can have
              when: { type: 'date' },
              // @ts-expect-error: `required` follows from the default, it is not declared
              name: { type: 'string', required: true },
              'bad-name': { type: 'string' },
            },
          ),
        ),
      ),
    ).toEqual([
      'inputs.count.default: must be an integer (the declared type), not a string',
      'inputs.ratio.default: must be a number (the declared type), not null',
      'inputs.tags.default: must be an array (the declared type), not an object',
      expect.stringMatching(/^inputs\.when\.type: /),
      expect.stringMatching(/^inputs\.name: .*required/),
      'inputs.bad-name: an input name must start with a letter and contain only letters, digits and _ (at most 64 characters)',
    ]);
  });
});
