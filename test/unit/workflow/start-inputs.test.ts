/**
 * `WorkflowService.start` with declared inputs, on in-memory ports: the input of a run is
 * completed from the declarations of the version it starts (or of the deployed workflow) before
 * anything is written, and a bad one is refused with nothing written.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors.ts';
import { validateTemplate } from '../../../lib/core/workflow/template.ts';
import type { InputDeclarations } from '../../../lib/core/workflow/template-inputs.ts';
import type { WorkflowEngine, WorkflowRepository } from '../../../lib/core/workflow/workflow-ports.ts';
import type { WorkflowExecutionRecord, WorkflowHead } from '../../../lib/core/workflow/workflow-records.ts';
import { type DeployedWorkflow, WorkflowService } from '../../../lib/core/workflow/workflow-service.ts';
import { rejection } from '../../helpers/errors.ts';

const inputs: InputDeclarations = {
  topic: { type: 'string', default: 'edge ai' },
  limit: { type: 'integer', default: 3 },
  sector: { type: 'string' },
};

const template = (declared: InputDeclarations | undefined, version: number) =>
  validateTemplate({
    workflow_id: 'radar',
    name: 'Radar',
    version,
    ...(declared ? { inputs: declared } : {}),
    steps: [{ step_id: 'a', name: 'A', factory_type: 'research', action: 'discover_technology' }],
  });

const head: WorkflowHead = {
  workflowId: 'radar',
  name: 'Radar',
  description: '',
  currentVersion: 2,
  latestVersion: 3,
  stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:vobee-wf-radar',
  aliasArn: 'arn:aws:states:local:000000000000:stateMachine:vobee-wf-radar:live',
  engine: 'standard',
  timeoutSeconds: 3_600,
  updatedAt: '2026-01-15T10:00:00.000Z',
  rev: 3,
};

/** A service on in-memory ports: version 2 declares `inputs`, version 3 declares none. */
function service(options: { registered?: boolean; deployed?: Record<string, DeployedWorkflow> } = {}) {
  const versionsRead: number[] = [];
  const written: WorkflowExecutionRecord[] = [];
  const started: unknown[] = [];
  const workflows = {
    getHead: async () => (options.registered === false ? undefined : head),
    getVersion: async (_id: string, version: number) => {
      versionsRead.push(version);
      return {
        workflowId: 'radar',
        version,
        template: template(version === 2 ? inputs : undefined, version),
        versionArn: `${head.stateMachineArn}:${version}`,
        states: 3,
        strategy: 'series-parallel',
        createdAt: head.updatedAt,
      };
    },
    putExecutionIfAbsent: async (record: WorkflowExecutionRecord) => {
      written.push(record);
      return undefined;
    },
    setExecutionArn: async () => {},
    deleteExecution: async () => {},
  } as unknown as WorkflowRepository;
  const engine = {
    start: async (arn: string, name: string, input: unknown) => {
      started.push(input);
      return { executionId: `${arn}:${name}` };
    },
  } as unknown as WorkflowEngine;
  const workflowService = new WorkflowService({
    workflows,
    engine,
    runStepFunction: 'RunWorkflowStep',
    capabilities: async () => ({}),
    recordCalls: async () => {},
    deployed: options.deployed,
    now: () => new Date('2026-01-15T10:00:00.000Z'),
  });
  return { workflowService, versionsRead, written, started };
}

describe('starting a run with declared inputs', () => {
  it('completes the input with the defaults of the version it starts, before it is stored', async () => {
    const { workflowService, versionsRead, written, started } = service();
    await workflowService.start('radar', { sector: 'energy', note: 'kept' });
    expect(versionsRead).toEqual([2]);
    const completed = { topic: 'edge ai', limit: 3, sector: 'energy', note: 'kept' };
    expect(written.map((r) => r.input)).toEqual([completed]);
    expect(started.map((s) => (s as { input: unknown }).input)).toEqual([completed]);
  });

  it('refuses a missing or mistyped input, naming it, and writes and starts nothing', async () => {
    const { workflowService, written, started } = service();
    const error = await rejection(workflowService.start('radar', { limit: '3' }), ValidationError);
    expect(error.issues).toEqual([
      { field: 'input.limit', message: 'must be an integer, not a string' },
      { field: 'input.sector', message: 'is required: the workflow declares it without a default' },
    ]);
    expect([written, started]).toEqual([[], []]);
  });

  it('takes a version without declarations as it is', async () => {
    const { workflowService, written } = service();
    head.currentVersion = 3;
    try {
      await workflowService.start('radar', { anything: 1 });
    } finally {
      head.currentVersion = 2;
    }
    expect(written.map((r) => r.input)).toEqual([{ anything: 1 }]);
  });

  it('reads the declarations of a workflow deployed with the stack from its deployment, not a stored version', async () => {
    const deployed = {
      radar: { arn: head.stateMachineArn, engine: 'standard' as const, timeoutSeconds: 60, inputs },
    };
    const { workflowService, versionsRead, written } = service({ registered: false, deployed });
    await workflowService.start('radar', { sector: 'retail' });
    expect(versionsRead).toEqual([]);
    expect(written.map((r) => r.input)).toEqual([{ topic: 'edge ai', limit: 3, sector: 'retail' }]);
    const error = await rejection(workflowService.start('radar', {}), ValidationError);
    expect(error.issues.map((i) => i.field)).toEqual(['input.sector']);
    expect(written).toHaveLength(1);
  });
});
