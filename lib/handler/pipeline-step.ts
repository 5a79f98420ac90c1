import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { PipelineState, TaskPipeline } from '../core/pipeline/task-pipeline.ts';
import { logger, metrics, tracer } from './observability.ts';
import { orchestrator } from './runtime.ts';

type Step = keyof Pick<TaskPipeline, 'decide' | 'route' | 'callFactory' | 'failover' | 'record'>;

/**
 * A task pipeline step as a Lambda handler: the state machine passes the pipeline state and gets
 * the next one back. Errors are thrown to the state machine, whose Catch records them with the task.
 */
export function pipelineStep(step: Step) {
  return stepHandler<PipelineState, PipelineState>('taskId', async (state) => {
    logger.appendKeys({ step, taskId: state.taskId });
    const next = await orchestrator().pipeline[step](state);
    countOutcome(step, next);
    return next;
  });
}

/**
 * A handler called by a state machine (not API Gateway): logging with a correlation id taken
 * from the payload, metrics and tracing; errors go back to the state machine as they are.
 */
export function stepHandler<E, R>(correlationIdPath: string, handle: (event: E) => Promise<R>) {
  return middy<E, R>()
    .use(injectLambdaContext(logger, { correlationIdPath, resetKeys: true }))
    .use(logMetrics(metrics))
    .use(captureLambdaHandler(tracer))
    .handler(handle);
}

/** The pipeline's business metrics: calls and their latency, tasks decided and finished. */
function countOutcome(step: Step, state: PipelineState): void {
  if (step === 'callFactory' && state.call) {
    metrics.addMetric(
      state.call.outcome === 'succeeded' ? 'FactoryCallSucceeded' : 'FactoryCallFailed',
      MetricUnit.Count,
      1,
    );
    metrics.addMetric('FactoryCallLatency', MetricUnit.Milliseconds, state.call.latencyMs);
  } else if (step === 'record') {
    metrics.addMetric(state.status === 'SUCCEEDED' ? 'TaskSucceeded' : 'TaskFailed', MetricUnit.Count, 1);
  } else {
    metrics.addMetric(`Pipeline${step[0]?.toUpperCase()}${step.slice(1)}`, MetricUnit.Count, 1);
  }
}
