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
  RunEnd,
  StepRecord,
  StepRunStatus,
  StepStart,
  WorkflowExecutionRecord,
  WorkflowHead,
  WorkflowVersion,
} from '../core/workflow/workflow-records.ts';
import {
  attempt,
  conditionally,
  createOrRead,
  type Item,
  isConditionFailure,
  queryAll,
  stripKeys,
} from './dynamo.ts';

/**
 * Workflows and their runs.
 * Registry table: `WORKFLOWS` / `<id>` (the head: current version, alias) and
 * `WORKFLOW#<id>` / `V#<0000000001>` (each published version with its template).
 * Memory table, one partition per run `WFEXEC#<name>`:
 * - `EXECUTION`: the run as started (workflow, version, input), written once;
 * - `CONTROL`: small and written by every step start: the control pause, resume and cancel set
 *   (absent: running), and per started step `s:<id>` (last start), `n:<id>` (runs) and `t:<id>`
 *   (the hash of the callback token it waits with). It is created by the first write to it;
 * - `STEP#<id>`: each step's status, service, calls, timings, output or error.
 * A run reads back in one query.
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
    const { control: _control, ...started } = record;
    return createOrRead(
      this.#doc,
      this.#memory,
      { ...runKey(record.executionName, 'EXECUTION'), ...started },
      () => this.getExecution(record.executionName),
    );
  }

  async getExecution(executionName: string): Promise<WorkflowExecutionRecord | undefined> {
    const items = await queryAll(this.#doc, {
      TableName: this.#memory,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :control AND :execution',
      ExpressionAttributeValues: {
        ':pk': runPartition(executionName),
        ':control': 'CONTROL',
        ':execution': 'EXECUTION',
      },
      ConsistentRead: true,
    });
    const execution = items.find((i) => i.sk === 'EXECUTION');
    if (!execution) return undefined;
    const control =
      (items.find((i) => i.sk === 'CONTROL')?.control as ExecutionControl | undefined) ?? 'running';
    return { ...stripKeys<Omit<WorkflowExecutionRecord, 'control'>>(execution), control };
  }

  async setExecutionArn(executionName: string, executionArn: string, now: Date): Promise<void> {
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#memory,
        Key: runKey(executionName, 'EXECUTION'),
        UpdateExpression: 'SET executionArn = :arn, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':arn': executionArn, ':now': now.toISOString() },
      }),
    );
  }

  async deleteExecution(executionName: string): Promise<void> {
    await this.#doc.send(
      new DeleteCommand({ TableName: this.#memory, Key: runKey(executionName, 'EXECUTION') }),
    );
  }

  /**
   * Moves the control of a run from one of `from` to `to`; false when it was not in `from`
   * (pausing a cancelled run, resuming a running one). No control stored means running.
   */
  setControl(
    executionName: string,
    from: ExecutionControl[],
    to: ExecutionControl,
    now: Date,
  ): Promise<boolean> {
    const allowed = from.map((_, i) => `:f${i}`).join(', ');
    return attempt(() =>
      this.#doc.send(
        new UpdateCommand({
          TableName: this.#memory,
          Key: runKey(executionName, 'CONTROL'),
          UpdateExpression: 'SET #c = :to, updatedAt = :now',
          ConditionExpression: from.includes('running')
            ? `attribute_not_exists(#c) OR #c IN (${allowed})`
            : `#c IN (${allowed})`,
          ExpressionAttributeNames: { '#c': 'control' },
          ExpressionAttributeValues: {
            ':to': to,
            ':now': now.toISOString(),
            ...Object.fromEntries(from.map((f, i) => [`:f${i}`, f])),
          },
        }),
      ),
    );
  }

  async startStep(
    executionName: string,
    stepId: string,
    fields: { startedAt: string; tokenHash?: string | undefined },
  ): Promise<StepStart> {
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#memory,
          Key: runKey(executionName, 'CONTROL'),
          UpdateExpression: `SET #s = :at${fields.tokenHash ? ', #t = :hash' : ''} ADD #n :one`,
          ConditionExpression: 'attribute_not_exists(#c) OR #c = :running',
          ExpressionAttributeNames: {
            '#c': 'control',
            '#s': `s:${stepId}`,
            '#n': `n:${stepId}`,
            ...(fields.tokenHash ? { '#t': `t:${stepId}` } : {}),
          },
          ExpressionAttributeValues: {
            ':at': fields.startedAt,
            ':one': 1,
            ':running': 'running',
            ...(fields.tokenHash ? { ':hash': fields.tokenHash } : {}),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { started: true, attempts: Number(Attributes?.[`n:${stepId}`] ?? 1) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // Refused: the run is paused or cancelled (a rare path, worth one more read).
    const { control } = (await this.getExecution(executionName)) ?? { control: 'cancelled' as const };
    if (control === 'paused')
      await this.updateStep(executionName, stepId, { status: 'WAITING', at: fields.startedAt });
    return { started: false, control: control === 'paused' ? 'paused' : 'cancelled' };
  }

  async listSteps(executionName: string): Promise<StepRecord[]> {
    const items = await queryAll(this.#doc, {
      TableName: this.#memory,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :control AND :steps',
      ExpressionAttributeValues: {
        ':pk': runPartition(executionName),
        ':control': 'CONTROL',
        ':steps': 'STEP#~',
      },
      ConsistentRead: true,
    });
    const control = items.find((i) => i.sk === 'CONTROL') ?? {};
    const written = new Map(
      items
        .filter((i) => (i.sk as string).startsWith('STEP#'))
        .map((i) => [
          (i.sk as string).slice('STEP#'.length),
          stripKeys<Omit<StepRecord, 'attempts'> & { writtenAt?: string }>(i),
        ]),
    );
    const started = Object.keys(control)
      .filter((name) => name.startsWith('s:'))
      .map((name) => name.slice(2));
    const ids = [...new Set([...written.keys(), ...started])];
    return ids.map((stepId) => {
      const { writtenAt, ...step } = written.get(stepId) ?? { writtenAt: undefined };
      const startedAt = control[`s:${stepId}`] as string | undefined;
      // Started after its last write (a retry of the step, or resumed after waiting): it runs.
      const running = startedAt !== undefined && (writtenAt === undefined || startedAt > writtenAt);
      return {
        ...step,
        stepId,
        status: running ? 'RUNNING' : (step as StepRecord).status,
        startedAt: startedAt ?? (step as StepRecord).startedAt,
        attempts: Number(control[`n:${stepId}`] ?? 0),
      } as StepRecord;
    });
  }

  async updateStep(
    executionName: string,
    stepId: string,
    patch: { status: StepRunStatus; at: string; onlyIf?: StepRunStatus[] } & Partial<
      Omit<StepRecord, 'stepId' | 'status' | 'attempts'>
    >,
  ): Promise<StepRecord | undefined> {
    const { onlyIf, at, ...fields } = patch;
    const names: Record<string, string> = {};
    const values: Item = {};
    const sets = Object.entries({ stepId, ...fields, writtenAt: at })
      .filter(([, v]) => v !== undefined)
      .map(([field, value], i) => {
        names[`#f${i}`] = field;
        values[`:v${i}`] = value;
        return `#f${i} = :v${i}`;
      });
    let condition: string | undefined;
    if (onlyIf) {
      names['#st'] = 'status';
      onlyIf.forEach((status, i) => {
        values[`:o${i}`] = status;
      });
      const allowed = `#st IN (${onlyIf.map((_, i) => `:o${i}`).join(', ')})`;
      // A step that started has no status of its own until it writes one: it is running.
      condition = onlyIf.includes('RUNNING') ? `attribute_not_exists(#st) OR ${allowed}` : allowed;
    }
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#memory,
          Key: runKey(executionName, `STEP#${stepId}`),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const { writtenAt: _at, ...step } = stripKeys<Omit<StepRecord, 'attempts'> & { writtenAt?: string }>(
        Attributes as Item,
      );
      // Runs are counted on the run's control item; a single step read back has them as 0.
      return { ...step, attempts: 0 };
    } catch (error) {
      if (onlyIf && isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** The first end a run reports is kept: two failing branches may both report one. */
  async recordRunEnd(executionName: string, end: RunEnd): Promise<void> {
    await attempt(() =>
      this.#doc.send(
        new UpdateCommand({
          TableName: this.#memory,
          Key: runKey(executionName, 'EXECUTION'),
          UpdateExpression: 'SET ended = :end, updatedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(ended)',
          ExpressionAttributeValues: { ':end': end, ':at': end.at },
        }),
      ),
    );
  }

  consumeStepToken(executionName: string, stepId: string, tokenHash: string): Promise<boolean> {
    return attempt(() =>
      this.#doc.send(
        new UpdateCommand({
          TableName: this.#memory,
          Key: runKey(executionName, 'CONTROL'),
          UpdateExpression: 'REMOVE #t',
          ConditionExpression: '#t = :hash',
          ExpressionAttributeNames: { '#t': `t:${stepId}` },
          ExpressionAttributeValues: { ':hash': tokenHash },
        }),
      ),
    );
  }
}

function versionKey(version: number): string {
  return `V#${String(version).padStart(10, '0')}`;
}

function runPartition(executionName: string): string {
  return `WFEXEC#${executionName}`;
}

function runKey(executionName: string, sk: string): { pk: string; sk: string } {
  return { pk: runPartition(executionName), sk };
}
