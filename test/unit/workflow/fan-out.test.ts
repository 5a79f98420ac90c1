import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors.ts';
import {
  type AslState,
  type AslStateMachine,
  compiledMakespan,
  compileWorkflow,
  fanOutNames,
} from '../../../lib/core/workflow/compile.ts';
import {
  checkItemList,
  childExecutionType,
  collectOutputs,
  DEFAULT_MAX_CONCURRENCY,
  findItemReferences,
  MAX_EXPRESS_ITEMS_BYTES,
  MAX_INLINE_ITEMS,
  MAX_ITEMS,
  mapLabel,
  objectLocation,
  placeItems,
  withItem,
} from '../../../lib/core/workflow/fan-out.ts';
import { LAMBDA_INVOKE } from '../../../lib/core/workflow/step-kinds.ts';
import {
  validateTemplate,
  type WorkflowStepInput,
  type WorkflowTemplateInput,
} from '../../../lib/core/workflow/template.ts';
import { LocalEngine, withInlineMaps } from '../../../lib/engine/local-engine.ts';

type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:vobee-run-step';

/** asl-validator writes defaults into what it checks, so it gets a copy. */
function expectValidAsl(definition: AslStateMachine) {
  const { isValid, errorsText } = aslValidator(structuredClone(definition));
  expect(isValid, errorsText('\n')).toBe(true);
}

const step = (id: string, fields: Partial<WorkflowStepInput> = {}): WorkflowStepInput => ({
  step_id: id,
  name: `Step ${id}`,
  factory_type: 'media',
  action: 'generate_image',
  ...fields,
});

const template = (steps: WorkflowStepInput[], fields: Partial<WorkflowTemplateInput> = {}) => ({
  workflow_id: 'fan',
  name: 'Fan',
  steps,
  ...fields,
});

/** The issues a template is refused with, as `field: message`. */
function issuesOf(input: unknown): string[] {
  try {
    validateTemplate(input);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  return [];
}

/** Every state of a definition, nested ones included, by name; fails on a name used twice. */
function allStates(machine: AslStateMachine): Map<string, AslState> {
  const found = new Map<string, AslState>();
  const walk = (m: AslStateMachine) => {
    for (const [name, state] of Object.entries(m.States)) {
      expect(found.has(name), `state name '${name}' is used twice`).toBe(false);
      found.set(name, state);
      for (const branch of (state.Branches as AslStateMachine[] | undefined) ?? []) walk(branch);
      if (state.ItemProcessor) walk(state.ItemProcessor as AslStateMachine);
    }
  };
  walk(machine);
  return found;
}

describe('for_each in templates', () => {
  it('fills max_concurrency and accepts a literal list, a run input and a transitive dependency', () => {
    const checked = validateTemplate(
      template(
        [
          step('plan'),
          step('mid', { dependencies: ['plan'] }),
          step('literal', { for_each: { items: ['a', { b: 1 }] }, parameters: { prompt: '{{item}}' } }),
          step('input', { for_each: { items: '{{input.prompts}}', max_concurrency: 3 } }),
          step('deep', {
            dependencies: ['mid'],
            for_each: { items: '{{steps.plan.output.shots}}' },
            parameters: { prompt: '{{item.name}} {{index}}' },
          }),
        ],
        { inputs: { prompts: { type: 'array' } } },
      ),
    );
    expect(checked.steps[2]?.for_each).toEqual({
      items: ['a', { b: 1 }],
      max_concurrency: DEFAULT_MAX_CONCURRENCY,
    });
    expect(checked.steps[3]?.for_each?.max_concurrency).toBe(3);
  });

  it('names each problem under its field', () => {
    const issues = issuesOf(
      template(
        [
          step('a', { parameters: { prompt: '{{item}}', other: 'at {{index}}' } }),
          step('b', { for_each: { items: '{{steps.c.output}}' } }),
          step('c', { dependencies: ['a'] }),
          step('d', { for_each: { items: '{{steps.nope.output.list}}' } }),
          step('e', { for_each: { items: '{{input.title}}' } }),
          step('f', { for_each: { items: '{{input.undeclared}}' } }),
          step('g', { for_each: { items: 'prompts: {{input.list}}' } }),
          step('h', { for_each: { items: [1] }, parameters: { p: '{{item..x}}', q: '{{index.0}}' } }),
          step('i', { for_each: { items: [1] }, callback: true }),
        ],
        { inputs: { title: { type: 'string', default: 't' }, list: { type: 'array', default: [] } } },
      ),
    );
    const expected = [
      'steps.0.parameters.prompt: ',
      'steps.0.parameters.other: ',
      "steps.1.for_each.items: '{{steps.c.output}}' refers to step 'c', which is not a dependency",
      "steps.3.for_each.items: '{{steps.nope.output.list}}' refers to unknown step 'nope'",
      "steps.4.for_each.items: '{{input.title}}' is input 'title', declared as string",
      "steps.5.for_each.items: '{{input.undeclared}}' refers to undeclared input 'undeclared'",
      'steps.6.for_each.items: ',
      "steps.7.parameters.p: malformed reference '{{item..x}}'",
      "steps.7.parameters.q: malformed reference '{{index.0}}'",
      'steps.8.callback: a for_each step cannot wait for callbacks',
    ];
    for (const start of expected)
      expect(
        issues.some((i) => i.startsWith(start)),
        `${start}\n${issues.join('\n')}`,
      ).toBe(true);
    expect(issues).toHaveLength(expected.length);
    expect(issues.filter((i) => i.startsWith('steps.0.'))).toEqual([
      "steps.0.parameters.prompt: '{{item}}' refers to the current item, but the step has no for_each",
      "steps.0.parameters.other: '{{index}}' refers to the current item, but the step has no for_each",
    ]);
  });

  it('bounds literal lists, their items and the concurrency, and takes only lists or references', () => {
    const issues = issuesOf(
      template([
        step('a', { for_each: { items: Array.from({ length: 1_001 }, (_, i) => i) } }),
        step('b', { for_each: { items: [1], max_concurrency: 0 } }),
        step('c', { for_each: { items: [1], max_concurrency: 1_001 } }),
        step('d', { for_each: { items: { a: 1 } as never } }),
        step('e', { for_each: { items: ['x'.repeat(70_000)] } }),
        step('f', { for_each: { items: [1], extra: true } as never }),
        step('g', { for_each: { items: [{ ok: [{ 'path.$': '$.x' }] }] } }),
      ]),
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^steps\.0\.for_each\.items: lists 1001 items, more than the 1000 a template may list/,
      ),
      expect.stringMatching(/^steps\.1\.for_each\.max_concurrency: /),
      expect.stringMatching(/^steps\.2\.for_each\.max_concurrency: /),
      expect.stringMatching(/^steps\.3\.for_each\.items: must be a JSON list or one reference to a list/),
      expect.stringMatching(/^steps\.4\.for_each\.items\.0: an item takes 70002 bytes/),
      expect.stringMatching(/^steps\.5\.for_each: /),
      "steps.6.for_each.items.0.ok.0.path.$: keys must not end with '.$' (Step Functions would evaluate them as paths)",
    ]);
  });
});

