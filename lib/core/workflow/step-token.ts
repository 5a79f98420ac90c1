/**
 * The callback token a workflow step gives its factory: the run, the step, the service it called
 * and the step's action, then the engine's own task token. The callback handler finds the step without a lookup,
 * and checks the engine token against the hash the step stored when it started.
 */
const PREFIX = 'w.';

export interface StepToken {
  executionName: string;
  stepId: string;
  service: string;
  /** The step's action: the task type its call is counted under. */
  taskType: string;
  /** The task token of the engine (`$$.Task.Token`). */
  engineToken: string;
}

const encode = (text: string) => Buffer.from(text).toString('base64url');
const decode = (text: string) => Buffer.from(text, 'base64url').toString('utf8');

export function stepCallbackToken(token: StepToken): string {
  const parts = [token.executionName, token.stepId, token.service, token.taskType].map(encode);
  return `${PREFIX}${parts.join('.')}.${token.engineToken}`;
}

/** The parts of a step token, or undefined when `token` is not one. */
export function parseStepToken(token: string): StepToken | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const parts = token.slice(PREFIX.length).split('.');
  const [execution, step, service, taskType] = parts;
  // The engine token is the rest: Step Functions tokens have no dots, but nothing here relies on it.
  const engineToken = parts.slice(4).join('.');
  if (!execution || !step || !service || !taskType || !engineToken) return undefined;
  return {
    executionName: decode(execution),
    stepId: decode(step),
    service: decode(service),
    taskType: decode(taskType),
    engineToken,
  };
}
