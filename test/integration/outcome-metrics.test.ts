/**
 * The task worker and the workflow step handler publish factory calls per service, and the step
 * handler failed runs per workflow: the real handlers, on a local stack, with their EMF lines read
 * from stdout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FACTORY_SERVICE_DIMENSION,
  OUTCOME_METRICS,
  WORKFLOW_DIMENSION,
} from '../../lib/handler/outcome-metrics.ts';
import { captureEmf, type EmfLine } from '../helpers/emf.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { backends, createServingStack, waitForTask } from '../helpers/stack.ts';

const backend = backends()[0] as ReturnType<typeof backends>[number];
const closers: Array<() => Promise<unknown>> = [];
let lines: EmfLine[];

beforeEach(() => {
  lines = captureEmf();
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const close of closers.splice(0).reverse()) await close();
});

/** Per factory service: its calls and its failure values, summed over the lines. */
function callsByService(): Record<string, { calls: number; failures: number[] }> {
  const byService: Record<string, { calls: number; failures: number[] }> = {};
  for (const line of lines.filter((l) => OUTCOME_METRICS.factoryCalls in l)) {
    const service = line[FACTORY_SERVICE_DIMENSION] as string;
    const entry = byService[service] ?? { calls: 0, failures: [] };
    byService[service] = entry;
    entry.calls += line[OUTCOME_METRICS.factoryCalls] as number;
    entry.failures.push(...[line[OUTCOME_METRICS.factoryCallFailures] as number | number[]].flat());
  }
  return byService;
}

async function factory(...args: Parameters<typeof startFactory>) {
  const server = await startFactory(...args);
  closers.push(server.close);
  return server;
}

describe('outcome metrics of the handlers', () => {
  it('the task worker publishes each service its calls and failures, the failed primary and the fallback apart', async () => {
    const stack = await createServingStack(backend, { router: { retryPolicy: { maxRetries: 0 } } });
    closers.push(() => stack.queue.stop());
    const primary = await factory(() => ({ status: 503, body: { error: 'overloaded' } }));
    const fallback = await factory(() => ({ status: 200, body: { status: 'ok', output: 'sent' } }));
    const { services, tasks } = stack.orchestrator;
    await services.register({
      name: 'email-ai',
      endpoint: primary.endpoint,
      capabilities: ['email_campaign'],
    });
    await services.register({
      name: 'marketing-ai',
      endpoint: fallback.endpoint,
      capabilities: ['email_campaign', 'blog_post'],
    });
    await tasks.submit({ id: 'metered', type: 'email_campaign', strategy: 'capability' });
    expect((await waitForTask(stack.orchestrator, 'metered')).status).toBe('SUCCEEDED');

    expect(callsByService()).toEqual({
      'email-ai': { calls: 1, failures: [1] },
      'marketing-ai': { calls: 1, failures: [0] },
    });
    for (const line of lines.filter((l) => OUTCOME_METRICS.factoryCalls in l)) {
      expect(line).toMatchObject({ service: 'vobee' });
    }
  });

  it('the step handler publishes the calls of the steps per service, and the failed run of its workflow', async () => {
    const studio = await factory((call) =>
      call.action === 'publish'
        ? { status: 500, body: { error: 'publisher down' } }
        : { status: 200, body: { status: 'ok', output: { action: call.action } } },
    );
    const stack = await createServingStack(backend);
    closers.push(() => stack.queue.stop());
    const { workflows, services } = stack.orchestrator;
    await services.register({
      name: 'studio',
      endpoint: studio.endpoint,
      factoryType: 'studio',
      capabilities: ['prepare', 'publish'],
    });
    await workflows.register({
      workflow_id: 'publishing',
      name: 'Publishing',
      max_retries: 0,
      steps: [
        { step_id: 'prepare', name: 'prepare', factory_type: 'studio', action: 'prepare' },
        {
          step_id: 'publish',
          name: 'publish',
          factory_type: 'studio',
          action: 'publish',
          dependencies: ['prepare'],
        },
      ],
    });
    const started = await workflows.start('publishing', {});
    await stack.engine.settle(20_000);
    expect((await workflows.describe(started.execution.executionId)).status).toBe('FAILED');

    expect(callsByService()).toEqual({ studio: { calls: 2, failures: [0, 1] } });
    const failedRuns = lines.filter((l) => OUTCOME_METRICS.workflowRunsFailed in l);
    expect(failedRuns).toEqual([
      expect.objectContaining({
        [WORKFLOW_DIMENSION]: 'publishing',
        [OUTCOME_METRICS.workflowRunsFailed]: 1,
      }),
    ]);
  });
});