describe('item references', () => {
  it('finds {{item}}, {{item.<path>}} and {{index}}, and leaves other braces alone', () => {
    expect(
      findItemReferences('{{item}} {{ item.a.0 }} {{index}} {{items}} {{steps.x.output}} {{item x}}'),
    ).toEqual({
      references: [
        { text: '{{item}}', kind: 'item', path: [] },
        { text: '{{ item.a.0 }}', kind: 'item', path: ['a', '0'] },
        { text: '{{index}}', kind: 'index', path: [] },
      ],
      malformed: ['{{item x}}'],
    });
  });

  it('replaces them with the item: typed when a string is one reference, written in otherwise', () => {
    const item = { name: 'front', size: 256, tags: ['a', 'b'] };
    expect(
      withItem(
        {
          whole: '{{item}}',
          size: '{{item.size}}',
          tag: '{{item.tags.1}}',
          at: '{{index}}',
          text: '{{item.name}} #{{index}} {{item.tags}}',
          n: 3,
          nested: [{ v: '{{item.name}}' }],
        },
        item,
        4,
      ),
    ).toEqual({
      whole: item,
      size: 256,
      tag: 'b',
      at: 4,
      text: 'front #4 ["a","b"]',
      n: 3,
      nested: [{ v: 'front' }],
    });
    expect(withItem({ p: '{{item}}' }, 'plain', 0)).toEqual({ p: 'plain' });
  });

  it('reports every reference the item cannot satisfy, naming the parameter', () => {
    expect(() => withItem({ a: '{{item.missing}}', b: { c: '{{item.0}}' } }, { x: 1 }, 7)).toThrow(
      "parameters.a: '{{item.missing}}': item 7 has no 'missing'; parameters.b.c: '{{item.0}}': item 7 has no '0'",
    );
  });
});

