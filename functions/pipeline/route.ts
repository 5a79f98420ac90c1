import { pipelineStep } from '../../lib/handler/pipeline-step.ts';

/** Task pipeline step `route`: see `TaskPipeline.route`. */
export const handler = pipelineStep('route');
