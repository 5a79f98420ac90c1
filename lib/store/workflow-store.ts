import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { WorkflowRepository } from '../core/workflow/workflow-ports.ts';
import type {
  ExecutionControl,
  StepRecord,
  StepRunStatus,
  WorkflowExecutionRecord,
  WorkflowHead,
  WorkflowVersion,
} from '../core/workflow/workflow-records.ts';
import {
  conditionally,
  createOrRead,
  epochSeconds,
  type Item,
  isConditionFailure,
  queryAll,
  stripKeys,
} from './dynamo.ts';

/**
 * Workflows and their runs.
 * Registry table: `WORKFLOWS` / `<id>` (the head: current version, alias) and
 * `WORKFLOW#<id>` / `V#<0000000001>` (each published version with its template).
 * Memory table: `WFEXEC#<name>` / `EXECUTION` (a run and its control: running, paused,
 * cancelled), `WFEXEC#<name>` / `STEP#<id>` (each step's status, attempts, timings, output) and
 * `TOKEN#<sha256>` / `TOKEN` (which step a callback token belongs to).
 */
export class WorkflowStore implements WorkflowRepository {
  readonly #doc: DynamoDBDocumentClient;
  readonly #registry: string;
  readonly #memory: string;

  constructor(doc: DynamoDBDocumentClient, options: { registryTable: string; memoryTable: string }) {
    this.#doc = doc;
    this.#registry = options.registryTable;
    this.#memory = options.memoryTable;
  }