describe('item lists', () => {
  it('takes lists of at most MAX_ITEMS items of bounded size', () => {
    expect(checkItemList([1, 'a'], 'f')).toEqual([1, 'a']);
    expect(() => checkItemList({ a: 1 }, 'steps.s.for_each.items')).toThrow(
      'steps.s.for_each.items: must resolve to a list, not object',
    );
    expect(() => checkItemList('x', 'f')).toThrow('must resolve to a list, not string');
    expect(() =>
      checkItemList(
        Array.from({ length: MAX_ITEMS + 1 }, () => 0),
        'f',
      ),
    ).toThrow(`resolved to ${MAX_ITEMS + 1} items, more than the ${MAX_ITEMS}`);
    expect(() => checkItemList([1, 'x'.repeat(70_000)], 'f')).toThrow('f.1: an item takes 70002 bytes');
  });

  it('keeps short lists in the state and sends long ones to the Distributed Map; Express only inline', () => {
    const short = Array.from({ length: MAX_INLINE_ITEMS }, (_, i) => i);
    expect(placeItems(short, true, 'f')).toBe('inline');
    expect(placeItems([...short, 1], true, 'f')).toBe('artifact');
    expect(placeItems(['x'.repeat(40_000)], true, 'f')).toBe('artifact');
    expect(
      placeItems(
        Array.from({ length: 500 }, (_, i) => i),
        false,
        'f',
      ),
    ).toBe('inline');
    expect(() => placeItems(['x'.repeat(MAX_EXPRESS_ITEMS_BYTES)], false, 'steps.s.for_each.items')).toThrow(
      "an express workflow carries in its state (Express has no Distributed Map): use engine 'standard'",
    );
  });

  it('finds the bucket and key of an artifact', () => {
    expect(objectLocation('s3://vobee-artifacts/artifacts/1234')).toEqual({
      bucket: 'vobee-artifacts',
      key: 'artifacts/1234',
    });
    expect(() => objectLocation('https://example.com/x')).toThrow('not an S3 object URI');
  });

  it('collects outputs in item order, and names an item that failed or left nothing', () => {
    const results = [
      { index: 2, status: 'SUCCEEDED' as const, output: 'c' },
      { index: 0, status: 'SUCCEEDED' as const, output: { a: 1 } },
      { index: 1, status: 'SUCCEEDED' as const },
    ];
    expect(collectOutputs(results, 3)).toEqual([{ a: 1 }, null, 'c']);
    expect(collectOutputs([], 0)).toEqual([]);
    expect(() => collectOutputs(results, 4)).toThrow('item 3 left no result');
    expect(() =>
      collectOutputs([...results.slice(0, 2), { index: 1, status: 'FAILED', error: 'boom' }], 3),
    ).toThrow('item 1 failed: boom');
  });

  it('runs children on Express only when an item surely ends within five minutes', () => {
    expect(childExecutionType(undefined, 0)).toBe('STANDARD');
    expect(childExecutionType(60, 3)).toBe('EXPRESS'); // 4 attempts x 60 s + 7 s of back-off
    expect(childExecutionType(74, 3)).toBe('STANDARD');
    expect(childExecutionType(300, 0)).toBe('EXPRESS');
  });

  it('labels a Distributed Map with at most 40 characters, distinct for distinct steps', () => {
    expect(mapLabel('images')).toBe('images');
    const a = mapLabel(`${'a'.repeat(40)}_one`);
    const b = mapLabel(`${'a'.repeat(40)}_two`);
    expect(a.length).toBeLessThanOrEqual(40);
    expect(b.length).toBeLessThanOrEqual(40);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_]+$/);
  });
});

