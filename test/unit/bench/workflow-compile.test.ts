import { describe, expect, it } from 'vitest';
import {
  executedTransitions,
  randomCase,
  successTransitions,
  taskStateNames,
  workflowTransitions,
} from '../../../bench/workflow-compile.ts';
import { compileWorkflow, executionInput } from '../../../lib/core/workflow/compile.ts';
import { productLaunchCampaign } from '../../../lib/core/workflow/examples.ts';
import { seeded } from '../workflow/support.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:run-step';
const succeed = () => ({ StatusCode: 200, Payload: { status: 'SUCCEEDED', output: {} } });

describe('state transitions of a successful run', () => {
  it('count every state entered, Parallel states and their branches included', async () => {
    const { definition } = compileWorkflow(productLaunchCampaign, { runStepFunctionArn: ARN });
    // One Parallel (research, images, video | trends) and its four Task states.
    expect(successTransitions(definition)).toBe(5);
    expect((await workflowTransitions(productLaunchCampaign)).transitions).toBe(5);
  });

  it('read from the structure agree with an execution of the definition', async () => {
    const random = seeded(11);
    for (let i = 0; i < 6; i++) {
      const { template } = randomCase(10 + Math.floor(random() * 30), random);
      const { definition } = compileWorkflow(template, { runStepFunctionArn: ARN });
      const names = taskStateNames(definition);
      expect(names).toHaveLength(template.steps.length);
      const executed = await executedTransitions(
        definition,
        Object.fromEntries(names.map((name) => [name, succeed])),
        executionInput({}),
      );
      expect(executed.transitions).toBe(successTransitions(definition));
    }
  });

  it('refuse to guess through a Choice state', () => {
    expect(() =>
      successTransitions({ StartAt: 'c', States: { c: { Type: 'Choice', Choices: [], Default: 'c' } } }),
    ).toThrow(/Choice/);
  });
});
