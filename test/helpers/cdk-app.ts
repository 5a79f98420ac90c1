/** The CDK app as `cdk synth` makes it, for tests that look at the synthesized template. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { addVobeeStack } from '../../cdk/vobee-app.ts';
import type { VobeeStack } from '../../cdk/vobee-stack.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The feature flags `cdk synth` runs with, so the tests see the template the CLI makes. */
export const CDK_JSON_CONTEXT = JSON.parse(readFileSync(resolve(ROOT, 'cdk.json'), 'utf8')).context as Record<
  string,
  unknown
>;

/** An app as `cdk/app.ts` makes it, minus esbuild: an empty bundling-stacks list skips every bundle. */
export function makeApp(context: Record<string, unknown> = {}): { app: App; stack: VobeeStack } {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, ...context, 'aws:cdk:bundling-stacks': [] } });
  return { app, stack: addVobeeStack(app) };
}

/** The logical id of a construct's CloudFormation resource in `stack`. */
export function logicalIdIn(stack: VobeeStack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}