describe('compiling a fan-out step', () => {
  const fanOut = template([
    step('plan'),
    step('images', {
      dependencies: ['plan'],
      retries: 2,
      timeout_seconds: 30,
      for_each: { items: '{{steps.plan.output.prompts}}', max_concurrency: 25 },
      parameters: { prompt: '{{item}}' },
    }),
    step('video', { dependencies: ['images'], parameters: { images: '{{steps.images.output}}' } }),
  ]);
  const { definition } = compileWorkflow(fanOut, { runStepFunctionArn: ARN });
  const states = allStates(definition);
  const names = fanOutNames('images');

  it('resolves the list, then chooses the inline or the Distributed Map, then collects', () => {
    expect(definition.StartAt).toBe('plan');
    expect(states.get('plan')?.Next).toBe(names.items);
    const items = states.get(names.items) as AslState;
    expect(items).toMatchObject({
      Type: 'Task',
      Resource: LAMBDA_INVOKE,
      ResultSelector: { 'list.$': '$.Payload' },
      ResultPath: '$.fanout',
      Next: names.size,
    });
    expect((items.Parameters as { Payload: Record<string, unknown> }).Payload).toMatchObject({
      stepId: 'images',
      'input.$': '$.input',
      'run.$': '$.run',
      items: { from: '{{steps.plan.output.prompts}}', distributed: true },
    });
    expect(states.get(names.size)).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [
        { Variable: '$.fanout.list.items', IsPresent: true, Next: names.inline },
        { Variable: '$.fanout.list.bucket', IsPresent: true, Next: names.distributed },
      ],
      Default: 'video',
    });
    const selector = {
      'executionId.$': '$$.Execution.Id',
      'run.$': '$.run',
      'input.$': '$.input',
      'item.$': '$$.Map.Item.Value',
      'index.$': '$$.Map.Item.Index',
    };
    const catchFailed = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'images (failed)' }];
    expect(states.get(names.inline)).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.fanout.list.items',
      ItemSelector: selector,
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: names.item },
      MaxConcurrency: 25,
      ResultPath: null,
      Catch: catchFailed,
      Next: names.collect,
    });
    expect(states.get(names.distributed)).toMatchObject({
      Type: 'Map',
      Label: 'images',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.fanout.list.bucket', 'Key.$': '$.fanout.list.key' },
      },
      ItemSelector: selector,
      // 3 attempts of 30 s and 3 s of back-off fit in Express's five minutes.
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
        StartAt: names.child,
      },
      MaxConcurrency: 25,
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { 'Bucket.$': '$.fanout.list.bucket', Prefix: 'artifacts/map-runs/fan/images' },
      },
      ResultPath: null,
      Catch: catchFailed,
      Next: names.collect,
    });
    expect(states.get(names.collect)).toMatchObject({
      Type: 'Task',
      ResultSelector: { 'status.$': '$.Payload.status' },
      ResultPath: '$.fanout',
      Catch: catchFailed,
      Next: 'video',
    });
    expect(
      ((states.get(names.collect) as AslState).Parameters as { Payload: unknown }).Payload,
    ).toMatchObject({
      collect: { stepId: 'images', 'count.$': '$.fanout.list.count' },
    });
  });

  it("runs each item with the step's definition, timeout and retries, and keeps only its status", () => {
    for (const name of [names.item, names.child]) {
      const item = states.get(name) as AslState;
      expect(item).toMatchObject({
        Type: 'Task',
        Resource: LAMBDA_INVOKE,
        ResultSelector: { 'status.$': '$.Payload.status' },
        ResultPath: '$',
        TimeoutSeconds: 30,
        End: true,
      });
      expect(item.Retry).toEqual(states.get(names.items)?.Retry);
      expect(item.Retry).toContainEqual({
        ErrorEquals: ['States.ALL'],
        MaxAttempts: 2,
        IntervalSeconds: 1,
        BackoffRate: 2,
      });
      const payload = (item.Parameters as { Payload: Record<string, unknown> }).Payload;
      expect(payload).toMatchObject({
        'executionId.$': '$.executionId',
        'item.$': '$.item',
        'index.$': '$.index',
        stepId: 'images',
        step: { step_id: 'images', parameters: { prompt: '{{item}}' } },
      });
      // The list itself is in the `(items)` payload only.
      expect(JSON.stringify(payload)).not.toContain('plan.output.prompts');
    }
  });

  it('passes asl-validator, with names within 80 characters, unique across nested states', () => {
    expectValidAsl(definition);
    const longId = 's'.repeat(64);
    const long = compileWorkflow(
      template([step(longId, { for_each: { items: [1] } }), step('b', { for_each: { items: [2] } })], {
        parallel_execution: true,
      }),
      { runStepFunctionArn: ARN },
    ).definition;
    expectValidAsl(long);
    for (const name of allStates(long).keys()) expect(name.length).toBeLessThanOrEqual(80);
    expect(allStates(long).get(`${longId} (distributed)`)?.Label).toHaveLength(40);
  });

  it('passes asl-validator as the last step of parallel branches and behind a gate, on both engines', () => {
    const shapes = [
      // Two branches each ending with a fan-out (no next state: the Choice ends through a Pass).
      template([
        step('a'),
        step('b'),
        step('fa', { dependencies: ['a'], for_each: { items: [1, 2] } }),
        step('fb', { dependencies: ['b'], for_each: { items: '{{steps.b.output}}' } }),
      ]),
      // A gated fan-out: it waits for two steps.
      template([
        step('a'),
        step('b'),
        step('f', { dependencies: ['a', 'b'], for_each: { items: [1] }, on_failure: 'continue' }),
        step('z', { dependencies: ['f'] }),
      ]),
    ];
    for (const shape of shapes) {
      for (const engine of ['standard', 'express'] as const) {
        const { definition: compiled } = compileWorkflow({ ...shape, engine }, { runStepFunctionArn: ARN });
        expectValidAsl(compiled);
        const found = allStates(compiled);
        expect([...found.keys()].some((n) => n.endsWith('(distributed)'))).toBe(engine === 'standard');
      }
    }
    const gated = allStates(
      compileWorkflow(shapes[1] as WorkflowTemplateInput, { runStepFunctionArn: ARN }).definition,
    );
    expect(gated.get('f (gate)')?.Next).toBe('f (items)');
    expect(gated.get('f (items)')?.Catch).toContainEqual({
      ErrorEquals: ['WorkflowPaused'],
      ResultPath: null,
      Next: 'f (gate)',
    });
    const ends = allStates(
      compileWorkflow(shapes[0] as WorkflowTemplateInput, { runStepFunctionArn: ARN }).definition,
    );
    expect(ends.get('fa (list size)')?.Default).toBe('fa (ended)');
    expect(ends.get('fa (ended)')).toMatchObject({ Type: 'Pass', End: true });
    expect(ends.get('fa (collect)')?.End).toBe(true);
  });

  it('has no Distributed Map on Express: the Choice sends a list inline or past the step', () => {
    const express = allStates(
      compileWorkflow({ ...fanOut, engine: 'express' }, { runStepFunctionArn: ARN }).definition,
    );
    expect(express.get(names.size)?.Choices).toEqual([
      { Variable: '$.fanout.list.items', IsPresent: true, Next: names.inline },
    ]);
    expect(express.has(names.distributed)).toBe(false);
    expect(
      ((express.get(names.items) as AslState).Parameters as { Payload: { items: unknown } }).Payload.items,
    ).toEqual({
      from: '{{steps.plan.output.prompts}}',
      distributed: false,
    });
  });

  it('counts the step once in the makespan, following the Choice to the steps after it', () => {
    expect(compiledMakespan(fanOut, { plan: 2, images: 5, video: 1 })).toBe(8);
  });

  it('runs children as Standard when an item may outlast Express', () => {
    const slow = compileWorkflow(
      template([step('s', { for_each: { items: [1] }, timeout_seconds: 200, retries: 1 })]),
      {
        runStepFunctionArn: ARN,
      },
    ).definition;
    expect(allStates(slow).get('s (distributed)')?.ItemProcessor).toMatchObject({
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
    });
  });
});

