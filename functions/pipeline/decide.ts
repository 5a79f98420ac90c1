import { pipelineStep } from '../../lib/handler/pipeline-step.ts';

/** Task pipeline step `decide`: see `TaskPipeline.decide`. */
export const handler = pipelineStep('decide');
