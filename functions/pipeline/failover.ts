import { pipelineStep } from '../../lib/handler/pipeline-step.ts';

/** Task pipeline step `failover`: see `TaskPipeline.failover`. */
export const handler = pipelineStep('failover');
