import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../core/errors.ts';
import type { ListWindow } from '../core/list-window.ts';
import type { RunChangeRecord } from '../core/workflow/run-change.ts';
import type { ParkedGate, RunControl, StepEnd } from '../core/workflow/run-control.ts';
import type { WorkflowTemplate } from '../core/workflow/template.ts';
import type { WorkflowRepository } from '../core/workflow/workflow-ports.ts';
import type {
  ExecutionControl,
  ListedRun,
  RunEnd,
  StepItemRecord,
  StepRecord,
  StepRunStatus,
  StepStart,
  WorkflowExecutionRecord,
  WorkflowHead,
  WorkflowVersion,
} from '../core/workflow/workflow-records.ts';
import { assignments, IF_PRESENT, type Item, ifVersion, oneOf, stripKeys, Table } from './dynamo.ts';
import {
  LAST_STEP,
  memoryKeys,
  RUN_CONTROL,
  RUN_START,
  registryKeys,
  STEP_PREFIX,
  VERSION_PREFIX,
} from './keys.ts';
import { listingKeys, listNewest } from './listing.ts';

/**
 * Workflows and their runs.
 * Registry table: `WORKFLOWS` / `<id>` (the head: current version, alias) and
 * `WORKFLOW#<id>` / `V#<0000000001>` (each published version with its template).
 * Memory table, one partition per run `WFEXEC#<name>`:
 * - `EXECUTION`: the run as started (workflow, version, input), written once;
 * - `CONTROL`: small and written by every step start and end: the control pause, resume and
 *   cancel set (absent: running) with the time spent paused (`pauseStarts`/`pauseEnds`: sums of
 *   epoch seconds, so each is one atomic ADD), and per step `s:<id>` (last start), `n:<id>`
 *   (runs), `t:<id>` (the hash of the callback token it waits with), `e:<id>` (how it ended for
 *   good) and `g:<id>` (its parked gate: see `run-control.ts`). It is created by the first write
 *   to it;
 * - `STEP#<id>`: each step's status, service, calls, timings, output or error.
 * - `STEPITEM#<id>#<index>`: each item of a fan-out step (`for_each`): its status, service,
 *   calls, timings, output or error; `(collect)` reads them back in order with one query.
 * A run reads back in one query.
 */
export class WorkflowStore implements WorkflowRepository {
  readonly #registry: Table;
  readonly #memory: Table;

  constructor(doc: DynamoDBDocumentClient, options: { registryTable: string; memoryTable: string }) {
    this.#registry = new Table(doc, options.registryTable);
    this.#memory = new Table(doc, options.memoryTable);
  }

  async getHead(workflowId: string): Promise<WorkflowHead | undefined> {
    const item = await this.#registry.get(registryKeys.workflow(workflowId), { consistent: true });
    return item ? stripKeys<WorkflowHead>(item) : undefined;
  }

  async listHeads(): Promise<WorkflowHead[]> {
    return (await this.#registry.queryPartition(registryKeys.workflows)).map((i) =>
      stripKeys<WorkflowHead>(i),
    );
  }