  async getHead(workflowId: string): Promise<WorkflowHead | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#registry,
        Key: { pk: 'WORKFLOWS', sk: workflowId },
        ConsistentRead: true,
      }),
    );
    return Item ? stripKeys<WorkflowHead>(Item) : undefined;
  }

  async listHeads(): Promise<WorkflowHead[]> {
    const items = await queryAll(this.#doc, {
      TableName: this.#registry,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'WORKFLOWS' },
    });
    return items.map((i) => stripKeys<WorkflowHead>(i));
  }

  /** Writes the head if its stored `rev` is `expectedRev` (undefined: only if there is none). */
  async putHead(head: WorkflowHead, expectedRev: number | undefined): Promise<void> {
    await conditionally(
      () =>
        this.#doc.send(
          new PutCommand({
            TableName: this.#registry,
            Item: { pk: 'WORKFLOWS', sk: head.workflowId, ...head },
            ...(expectedRev === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': expectedRev } }),
          }),
        ),
      `workflow '${head.workflowId}' was changed at the same time; try again`,
    );
  }

  async putVersion(version: WorkflowVersion): Promise<void> {
    await this.#doc.send(
      new PutCommand({
        TableName: this.#registry,
        Item: { pk: `WORKFLOW#${version.workflowId}`, sk: versionKey(version.version), ...version },
      }),
    );
  }

  async getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#registry,
        Key: { pk: `WORKFLOW#${workflowId}`, sk: versionKey(version) },
      }),
    );
    return Item ? stripKeys<WorkflowVersion>(Item) : undefined;
  }

  async listVersions(workflowId: string): Promise<WorkflowVersion[]> {
    const items = await queryAll(this.#doc, {
      TableName: this.#registry,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
      ExpressionAttributeValues: { ':pk': `WORKFLOW#${workflowId}`, ':v': 'V#' },
    });
    return items.map((i) => stripKeys<WorkflowVersion>(i));
  }

  /** Records a run once; returns the existing record when the name is taken. */
  putExecutionIfAbsent(record: WorkflowExecutionRecord): Promise<WorkflowExecutionRecord | undefined> {
    return createOrRead(
      this.#doc,
      this.#memory,
      { pk: `WFEXEC#${record.executionName}`, sk: 'EXECUTION', ...record },
      () => this.getExecution(record.executionName),
    );
  }

  async getExecution(executionName: string): Promise<WorkflowExecutionRecord | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#memory,
        Key: { pk: `WFEXEC#${executionName}`, sk: 'EXECUTION' },
        ConsistentRead: true,
      }),
    );
    return Item ? stripKeys<WorkflowExecutionRecord>(Item) : undefined;
  }

  async setExecutionArn(executionName: string, executionArn: string, now: Date): Promise<void> {
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#memory,
        Key: { pk: `WFEXEC#${executionName}`, sk: 'EXECUTION' },
        UpdateExpression: 'SET executionArn = :arn, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':arn': executionArn, ':now': now.toISOString() },
      }),
    );
  }

  async deleteExecution(executionName: string): Promise<void> {
    await this.#doc.send(
      new DeleteCommand({ TableName: this.#memory, Key: { pk: `WFEXEC#${executionName}`, sk: 'EXECUTION' } }),
    );
  }

  /**
   * Moves the control of a run from one of `from` to `to`; false when it was not in `from`
   * (pausing a cancelled run, resuming a running one).
   */
  async setControl(
    executionName: string,
    from: ExecutionControl[],
    to: ExecutionControl,
    now: Date,
  ): Promise<boolean> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#memory,
          Key: { pk: `WFEXEC#${executionName}`, sk: 'EXECUTION' },
          UpdateExpression: 'SET #c = :to, updatedAt = :now',
          ConditionExpression: `attribute_exists(pk) AND #c IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#c': 'control' },
          ExpressionAttributeValues: {
            ':to': to,
            ':now': now.toISOString(),
            ...Object.fromEntries(from.map((f, i) => [`:f${i}`, f])),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listSteps(executionName: string): Promise<StepRecord[]> {
    const items = await queryAll(this.#doc, {
      TableName: this.#memory,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': `WFEXEC#${executionName}`, ':s': 'STEP#' },
      ConsistentRead: true,
    });
    return items.map((i) => stripKeys<StepRecord>(i));
  }

  /** Updates a step's record; `attempt` adds one to its attempts. Returns the attempts so far. */
  async updateStep(
    executionName: string,
    stepId: string,
    patch: { status: StepRunStatus; attempt?: boolean; onlyIf?: StepRunStatus[] } & Partial<
      Omit<StepRecord, 'stepId' | 'status' | 'attempts'>
    >,
  ): Promise<number> {
    const { attempt, onlyIf, ...fields } = patch;
    const names: Record<string, string> = {};
    const values: Item = {};
    const sets = Object.entries({ stepId, ...fields })
      .filter(([, v]) => v !== undefined)
      .map(([field, value], i) => {
        names[`#f${i}`] = field;
        values[`:v${i}`] = value;
        return `#f${i} = :v${i}`;
      });
    values[':n'] = attempt ? 1 : 0;
    if (onlyIf) {
      names['#st'] = 'status';
      onlyIf.forEach((status, i) => {
        values[`:o${i}`] = status;
      });
    }
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#memory,
          Key: { pk: `WFEXEC#${executionName}`, sk: `STEP#${stepId}` },
          UpdateExpression: `SET ${sets.join(', ')} ADD attempts :n`,
          ConditionExpression: onlyIf ? `#st IN (${onlyIf.map((_, i) => `:o${i}`).join(', ')})` : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.attempts ?? 0);
    } catch (error) {
      if (onlyIf && isConditionFailure(error)) return -1;
      throw error;
    }
  }

  /** Remembers which step a callback token belongs to (kept a week). */
  async putToken(taskToken: string, executionName: string, stepId: string, now: Date): Promise<void> {
    await this.#doc.send(
      new PutCommand({
        TableName: this.#memory,
        Item: {
          pk: `TOKEN#${tokenHash(taskToken)}`,
          sk: 'TOKEN',
          executionName,
          stepId,
          expiresAt: epochSeconds(now) + 7 * 86_400,
        },
      }),
    );
  }

  async getToken(taskToken: string): Promise<{ executionName: string; stepId: string } | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({ TableName: this.#memory, Key: { pk: `TOKEN#${tokenHash(taskToken)}`, sk: 'TOKEN' } }),
    );
    return Item ? { executionName: Item.executionName as string, stepId: Item.stepId as string } : undefined;
  }
}

function versionKey(version: number): string {
  return `V#${String(version).padStart(10, '0')}`;
}

/** Tokens are long and secret: they are stored by hash only. */
function tokenHash(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('hex');
}
