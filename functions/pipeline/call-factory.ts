import { pipelineStep } from '../../lib/handler/pipeline-step.ts';

/** Task pipeline step `callFactory`: one call to the current service; see `TaskPipeline.callFactory`. */
export const handler = pipelineStep('callFactory');
