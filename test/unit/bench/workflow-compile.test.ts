import { describe, expect, it } from 'vitest';
import {
  executedTransitions,
  randomCase,
  successTransitions,
  taskStateNames,
  workflowCompile,
  workflowTransitions,
} from '../../../bench/workflow-compile.ts';
import { compileWorkflow, executionInput } from '../../../lib/core/workflow/compile.ts';
import { productLaunchCampaign } from '../../../lib/core/workflow/examples.ts';
import { seeded } from '../workflow/support.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:run-step';
const RUN = { id: 'run-1', deadline: '2099-01-01T00:00:00.000Z' };
const succeed = () => ({ StatusCode: 200, Payload: { status: 'SUCCEEDED', output: {} } });

// a -> c, b -> c, b -> d: c heads a branch behind its gate.
const nShape = {
  workflow_id: 'n-shape',
  name: 'N',
  steps: [
    { step_id: 'a', name: 'A', factory_type: 'f', action: 'x' },
    { step_id: 'b', name: 'B', factory_type: 'f', action: 'x' },
    { step_id: 'c', name: 'C', factory_type: 'f', action: 'x', dependencies: ['a', 'b'] },
    { step_id: 'd', name: 'D', factory_type: 'f', action: 'x', dependencies: ['b'] },
  ],
};

describe('state transitions of a successful run', () => {
  it('count every state entered, Parallel states and their branches included', async () => {
    const { definition } = compileWorkflow(productLaunchCampaign, { runStepFunctionArn: ARN });
    // One Parallel (research, images, video | trends) and its four Task states; no gate is entered.
    expect(successTransitions(definition)).toBe(5);
    expect((await workflowTransitions(productLaunchCampaign)).transitions).toBe(5);
  });

  it('count the gate of a gated branch head, and no other gate or failure state', async () => {
    const { definition } = compileWorkflow(nShape, { runStepFunctionArn: ARN });
    // Steps, then a | b, d | c (gate), c.
    expect(successTransitions(definition)).toBe(6);
    const executed = await workflowTransitions(nShape);
    expect(executed.transitions).toBe(6);
    expect(executed.entered).toContain('c (gate)');
  });

  it('read from the structure agree with an execution of the definition, gates answered like steps', async () => {
    const random = seeded(11);
    for (let i = 0; i < 6; i++) {
      const { template } = randomCase(10 + Math.floor(random() * 30), random);
      for (const engine of ['standard', 'express'] as const) {
        const { definition, stats } = compileWorkflow({ ...template, engine }, { runStepFunctionArn: ARN });
        const names = taskStateNames(definition);
        // Each step's Task and failure record, the gates, and Express's end record.
        expect(names).toHaveLength(stats.taskStates);
        const executed = await executedTransitions(
          definition,
          Object.fromEntries(names.map((name) => [name, succeed])),
          executionInput({}, RUN),
        );
        expect(executed.transitions).toBe(successTransitions(definition));
        expect(executed.entered.filter((name) => name.endsWith(' (gate)'))).toHaveLength(stats.gates);
      }
    }
  });

  it('refuse to guess through a Choice state', () => {
    expect(() =>
      successTransitions({ StartAt: 'c', States: { c: { Type: 'Choice', Choices: [], Default: 'c' } } }),
    ).toThrow(/Choice/);
  });
});

describe('the workflow compile benchmark', () => {
  it('reaches the critical path on every DAG, and counts gates and transitions per step', async () => {
    const report = await workflowCompile({
      dags: 12,
      minSteps: 10,
      maxSteps: 30,
      seed: 7,
      executedChecks: 3,
      largeSteps: 200,
      timingRuns: 1,
    });
    expect(report.makespan.ratio.max).toBe(1);
    expect(report.makespan.ratio.min).toBe(1);
    expect(report.transitionCheck).toEqual({ executed: 3, mismatches: [] });
    expect(report.gatesPerStep.mean).toBeGreaterThan(0);
    expect(report.gatesPerStep.max).toBeLessThan(1);
    // Each step once, its gate when it heads a gated branch, and the Parallel with its branches.
    expect(report.transitionsPerStep.mean).toBeGreaterThan(1 + report.gatesPerStep.mean);
    expect(report.transitionsPerStep.mean).toBeLessThan(1 + report.gatesPerStep.mean + 0.2);
    expect(report.example).toMatchObject({ steps: 4, transitions: 5, stepsOnCriticalPath: 3 });
  });
});
