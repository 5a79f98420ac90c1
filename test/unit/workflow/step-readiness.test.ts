import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors.ts';
import {
  decideStep,
  resolveParameters,
  type StepResults,
} from '../../../lib/core/workflow/step-readiness.ts';
import { issuesOf } from '../../helpers/errors.ts';

const results: StepResults = {
  research: {
    status: 'SUCCEEDED',
    output: {
      summary: 'AI tools grow 30%',
      score: 0.8,
      tags: ['ai', 'tools'],
      meta: { pages: 12, ok: true },
    },
  },
  images: { status: 'SUCCEEDED', output: { images: [{ url: 's3://a.png' }, { url: 's3://b.png' }] } },
  nothing: { status: 'SUCCEEDED', output: null },
  broken: { status: 'FAILED', error: { Error: 'FactoryError', Cause: 'boom' } },
  skipped: { status: 'SKIPPED' },
};

describe('resolveParameters', () => {
  it('keeps the type of a value referenced by a whole string', () => {
    expect(
      resolveParameters(
        {
          score: '{{steps.research.output.score}}',
          tags: '{{steps.research.output.tags}}',
          meta: '{{ steps.research.output.meta }}',
          url: '{{steps.images.output.images.1.url}}',
          all: '{{steps.nothing.output}}',
        },
        results,
      ),
    ).toEqual({
      score: 0.8,
      tags: ['ai', 'tools'],
      meta: { pages: 12, ok: true },
      url: 's3://b.png',
      all: null,
    });
  });

  it('stringifies references embedded in longer text', () => {
    expect(
      resolveParameters(
        {
          brief: 'Insight: {{steps.research.output.summary}} (score {{steps.research.output.score}})',
          tags: 'tags={{steps.research.output.tags}}',
          padded: ' {{steps.research.output.meta.ok}}',
        },
        results,
      ),
    ).toEqual({
      brief: 'Insight: AI tools grow 30% (score 0.8)',
      tags: 'tags=["ai","tools"]',
      padded: ' true',
    });
  });

  it('resolves inside nested objects and arrays and leaves everything else as it is', () => {
    const parameters = {
      n: 3,
      flag: false,
      none: null,
      plain: 'no {{braces}} here',
      nested: { list: ['{{steps.images.output.images.0}}', 'x'] },
    };
    expect(resolveParameters(parameters, results)).toEqual({
      ...parameters,
      nested: { list: [{ url: 's3://a.png' }, 'x'] },
    });
  });

  it('does not let the result alias the stored output', () => {
    const resolved = resolveParameters({ meta: '{{steps.research.output.meta}}' }, results);
    (resolved.meta as { pages: number }).pages = 99;
    expect((results.research as { output: { meta: { pages: number } } }).output.meta.pages).toBe(12);
  });

  it('names the missing path, and reports every unresolvable reference', () => {
    expect(
      issuesOf(() =>
        resolveParameters(
          {
            a: '{{steps.research.output.summary.title}}',
            b: { c: ['{{steps.images.output.images.5.url}}'] },
            d: 'x {{steps.research.output.nope}}',
            e: '{{steps.research.output.__proto__}}',
          },
          results,
        ),
      ),
    ).toEqual([
      "parameters.a: '{{steps.research.output.summary.title}}': the output of step 'research' has no 'summary.title'",
      "parameters.b.c.0: '{{steps.images.output.images.5.url}}': the output of step 'images' has no 'images.5'",
      "parameters.d: '{{steps.research.output.nope}}': the output of step 'research' has no 'nope'",
      "parameters.e: '{{steps.research.output.__proto__}}': the output of step 'research' has no '__proto__'",
    ]);
  });

  it('refuses the output of a step that did not succeed or has no result', () => {
    expect(
      issuesOf(() =>
        resolveParameters(
          { a: '{{steps.broken.output.x}}', b: '{{steps.skipped.output}}', c: '{{steps.ghost.output}}' },
          results,
        ),
      ),
    ).toEqual([
      "parameters.a: '{{steps.broken.output.x}}': step 'broken' has no output: it failed",
      "parameters.b: '{{steps.skipped.output}}': step 'skipped' has no output: it was skipped",
      "parameters.c: '{{steps.ghost.output}}': step 'ghost' has no result",
    ]);
  });
});

