import { SFNClient } from '@aws-sdk/client-sfn';
import type { WorkflowEngine } from '../core/workflow/workflow-ports.ts';
import { SfnEngine } from '../engine/sfn-engine.ts';
import { config, memo, wiring } from './context.ts';

/** The workflow engine: the wiring's (the local engine), else Step Functions. */
export const workflowEngine = memo((): WorkflowEngine => {
  const wired = wiring().engine;
  if (wired) return wired;
  const { workflowRoleArn, workflowLogs } = config();
  return new SfnEngine(new SFNClient({}), { workflowRoleArn, ...workflowLogs });
});
