import { compileWorkflow } from '../core/workflow/compile.ts';
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
