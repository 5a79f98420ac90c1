/** The Lambda functions behind the task pipeline's Task states (names or ARNs). */
export interface PipelineFunctions {
  decide: string;
  route: string;
  callFactory: string;
  failover: string;
  record: string;
}

/** Lambda's own transient faults are retried by the state machine; errors of our code are not. */
const LAMBDA_RETRY = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  IntervalSeconds: 1,
  MaxAttempts: 3,
  BackoffRate: 2,
};

/** A pipeline step: the whole state in, the whole state out. A fault goes to Record as `$.fault`. */
function step(functionName: string, next: string, timeoutSeconds = 60) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: functionName, 'Payload.$': '$' },
    OutputPath: '$.Payload',
    TimeoutSeconds: timeoutSeconds,
    Retry: [LAMBDA_RETRY],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.fault', Next: 'Record' }],
    Next: next,
  };
}

/**
 * The single-task pipeline in Amazon States Language:
 *
 * Decide -> Route -> CallFactory -> (succeeded) Record
 *                        |-- retry: Wait the policy's delay, call the same service again
 *                        '-- failover: Failover -> CallFactory on the next service, or Record when none is left
 *
 * Retries follow the task's own policy (exponential or linear, computed by the CallFactory step)
 * rather than a fixed `Retry` block, which could not vary per task. The execution ends SUCCEEDED
 * or FAILED as the task did.
 */
export function pipelineDefinition(
  functions: PipelineFunctions,
  options: { callTimeoutSeconds?: number } = {},
) {
  return {
    Comment: 'VoBee task pipeline: decide, route, call the factory with retries and fallbacks, record',
    StartAt: 'Decide',
    States: {
      Decide: step(functions.decide, 'Route'),
      Route: step(functions.route, 'HasRoute'),
      HasRoute: {
        Type: 'Choice',
        Choices: [{ Variable: '$.route.exhausted', IsPresent: true, Next: 'Record' }],
        Default: 'CallFactory',
      },
      CallFactory: step(functions.callFactory, 'CallOutcome', options.callTimeoutSeconds ?? 60),
      CallOutcome: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.call.outcome', StringEquals: 'succeeded', Next: 'Record' },
          { Variable: '$.call.outcome', StringEquals: 'retry', Next: 'WaitBeforeRetry' },
        ],
        Default: 'Failover',
      },
      WaitBeforeRetry: { Type: 'Wait', SecondsPath: '$.call.delaySeconds', Next: 'CallFactory' },
      Failover: step(functions.failover, 'HasRoute'),
      Record: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: functions.record, 'Payload.$': '$' },
        OutputPath: '$.Payload',
        TimeoutSeconds: 60,
        Retry: [
          LAMBDA_RETRY,
          { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
        ],
        Next: 'TaskSucceeded?',
      },
      'TaskSucceeded?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.status', StringEquals: 'SUCCEEDED', Next: 'Done' }],
        Default: 'TaskFailed',
      },
      Done: { Type: 'Succeed' },
      TaskFailed: {
        Type: 'Fail',
        Error: 'TaskFailed',
        Cause: 'The task failed; GET /tasks/{id} has the reason',
      },
    },
  };
}
