import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stageSettings } from './settings.ts';
import { VobeeStack } from './vobee-stack.ts';

/**
 * Adds the stage's stack to an app, with cdk-nag's AWS Solutions checks run at every synth.
 * Context: `stage` (default `dev`), `allowedPrivateEndpoints` (optional), `workflowLogLevel`
 * (`OFF`, `ERROR` (default), `FATAL` or `ALL`), `workflowLogExecutionData` (default `false`) and
 * `functionSystemLogLevel` (`DEBUG`, `INFO` or `WARN` (default)).
 */
export function addVobeeStack(app: App): VobeeStack {
  const settings = stageSettings(String(app.node.tryGetContext('stage') ?? 'dev'), {
    workflowLogLevel: app.node.tryGetContext('workflowLogLevel'),
    workflowLogExecutionData: app.node.tryGetContext('workflowLogExecutionData'),
    functionSystemLogLevel: app.node.tryGetContext('functionSystemLogLevel'),
  });
  const allowed = app.node.tryGetContext('allowedPrivateEndpoints') as string | undefined;
  // No `env`: the stack is environment-agnostic, so synth needs no account, credentials or lookups.
  const stack = new VobeeStack(app, settings.prefix, {
    settings,
    allowedPrivateEndpoints: allowed,
    description: `VoBee orchestrator (${settings.stage})`,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