describe('the local engine and Distributed Maps', () => {
  const { definition } = compileWorkflow(
    template([step('images', { for_each: { items: '{{input.prompts}}', max_concurrency: 4 } })], {
      inputs: { prompts: { type: 'array' } },
    }),
    { runStepFunctionArn: ARN },
  );

  it('runs one as an inline Map over the items a Task reads first, and clears them after', () => {
    const local = withInlineMaps(definition as never) as unknown as AslStateMachine;
    const states = allStates(local);
    expect(states.get('images (distributed)')).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::s3:getObject',
      Parameters: { 'Bucket.$': '$.fanout.list.bucket', 'Key.$': '$.fanout.list.key' },
      ResultPath: '$.localItemReader',
      Next: 'images (distributed) (local)',
    });
    const map = states.get('images (distributed) (local)') as AslState;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.localItemReader',
      MaxConcurrency: 4,
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' } },
      Next: 'images (distributed) (local end)',
    });
    expect(map).not.toHaveProperty('ItemReader');
    expect(map).not.toHaveProperty('ResultWriter');
    expect(states.get('images (distributed) (local end)')).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.localItemReader',
      Next: 'images (collect)',
    });
    // The original is untouched, and the interpreter accepts the rewrite.
    expect(allStates(definition).get('images (distributed)')?.Type).toBe('Map');
    expect(() => new LocalEngine(() => async () => ({})).register('arn:local', definition)).not.toThrow();
  });

  it('refuses an ItemReader it cannot run locally', () => {
    const csv = structuredClone(definition);
    (
      csv.States['images (distributed)'] as { ItemReader: { ReaderConfig: unknown } }
    ).ItemReader.ReaderConfig = {
      InputType: 'CSV',
    };
    expect(() => withInlineMaps(csv as never)).toThrow(
      'only a JSON list read with arn:aws:states:::s3:getObject runs locally',
    );
  });
});