  /** Writes the head if its stored `rev` is `expectedRev` (undefined: only if there is none). */
  async putHead(head: WorkflowHead, expectedRev: number | undefined): Promise<void> {
    await this.#registry.putOrConflict(
      { ...registryKeys.workflow(head.workflowId), ...head },
      ifVersion(expectedRev, 'rev'),
      `workflow '${head.workflowId}' was changed at the same time; try again`,
    );
  }

  async putVersion(version: WorkflowVersion): Promise<void> {
    await this.#registry.put({
      ...registryKeys.workflowVersion(version.workflowId, version.version),
      ...version,
    });
  }

  async getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    const item = await this.#registry.get(registryKeys.workflowVersion(workflowId, version));
    return item ? stripKeys<WorkflowVersion>(item) : undefined;
  }

  async listVersions(workflowId: string): Promise<WorkflowVersion[]> {
    const items = await this.#registry.queryPartition(registryKeys.workflowVersions(workflowId), {
      prefix: VERSION_PREFIX,
    });
    return items.map((i) => stripKeys<WorkflowVersion>(i));
  }

  /** Records a run once; returns the existing record when the name is taken. */
  putExecutionIfAbsent(record: WorkflowExecutionRecord): Promise<WorkflowExecutionRecord | undefined> {
    const { control: _control, ...started } = record;
    return this.#memory.createOrRead(
      {
        ...memoryKeys.runStart(record.executionName),
        ...started,
        ...listingKeys('RUN', record.createdAt, record.executionName),
      },
      () => this.getExecution(record.executionName),
    );
  }

  /** A page of runs, newest first, that `accept` takes (see `listing.ts`). */
  async listExecutions(
    window: ListWindow,
    accept: (run: ListedRun) => boolean,
  ): Promise<{ runs: ListedRun[]; next?: string | undefined }> {
    const page = await listNewest(this.#memory, 'RUN', window, (item) => accept(listedRun(item)));
    return { runs: page.items.map(listedRun), next: page.next };
  }

  async getExecution(executionName: string): Promise<WorkflowExecutionRecord | undefined> {
    const items = await this.#runItems(executionName, RUN_START);
    const execution = items.find((i) => i.sk === RUN_START);
    if (!execution) return undefined;
    const control =
      (items.find((i) => i.sk === RUN_CONTROL)?.control as ExecutionControl | undefined) ?? 'running';
    return { ...stripKeys<Omit<WorkflowExecutionRecord, 'control'>>(execution), control };
  }

  async setExecutionArn(executionName: string, executionArn: string, now: Date): Promise<void> {
    const updated = await this.#memory.updateIf(memoryKeys.runStart(executionName), {
      UpdateExpression: 'SET executionArn = :arn, updatedAt = :now',
      ...IF_PRESENT,
      ExpressionAttributeValues: { ':arn': executionArn, ':now': now.toISOString() },
    });
    if (!updated) throw new NotFoundError('execution', executionName);
  }

  async deleteExecution(executionName: string): Promise<void> {
    await this.#memory.delete(memoryKeys.runStart(executionName));
  }

  /**
   * Moves the control of a run from one of `from` to `to` and returns the control item after;
   * undefined when it was not in `from` (pausing a cancelled run, resuming a running one). No
   * control stored means running. Pausing and resuming add up the time spent paused.
   */
  async setControl(
    executionName: string,
    from: ExecutionControl[],
    to: ExecutionControl,
    now: Date,
  ): Promise<RunControl | undefined> {
    const condition = oneOf('control', from, 'running');
    const epoch = now.getTime() / 1000;
    const timing =
      to === 'paused'
        ? { set: ', pausedAt = :epoch', rest: ' ADD pauseStarts :epoch', values: { ':epoch': epoch } }
        : from.includes('paused') && to === 'running'
          ? { set: '', rest: ' ADD pauseEnds :epoch REMOVE pausedAt', values: { ':epoch': epoch } }
          : { set: '', rest: '', values: {} };
    const after = await this.#memory.update(memoryKeys.runControl(executionName), {
      UpdateExpression: `SET #c = :to, updatedAt = :now${timing.set}${timing.rest}`,
      ConditionExpression: condition.ConditionExpression,
      ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, '#c': 'control' },
      ExpressionAttributeValues: {
        ...condition.ExpressionAttributeValues,
        ':to': to,
        ':now': now.toISOString(),
        ...timing.values,
      },
    });
    if (!after) return undefined;
    // The start item carries the control too, for lists (the `byTime` index holds start items):
    // a copy, written after the control item that decides.
    await this.#memory.update(memoryKeys.runStart(executionName), {
      UpdateExpression: 'SET #c = :to',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#c': 'control' },
      ExpressionAttributeValues: { ':to': to },
    });
    return runControl(after);
  }

  async readControl(executionName: string): Promise<RunControl> {
    const item = await this.#memory.get(memoryKeys.runControl(executionName), { consistent: true });
    return runControl(item ?? {});
  }

  async parkGate(executionName: string, stepId: string, gate: ParkedGate): Promise<RunControl> {
    const after = await this.#memory.update(memoryKeys.runControl(executionName), {
      UpdateExpression: 'SET #g = :gate',
      ExpressionAttributeNames: { '#g': `g:${stepId}` },
      ExpressionAttributeValues: { ':gate': gate },
    });
    return runControl(after ?? {});
  }

  async endStep(
    executionName: string,
    stepId: string,
    status: StepEnd,
    options: { onlyFirst?: boolean } = {},
  ): Promise<RunControl> {
    const after = await this.#memory.update(memoryKeys.runControl(executionName), {
      UpdateExpression: 'SET #e = :status REMOVE #g',
      ...(options.onlyFirst ? { ConditionExpression: 'attribute_not_exists(#e)' } : {}),
      ExpressionAttributeNames: { '#e': `e:${stepId}`, '#g': `g:${stepId}` },
      ExpressionAttributeValues: { ':status': status },
    });
    // Refused: the step had ended already (its attempt was timed out and recorded FAILED).
    return after ? runControl(after) : this.readControl(executionName);
  }

  async startStep(
    executionName: string,
    stepId: string,
    fields: { startedAt: string; tokenHash?: string | undefined },
  ): Promise<StepStart> {
    // A refused start is read again: the step ended in an earlier execution of the run, or the
    // run is paused or cancelled. A run resumed between the two is started again.
    for (let tries = 0; tries < START_TRIES; tries++) {
      const updated = await this.#memory.update(memoryKeys.runControl(executionName), {
        UpdateExpression: `SET #s = :at${fields.tokenHash ? ', #t = :hash' : ''} ADD #n :one REMOVE #g`,
        ConditionExpression: '(attribute_not_exists(#c) OR #c = :running) AND attribute_not_exists(#e)',
        ExpressionAttributeNames: {
          '#c': 'control',
          '#s': `s:${stepId}`,
          '#n': `n:${stepId}`,
          '#e': `e:${stepId}`,
          '#g': `g:${stepId}`,
          ...(fields.tokenHash ? { '#t': `t:${stepId}` } : {}),
        },
        ExpressionAttributeValues: {
          ':at': fields.startedAt,
          ':one': 1,
          ':running': 'running',
          ...(fields.tokenHash ? { ':hash': fields.tokenHash } : {}),
        },
      });
      if (updated)
        return { started: true, attempts: Number(updated[`n:${stepId}`] ?? 1), run: runControl(updated) };
      const run = await this.readControl(executionName);
      const ended = run.ended[stepId];
      if (ended) return { started: false, ended };
      if (run.control === 'paused') {
        await this.updateStep(executionName, stepId, { status: 'WAITING', at: fields.startedAt });
        return { started: false, control: 'paused' };
      }
      if (run.control === 'cancelled') return { started: false, control: 'cancelled' };
    }
    throw new Error(
      `step '${stepId}' of '${executionName}' could not start: the run kept being paused and resumed`,
    );
  }

  /**
   * Commits `amount` of a budgeted run's money to a step about to call, if what is committed is
   * still at most `ceiling` (what leaves room for this step and the cheapest way through the
   * rest): parallel steps cannot both take the last of the budget. False when it is not.
   */
  async commitBudget(executionName: string, amount: number, ceiling: number): Promise<boolean> {
    return this.#memory.updateIf(memoryKeys.runControl(executionName), {
      UpdateExpression: 'SET #c = if_not_exists(#c, :zero) + :amount',
      ConditionExpression: 'attribute_not_exists(#c) OR #c <= :ceiling',
      ExpressionAttributeNames: { '#c': 'committedUsd' },
      ExpressionAttributeValues: { ':zero': 0, ':amount': amount, ':ceiling': ceiling },
    });
  }

  /** Replaces a step's committed estimate by what it cost: adds `delta` (may be negative). */
  async settleBudget(executionName: string, delta: number): Promise<void> {
    await this.#memory.updateIf(memoryKeys.runControl(executionName), {
      UpdateExpression: 'SET #c = if_not_exists(#c, :zero) + :delta',
      ExpressionAttributeNames: { '#c': 'committedUsd' },
      ExpressionAttributeValues: { ':zero': 0, ':delta': delta },
    });
  }

  async stepOutputs(executionName: string, stepIds: readonly string[]): Promise<Record<string, unknown>> {
    const items = await this.#memory.getMany(
      stepIds.map((id) => memoryKeys.runStep(executionName, id)),
      { consistent: true },
    );
    return Object.fromEntries(items.map((item) => [item.stepId as string, item.output ?? null]));
  }

  async putStepItem(executionName: string, stepId: string, record: StepItemRecord): Promise<void> {
    await this.#memory.put({ ...memoryKeys.runStepItem(executionName, stepId, record.index), ...record });
  }

  async stepItems(executionName: string, stepId: string, count: number): Promise<StepItemRecord[]> {
    if (count === 0) return [];
    const items = await this.#memory.query({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
      ExpressionAttributeValues: {
        ':pk': memoryKeys.run(executionName),
        ':first': memoryKeys.runStepItem(executionName, stepId, 0).sk,
        ':last': memoryKeys.runStepItem(executionName, stepId, count - 1).sk,
      },
      // What the step's output is made of; the calls stay in the items' records.
      ProjectionExpression: '#i, #s, #v, #o, #e, #c',
      ExpressionAttributeNames: {
        '#i': 'index',
        '#s': 'status',
        '#v': 'service',
        '#o': 'output',
        '#e': 'error',
        '#c': 'costUsd',
      },
      ConsistentRead: true,
    });
    return items.map((item) => item as unknown as StepItemRecord);
  }

  async listSteps(executionName: string): Promise<StepRecord[]> {
    const items = await this.#runItems(executionName, LAST_STEP);
    const control = items.find((i) => i.sk === RUN_CONTROL) ?? {};
    const written = new Map(
      items
        .filter((i) => (i.sk as string).startsWith(STEP_PREFIX))
        .map((i) => [
          (i.sk as string).slice(STEP_PREFIX.length),
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
    const defined = Object.fromEntries(
      Object.entries({ stepId, ...fields, writtenAt: at }).filter(([, v]) => v !== undefined),
    );
    const { set, names, values } = assignments(defined);
    // A step that started has no status of its own until it writes one: it is running.
    const condition = onlyIf && oneOf('status', onlyIf, 'RUNNING');
    const after = await this.#memory.update(memoryKeys.runStep(executionName, stepId), {
      UpdateExpression: `SET ${set.join(', ')}`,
      ConditionExpression: condition?.ConditionExpression,
      ExpressionAttributeNames: { ...names, ...condition?.ExpressionAttributeNames },
      ExpressionAttributeValues: { ...values, ...condition?.ExpressionAttributeValues },
    });
    if (!after) return undefined;
    const { writtenAt: _at, ...step } = stripKeys<Omit<StepRecord, 'attempts'> & { writtenAt?: string }>(
      after,
    );
    // Runs are counted on the run's control item; a single step read back has them as 0.
    return { ...step, attempts: 0 };
  }

  /**
   * The first end a run reports is kept: two failing branches may both report one. With
   * `executionArn`, only while that execution is the run's current one (an execution stopped to
   * make way for another does not end the run).
   */
  async recordRunEnd(
    executionName: string,
    end: RunEnd,
    options: { executionArn?: string } = {},
  ): Promise<void> {
    await this.#memory.updateIf(memoryKeys.runStart(executionName), {
      UpdateExpression: 'SET ended = :end, updatedAt = :at',
      // Before the start has recorded its execution, that execution is the current one.
      ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(ended)${options.executionArn ? ' AND (attribute_not_exists(executionArn) OR executionArn = :arn)' : ''}`,
      ExpressionAttributeValues: {
        ':end': end,
        ':at': end.at,
        ...(options.executionArn ? { ':arn': options.executionArn } : {}),
      },
    });
  }

  async consumeStepToken(
    executionName: string,
    stepId: string,
    tokenHash: string,
  ): Promise<{ engineToken?: string } | undefined> {
    const before = await this.#memory.update(
      memoryKeys.runControl(executionName),
      {
        UpdateExpression: 'REMOVE #t, #k',
        ConditionExpression: '#t = :hash',
        ExpressionAttributeNames: { '#t': `t:${stepId}`, '#k': `k:${stepId}` },
        ExpressionAttributeValues: { ':hash': tokenHash },
      },
      'ALL_OLD',
    );
    if (!before) return undefined;
    const carried = before[`k:${stepId}`];
    return typeof carried === 'string' ? { engineToken: carried } : {};
  }

  async prepareRerun(
    executionName: string,
    steps: {
      all: readonly string[];
      reopen: readonly string[];
      carry: readonly string[];
      succeeded: readonly string[];
    },
  ): Promise<void> {
    // The hashes of the carried callbacks' tokens are on the control item: read only when needed.
    const run =
      steps.carry.length > 0
        ? await this.#memory.get(memoryKeys.runControl(executionName), { consistent: true })
        : undefined;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const remove: string[] = [];
    const set: string[] = [];
    steps.all.forEach((id, i) => {
      names[`#g${i}`] = `g:${id}`;
      remove.push(`#g${i}`);
    });
    steps.reopen.forEach((id, i) => {
      names[`#e${i}`] = `e:${id}`;
      names[`#t${i}`] = `t:${id}`;
      remove.push(`#e${i}`, `#t${i}`);
    });
    // Steps that succeeded are marked so, to be skipped (a success no gate waited for was not).
    steps.succeeded.forEach((id, i) => {
      names[`#s${i}`] = `e:${id}`;
      values[':succeeded'] = 'SUCCEEDED';
      set.push(`#s${i} = :succeeded`);
    });
    steps.carry.forEach((id, i) => {
      const hash = run?.[`t:${id}`];
      if (typeof hash !== 'string') return;
      names[`#r${i}`] = `r:${id}`;
      values[`:r${i}`] = hash;
      set.push(`#r${i} = :r${i}`);
    });
    if (remove.length === 0 && set.length === 0) return;
    await this.#memory.update(memoryKeys.runControl(executionName), {
      UpdateExpression: [
        set.length ? `SET ${set.join(', ')}` : '',
        remove.length ? `REMOVE ${remove.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' '),
      ExpressionAttributeNames: names,
      ...(set.length ? { ExpressionAttributeValues: values } : {}),
    });
  }

  async rebindCallback(
    executionName: string,
    stepId: string,
    callback: { tokenHash: string; engineToken: string },
  ): Promise<void> {
    await this.#memory.update(memoryKeys.runControl(executionName), {
      UpdateExpression: 'SET #t = :hash, #k = :token REMOVE #r',
      ExpressionAttributeNames: { '#t': `t:${stepId}`, '#k': `k:${stepId}`, '#r': `r:${stepId}` },
      ExpressionAttributeValues: { ':hash': callback.tokenHash, ':token': callback.engineToken },
    });
  }

  async recordChange(
    executionName: string,
    change: { template: WorkflowTemplate; entry: RunChangeRecord },
  ): Promise<void> {
    const updated = await this.#memory.updateIf(memoryKeys.runStart(executionName), {
      UpdateExpression:
        'SET runTemplate = :template, changes = list_append(if_not_exists(changes, :none), :entry), updatedAt = :at',
      ...IF_PRESENT,
      ExpressionAttributeValues: {
        ':template': change.template,
        ':none': [],
        ':entry': [change.entry],
        ':at': change.entry.at,
      },
    });
    if (!updated) throw new NotFoundError('execution', executionName);
  }

  async restartExecution(executionName: string, executionArn: string, now: Date): Promise<void> {
    const updated = await this.#memory.updateIf(memoryKeys.runStart(executionName), {
      UpdateExpression: 'SET executionArn = :arn, updatedAt = :now ADD executions :one REMOVE ended',
      ...IF_PRESENT,
      ExpressionAttributeValues: { ':arn': executionArn, ':now': now.toISOString(), ':one': 1 },
    });
    if (!updated) throw new NotFoundError('execution', executionName);
  }

  /**
   * Runs that have not ended (running or paused when the local runtime stopped). A scan: only the
   * local runtime asks, once when it starts.
   */
  async listUnfinishedRuns(): Promise<string[]> {
    const names: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#memory.doc.send(
        new ScanCommand({
          TableName: this.#memory.name,
          FilterExpression: 'sk = :start AND attribute_not_exists(ended) AND attribute_exists(executionArn)',
          ExpressionAttributeValues: { ':start': RUN_START },
          ProjectionExpression: 'executionName',
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) names.push(String(item.executionName));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return names;
  }

  /** A run's items from its control item up to `last` (`EXECUTION`, or its last step), in one query. */
  #runItems(executionName: string, last: string): Promise<Item[]> {
    return this.#memory.query({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :control AND :last',
      ExpressionAttributeValues: {
        ':pk': memoryKeys.run(executionName),
        ':control': RUN_CONTROL,
        ':last': last,
      },
      ConsistentRead: true,
    });
  }
}

/** A run as the `byTime` index holds it. */
function listedRun(item: Item): ListedRun {
  const [, executionName] = (item.gsi2sk as string).split('#');
  return {
    executionName: executionName as string,
    workflowId: item.workflowId as string,
    version: item.version as number,
    control: (item.control as ExecutionControl | undefined) ?? 'running',
    started: item.executionArn !== undefined,
    ended: item.ended as RunEnd | undefined,
    createdAt: item.createdAt as string,
  };
}

/** Starts of a step refused by a pause that was lifted before they read why (see `startStep`). */
const START_TRIES = 5;

/** The control item as the step handler reads it (see `RunControl`). */
function runControl(item: Item): RunControl {
  const ended: Record<string, StepEnd> = {};
  const gates: Record<string, ParkedGate> = {};
  const carried: Record<string, string> = {};
  const started: string[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith('s:')) started.push(name.slice(2));
    else if (name.startsWith('e:')) ended[name.slice(2)] = value as StepEnd;
    else if (name.startsWith('g:')) gates[name.slice(2)] = value as ParkedGate;
    else if (name.startsWith('r:')) carried[name.slice(2)] = String(value);
  }
  const starts = Number(item.pauseStarts ?? 0);
  const ends = Number(item.pauseEnds ?? 0);
  const control = (item.control as ExecutionControl | undefined) ?? 'running';
  // While paused, the last start has no end yet: it is the current pause.
  const pausedAt = item.pausedAt === undefined ? undefined : Number(item.pausedAt);
  return {
    control,
    ended,
    gates,
    carried,
    pausedSeconds: ends - (starts - (pausedAt ?? 0)),
    pausedAt: pausedAt === undefined ? undefined : new Date(pausedAt * 1000).toISOString(),
    started,
    committedUsd: Number(item.committedUsd ?? 0),
  };
}