describe('decideStep', () => {
  const step = (overrides: {
    dependencies?: string[];
    any_of?: string[][];
    parameters?: Record<string, unknown>;
  }) => ({
    step_id: 'next',
    parameters: {},
    dependencies: [],
    ...overrides,
  });

  it('runs a step without dependencies, with its parameters', () => {
    expect(decideStep(step({ parameters: { prompt: 'hero' } }), {})).toEqual({
      run: true,
      parameters: { prompt: 'hero' },
    });
  });

  it('runs when every dependency succeeded, with references resolved', () => {
    const decision = decideStep(
      step({
        dependencies: ['research', 'images'],
        parameters: { brief: '{{steps.research.output.summary}}' },
      }),
      results,
    );
    expect(decision).toEqual({ run: true, parameters: { brief: 'AI tools grow 30%' } });
  });

  it('skips when a dependency failed or was skipped, naming it', () => {
    expect(decideStep(step({ dependencies: ['research', 'broken'] }), results)).toEqual({
      run: false,
      status: 'SKIPPED',
      reason: "dependency 'broken' failed",
    });
    expect(decideStep(step({ dependencies: ['skipped'] }), results)).toEqual({
      run: false,
      status: 'SKIPPED',
      reason: "dependency 'skipped' was skipped",
    });
  });

  it('runs when each any_of group has a success, and skips when a group has none', () => {
    expect(decideStep(step({ any_of: [['broken', 'images'], ['research']] }), results).run).toBe(true);
    expect(decideStep(step({ any_of: [['images'], ['broken', 'skipped']] }), results)).toEqual({
      run: false,
      status: 'SKIPPED',
      reason: "none of the steps 'broken', 'skipped' succeeded",
    });
  });

  it('throws when a waited-for step has no result yet: the state machine ran it too early', () => {
    expect(() => decideStep(step({ dependencies: ['research', 'later'] }), results)).toThrow(
      "step 'next' was started before its dependency 'later' finished",
    );
    expect(() => decideStep(step({ any_of: [['research', 'later']] }), results)).toThrow(/'later'/);
  });

  it('throws a ValidationError when it would run but a reference cannot be resolved', () => {
    expect(() =>
      decideStep(
        step({ any_of: [['broken', 'images']], parameters: { x: '{{steps.broken.output.x}}' } }),
        results,
      ),
    ).toThrow(ValidationError);
  });
});

describe('input references', () => {
  const input = {
    product_name: 'Aurora Lamp',
    count: 3,
    brand: { color: 'teal', fonts: ['Inter', 'Lora'] },
    live: false,
    nothing: null,
  };

  it('keeps the type of an input referenced by a whole string, and looks inside objects and arrays', () => {
    expect(
      resolveParameters(
        {
          name: '{{input.product_name}}',
          count: '{{ input.count }}',
          brand: '{{input.brand}}',
          font: '{{input.brand.fonts.1}}',
          live: '{{input.live}}',
          none: '{{input.nothing}}',
        },
        {},
        input,
      ),
    ).toEqual({
      name: 'Aurora Lamp',
      count: 3,
      brand: { color: 'teal', fonts: ['Inter', 'Lora'] },
      font: 'Lora',
      live: false,
      none: null,
    });
  });

  it('stringifies inputs inside longer text, next to step references', () => {
    expect(
      resolveParameters(
        {
          prompt:
            '{{input.product_name}} x{{input.count}} in {{input.brand.color}}: {{steps.research.output.summary}}',
          fonts: ['fonts={{input.brand.fonts}}'],
        },
        results,
        input,
      ),
    ).toEqual({
      prompt: 'Aurora Lamp x3 in teal: AI tools grow 30%',
      fonts: ['fonts=["Inter","Lora"]'],
    });
  });

  it('does not let the result alias the run input', () => {
    const resolved = resolveParameters({ brand: '{{input.brand}}' }, {}, input);
    (resolved.brand as { color: string }).color = 'red';
    expect(input.brand.color).toBe('teal');
  });

  it('names an input or a path the run input lacks, with the step references that fail', () => {
    expect(
      issuesOf(() =>
        resolveParameters(
          {
            a: '{{input.budget}}',
            b: 'x {{input.brand.logo}}',
            c: ['{{input.brand.fonts.7}}'],
            d: '{{input.toString}}',
            e: '{{input.product_name}} {{steps.broken.output}}',
          },
          results,
          input,
        ),
      ),
    ).toEqual([
      "parameters.a: '{{input.budget}}': the run input has no 'budget'",
      "parameters.b: '{{input.brand.logo}}': the run input 'brand' has no 'logo'",
      "parameters.c.0: '{{input.brand.fonts.7}}': the run input 'brand' has no 'fonts.7'",
      "parameters.d: '{{input.toString}}': the run input has no 'toString'",
      "parameters.e: '{{steps.broken.output}}': step 'broken' has no output: it failed",
    ]);
  });

  it('decideStep resolves inputs when the step runs, and without an input a reference fails', () => {
    const step = {
      step_id: 'next',
      parameters: {
        prompt: '{{input.product_name}}: {{steps.research.output.summary}}',
        n: '{{input.count}}',
      },
      dependencies: ['research'],
    };
    expect(decideStep(step, results, input)).toEqual({
      run: true,
      parameters: { prompt: 'Aurora Lamp: AI tools grow 30%', n: 3 },
    });
    expect(() => decideStep(step, results)).toThrow(
      "'{{input.product_name}}': the run input has no 'product_name'",
    );
    expect(decideStep({ ...step, dependencies: ['broken'] }, results, input)).toMatchObject({ run: false });
  });
});
