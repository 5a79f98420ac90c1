import { pipelineStep } from '../../lib/handler/pipeline-step.ts';

/** Task pipeline step `record`: see `TaskPipeline.record`. */
export const handler = pipelineStep('record');
