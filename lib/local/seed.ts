import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NotFoundError } from '../core/errors.ts';
import type { WorkflowTemplateInput } from '../core/workflow/template.ts';
import type { Orchestrator } from '../orchestrator.ts';
import { EXAMPLE_FACTORIES, EXAMPLE_MODULES, type RunningExampleFactory } from './factories/index.ts';

/**
 * Registers the running example factories as services and their modules, so that a fresh local
 * run has a meaningful registry. On a restart with kept data it changes only what moved (the
 * factories' endpoints when their ports changed) and leaves everything a person changed alone.
 */
export async function seedExamples(
  orchestrator: Orchestrator,
  factories: readonly RunningExampleFactory[],
): Promise<string[]> {
  const done: string[] = [];
  const known = new Set((await orchestrator.modules.list()).map((m) => m.name));
  for (const module of EXAMPLE_MODULES) {
    if (known.has(module.name)) continue;
    await orchestrator.modules.register({ ...module, enabled: true });
    done.push(`module ${module.name}`);
  }
  for (const factory of factories) {
    const description = EXAMPLE_FACTORIES[factory.kind];
    const existing = await orchestrator.services.get(factory.name).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (!existing) {
      await orchestrator.services.register({
        name: factory.name,
        endpoint: factory.endpoint,
        factoryType: description.factoryType,
        capabilities: description.capabilities,
      });
      done.push(`service ${factory.name}`);
    } else if (existing.endpoint !== factory.endpoint) {
      await orchestrator.services.update(factory.name, { endpoint: factory.endpoint });
      done.push(`service ${factory.name} endpoint`);
    }
  }
  return done;
}

/** The workflow templates the stack deploys (`cdk/workflows/*.json`): the local runtime registers the same ones. */
export function bundledWorkflowTemplates(): WorkflowTemplateInput[] {
  const folder = resolve(import.meta.dirname, '..', '..', 'cdk', 'workflows');
  return readdirSync(folder)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(resolve(folder, file), 'utf8')) as WorkflowTemplateInput);
}

/**
 * Registers each bundled template that is not registered yet (a restart keeps later versions),
 * all at once: each is a workflow of its own.
 */
export async function seedWorkflows(orchestrator: Orchestrator): Promise<string[]> {
  const known = new Set((await orchestrator.workflows.list()).map((w) => w.workflowId));
  const missing = bundledWorkflowTemplates().filter((t) => !known.has(t.workflow_id));
  await Promise.all(missing.map((template) => orchestrator.workflows.register(template)));
  return missing.map((template) => `workflow ${template.workflow_id}`);
}
