import { compileWorkflow, type RunRef } from '../core/workflow/compile.ts';
import type { ExecutionDescription } from '../core/workflow/workflow-ports.ts';
import { LIVE_ALIAS, stateMachineName } from '../core/workflow/workflow-service.ts';
import type { LocalEngine } from '../engine/local-engine.ts';
import type { WorkflowStore } from '../store/workflow-store.ts';

/**
 * The local engine keeps state machines in memory; the workflows registered before a restart
 * are in DynamoDB. This publishes every stored version again, in order (so version numbers match
 * the stored ones), and points the alias at the current one.
 */
export async function restoreWorkflows(
  store: WorkflowStore,
  engine: LocalEngine,
  runStepFunction: string,
): Promise<number> {
  const heads = await store.listHeads();
  for (const head of heads) {
    const versions = (await store.listVersions(head.workflowId)).sort((a, b) => a.version - b.version);
    let current: string | undefined;
    for (const version of versions) {
      const { definition, type } = compileWorkflow(version.template, { runStepFunctionArn: runStepFunction });
      const deployed = await engine.deploy(stateMachineName(head.workflowId), definition, head.name, {
        type,
      });
      if (version.version === head.currentVersion) current = deployed.versionArn;
    }
    if (current) await engine.setAlias(engine.arnOf(stateMachineName(head.workflowId)), LIVE_ALIAS, current);
  }
  return heads.length;
}

/** Keeps how an execution of the local engine ended with its run (see `WorkflowRepository.recordRunEnd`). */
export async function keepRunEnd(
  store: WorkflowStore,
  description: ExecutionDescription,
  input: unknown,
): Promise<void> {
  const run = (input as { run?: RunRef } | undefined)?.run;
  if (!run || description.status === 'RUNNING') return;
  await store.recordRunEnd(
    run.id,
    {
      status: description.status,
      at: description.stoppedAt ?? new Date().toISOString(),
      error: description.error,
      cause: description.cause,
    },
    { executionArn: description.executionId },
  );
}
