import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { PipelineState, TaskPipeline } from '../core/pipeline/task-pipeline.ts';
import { logger, tracer } from './observability.ts';
import { orchestrator } from './runtime.ts';

type Step = keyof Pick<TaskPipeline, 'decide' | 'route' | 'callFactory' | 'failover' | 'record'>;

/**
 * A task pipeline step as a Lambda handler: the state machine passes the pipeline state and gets
 * the next one back. Errors are thrown to the state machine, whose Catch records them with the task.
 */
export function pipelineStep(step: Step) {
  return middy<PipelineState, PipelineState>()
    .use(injectLambdaContext(logger, { correlationIdPath: 'taskId', resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .handler(async (state) => {
      logger.appendKeys({ step, taskId: state.taskId });
      return orchestrator().pipeline[step](state);
    });
}
