import { describe, expect, it } from 'vitest';
import {
  exampleWorkflows,
  generateAndAnalyze,
  productLaunchCampaign,
} from '../../../lib/core/workflow/examples.ts';
import {
  findReferences,
  stepDag,
  validateTemplate,
  type WorkflowStepInput,
  type WorkflowTemplateInput,
} from '../../../lib/core/workflow/template.ts';
import { issuesOf } from '../../helpers/errors.ts';

const step = (step_id: string, overrides: Partial<WorkflowStepInput> = {}): WorkflowStepInput => ({
  step_id,
  name: `Step ${step_id}`,
  factory_type: 'media',
  action: 'generate_image',
  ...overrides,
});

const template = (steps: WorkflowStepInput[], overrides: Partial<WorkflowTemplateInput> = {}) => ({
  workflow_id: 'wf',
  name: 'Workflow',
  steps,
  ...overrides,
});

const capabilities = {
  media: ['generate_image', 'generate_images', 'generate_video'],
  research: ['market_analysis', 'discover_technology'],
};

describe('validateTemplate', () => {
  it('fills the defaults of the template and of its steps', () => {
    const parsed = validateTemplate(template([step('a')]));
    expect(parsed).toMatchObject({
      description: '',
      version: 1,
      max_retries: 3,
      parallel_execution: true,
      engine: 'standard',
      timeout: 3_600,
    });
    expect(parsed.steps[0]).toEqual({
      step_id: 'a',
      name: 'Step a',
      factory_type: 'media',
      action: 'generate_image',
      parameters: {},
      dependencies: [],
      any_of: [],
      on_failure: 'fail',
      callback: false,
    });
  });

  it('accepts both seed workflows, with and without capabilities', () => {
    for (const example of Object.values(exampleWorkflows)) {
      expect(() => validateTemplate(example)).not.toThrow();
      expect(() => validateTemplate(example, { capabilities })).not.toThrow();
    }
    expect(stepDag(validateTemplate(productLaunchCampaign))).toEqual(
      new Map([
        ['research_market', []],
        ['discover_trends', []],
        ['generate_images', ['research_market']],
        ['generate_video', ['generate_images']],
      ]),
    );
    expect(validateTemplate(generateAndAnalyze).steps.map((s) => s.dependencies)).toEqual([[], ['step1']]);
  });

  it('rejects an empty step list', () => {
    expect(issuesOf(() => validateTemplate(template([])))).toEqual(['steps: must contain at least one step']);
  });

  it('rejects a duplicate step id, naming both places', () => {
    expect(issuesOf(() => validateTemplate(template([step('a'), step('b'), step('a')])))).toEqual([
      "steps.2.step_id: duplicate step 'a' (see steps.0)",
    ]);
  });

  it('rejects an unknown dependency, in dependencies and in any_of', () => {
    const steps = [step('a'), step('b', { dependencies: ['a', 'x'] }), step('c', { any_of: [['a', 'y']] })];
    expect(issuesOf(() => validateTemplate(template(steps)))).toEqual([
      "steps.1.dependencies.1: unknown step 'x'",
      "steps.2.any_of.0.1: unknown step 'y'",
    ]);
  });

  it('rejects a self-dependency', () => {
    expect(
      issuesOf(() => validateTemplate(template([step('a'), step('b', { dependencies: ['b'] })]))),
    ).toEqual(['steps.1.dependencies.0: a step cannot depend on itself']);
  });

  it('rejects a cycle and names it as a path', () => {
    const steps = [
      step('a', { dependencies: ['c'] }),
      step('b', { dependencies: ['a'] }),
      step('c', { dependencies: ['b'] }),
      step('d', { dependencies: ['a'] }),
    ];
    expect(issuesOf(() => validateTemplate(template(steps)))).toEqual([
      'steps.0.dependencies: dependency cycle: a -> c -> b -> a',
    ]);
  });

  it('finds a cycle that goes through an any_of group', () => {
    const steps = [step('a', { any_of: [['b', 'c']] }), step('b', { dependencies: ['a'] }), step('c')];
    expect(issuesOf(() => validateTemplate(template(steps)))).toEqual([
      'steps.0.any_of: dependency cycle: a -> b -> a',
    ]);
  });

  it('checks factory types and actions against the capabilities when given', () => {
    const steps = [
      step('a', { factory_type: 'audio', action: 'speak' }),
      step('b', { factory_type: 'research', action: 'generate_image' }),
    ];
    expect(() => validateTemplate(template(steps))).not.toThrow();
    expect(issuesOf(() => validateTemplate(template(steps), { capabilities }))).toEqual([
      "steps.0.factory_type: unknown factory type 'audio' (known: media, research)",
      "steps.1.action: factory 'research' has no action 'generate_image'",
    ]);
  });

  it('rejects a reference to a step that is not a dependency, even an existing one', () => {
    const steps = [
      step('a'),
      step('b'),
      step('c', { dependencies: ['a'], parameters: { brief: 'About {{steps.b.output.summary}}' } }),
    ];
    expect(issuesOf(() => validateTemplate(template(steps)))).toEqual([
      "steps.2.parameters.brief: '{{steps.b.output.summary}}' refers to step 'b', which is not a dependency (direct or transitive) of 'c'",
    ]);
  });

  it('accepts references to transitive dependencies and any_of members, anywhere in the parameters', () => {
    const steps = [
      step('a'),
      step('b', { dependencies: ['a'] }),
      step('x'),
      step('c', {
        dependencies: ['b'],
        any_of: [['x']],
        parameters: { nested: { list: ['{{steps.a.output.items.0}}', '{{ steps.x.output }}'] } },
      }),
    ];
    expect(() => validateTemplate(template(steps))).not.toThrow();
  });

  it('rejects references to unknown steps, to the step itself, and malformed ones', () => {
    const steps = [
      step('a'),
      step('b', {
        dependencies: ['a'],
        parameters: { p: '{{steps.ghost.output.x}}', q: ['{{steps.b.output}}'], r: '{{steps.a.x}}' },
      }),
    ];
    expect(issuesOf(() => validateTemplate(template(steps)))).toEqual([
      "steps.1.parameters.p: '{{steps.ghost.output.x}}' refers to unknown step 'ghost'",
      "steps.1.parameters.q.0: '{{steps.b.output}}' refers to step 'b', which is not a dependency (direct or transitive) of 'b'",
      "steps.1.parameters.r: malformed reference '{{steps.a.x}}': expected {{steps.<step_id>.output.<path>}}",
    ]);
  });

  it("rejects parameter keys ending in '.$', which Step Functions would evaluate", () => {
    const steps = [step('a', { parameters: { outer: { 'secret.$': '$$.Execution.Input' } } })];
    expect(issuesOf(() => validateTemplate(template(steps)))).toEqual([
      "steps.0.parameters.outer.secret.$: keys must not end with '.$' (Step Functions would evaluate them as paths)",
    ]);
  });

  it('reports schema problems under their field', () => {
    const issues = issuesOf(() =>
      validateTemplate({
        workflow_id: 'has space',
        name: 'W',
        steps: [
          { ...step('a'), retries: 11, on_failure: 'ignore' },
          { ...step('b-c'), dependencies: ['a', 'a'] },
          { ...step('d'), any_of: [[]], extra: true },
        ],
        timeout: 0,
      }),
    );
    const fields = issues.map((i) => i.slice(0, i.indexOf(':')));
    expect(fields).toEqual(
      expect.arrayContaining([
        'workflow_id',
        'steps.0.retries',
        'steps.0.on_failure',
        'steps.1.step_id',
        'steps.1.dependencies',
        'steps.2.any_of.0',
        'steps.2',
        'timeout',
      ]),
    );
  });

  it('runs an express workflow for at most five minutes, 300 seconds unless it says less', () => {
    expect(validateTemplate(template([step('a')], { engine: 'express' })).timeout).toBe(300);
    expect(validateTemplate(template([step('a')], { engine: 'express', timeout: 60 })).timeout).toBe(60);
    expect(validateTemplate(template([step('a')], { engine: 'standard', timeout: 900 })).timeout).toBe(900);
    expect(
      issuesOf(() => validateTemplate(template([step('a')], { engine: 'express', timeout: 301 }))),
    ).toEqual([
      "timeout: an express workflow runs at most 300 seconds: use engine 'standard' for longer runs",
    ]);
  });

  it('refuses a callback step in an express workflow, naming the step', () => {
    const steps = [step('a'), step('b', { callback: true, dependencies: ['a'] })];
    expect(() => validateTemplate(template(steps))).not.toThrow();
    expect(issuesOf(() => validateTemplate(template(steps, { engine: 'express' })))).toEqual([
      "steps.1.callback: an express workflow cannot wait for a callback (Express has no task tokens): use engine 'standard'",
    ]);
  });

  it('refuses an unknown engine', () => {
    expect(issuesOf(() => validateTemplate(template([step('a')], { engine: 'turbo' as 'express' })))).toEqual(
      [expect.stringMatching(/^engine: /)],
    );
  });

  it('gives the same template when its own output is validated again', () => {
    for (const engine of ['standard', 'express'] as const) {
      const once = validateTemplate(template([step('a'), step('b', { dependencies: ['a'] })], { engine }));
      expect(validateTemplate(once)).toEqual(once);
    }
  });

  it('reports every problem at once', () => {
    const steps = [step('a', { dependencies: ['x'] }), step('a'), step('b', { dependencies: ['b'] })];
    expect(issuesOf(() => validateTemplate(template(steps)))).toHaveLength(3);
  });
});

describe('findReferences', () => {
  it('parses references with and without a path, and leaves other braces alone', () => {
    expect(findReferences('{{ steps.a.output.x.0.y }} and {{steps.b.output}} and {{name}}')).toEqual({
      references: [
        { text: '{{ steps.a.output.x.0.y }}', stepId: 'a', path: ['x', '0', 'y'] },
        { text: '{{steps.b.output}}', stepId: 'b', path: [] },
      ],
      malformed: [],
    });
  });

  it('reports references that do not parse', () => {
    expect(findReferences('{{steps.a}} {{steps.a.outputs.x}} {{steps..output}}').malformed).toEqual([
      '{{steps.a}}',
      '{{steps.a.outputs.x}}',
      '{{steps..output}}',
    ]);
  });
});
