import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';

type LocalHandlers = NonNullable<
  NonNullable<Parameters<StateMachine['run']>[1]>['overrides']
>['taskResourceLocalHandlers'];
type JSONValue = Parameters<NonNullable<LocalHandlers>[string]>[0];

import { NotFoundError } from '../core/errors.ts';
import type { StateMachineType } from '../core/workflow/compile.ts';
import { LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT_FOR_TOKEN } from '../core/workflow/step-kinds.ts';
import type {
  DeployedVersion,
  DeployOptions,
  ExecutionDescription,
  WorkflowEngine,
} from '../core/workflow/workflow-ports.ts';
import { executionName, typeChangeConflict } from './engine.ts';

/** A Lambda handler as the local engine calls it: the Payload in, the function's result out. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

interface StateDefinition {
  Type: string;
  HeartbeatSeconds?: number;
  Resource?: string;
  Parameters?: { FunctionName?: string };
  Branches?: Array<{ States: Record<string, StateDefinition> }>;
  ItemProcessor?: { States: Record<string, StateDefinition>; ProcessorConfig?: { Mode?: string } };
  Iterator?: { States: Record<string, StateDefinition> };
  ItemReader?: { Resource: string; Parameters?: object; ReaderConfig?: { InputType?: string } };
  Next?: string;
  End?: boolean;
  Catch?: unknown[];
  [field: string]: unknown;
}
interface Definition {
  States: Record<string, StateDefinition>;
}

interface Execution {
  description: ExecutionDescription;
  input: string;
  abort: () => void;
  done: Promise<void>;
}

const LOCAL_PREFIX = 'arn:aws:states:local:000000000000:stateMachine:';

/** An execution that has ended, as {@link LocalEngine}'s `onEnd` hears of it. */
export interface EndedExecution {
  description: ExecutionDescription;
  input: unknown;
}

/** A step waiting for its callback: settled by sendTaskSuccess/Failure, or failed by its heartbeat. */
interface PendingToken {
  resolve(output: JSONValue): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Runs Amazon States Language definitions in-process with `aws-local-stepfunctions`. Every
 * `lambda:invoke` Task state is mapped, by its `FunctionName`, to a local function: the same
 * handler code that runs in Lambda. Results are wrapped as the service integration wraps them
 * (`{ Payload }`), so definitions are identical locally and on AWS.
 *
 * The interpreter has no Distributed Map: one is run as an inline Map (same items, item states
 * and `MaxConcurrency`) whose items a Task reads first, through `readObject`, from where its
 * `ItemReader` points (a JSON list in the local S3); its `ResultWriter` is left out (see
 * {@link withInlineMaps}).
 */
export class LocalEngine implements WorkflowEngine {
  readonly #machines = new Map<string, { definition: Definition; machine: StateMachine }>();
  readonly #executions = new Map<string, Execution>();
  readonly #versions = new Map<string, object[]>();
  /** The type each deployed state machine was created with (both run alike here). */
  readonly #types = new Map<string, StateMachineType>();
  readonly #tokens = new Map<string, PendingToken>();
  readonly #functions: (functionName: string) => LocalFunction | undefined;
  readonly #skipWaits: boolean;
  readonly #retryIntervalMs: number | undefined;
  readonly #onEnd: ((ended: EndedExecution) => Promise<void>) | undefined;
  readonly #readObject: ((bucket: string, key: string) => Promise<string>) | undefined;

  /**
   * @param functions resolves a `FunctionName` (name or ARN) to its local handler.
   * @param options.skipWaits Wait states last 0 ms (tests: retry back-off without real waiting).
   * @param options.retryIntervalMs every `Retry` waits this long instead of its own interval.
   * @param options.onEnd told of each execution that ends, with its input: the engine forgets
   *   everything when the process stops, so the runtime keeps the ends where they last.
   * @param options.readObject reads an object of the local S3 as text: what a Distributed Map's
   *   `ItemReader` reads (without it, such a Map fails when it runs).
   */
  constructor(
    functions: (functionName: string) => LocalFunction | undefined,
    options: {
      skipWaits?: boolean;
      retryIntervalMs?: number;
      onEnd?: (ended: EndedExecution) => Promise<void>;
      readObject?: (bucket: string, key: string) => Promise<string>;
    } = {},
  ) {
    this.#onEnd = options.onEnd;
    this.#readObject = options.readObject;
    this.#functions = functions;
    this.#skipWaits = options.skipWaits ?? false;
    this.#retryIntervalMs = options.retryIntervalMs;
  }

  /** Registers (or replaces) a state machine under `arn`. */
  register(arn: string, definition: object): void {
    const local = withInlineMaps(definition as Definition);
    const machine = new StateMachine(withinTimerRange(withoutTaskTokenPaths(local)) as never, {
      validationOptions: { checkArn: false },
    });
    this.#machines.set(arn, { definition: local, machine });
  }

  /** The type the state machine (unqualified ARN) was deployed with, if it was deployed. */
  typeOf(stateMachineArn: string): StateMachineType | undefined {
    return this.#types.get(stateMachineArn);
  }

  /** The local ARN of the state machine `name`. */
  arnOf(name: string): string {
    return `${LOCAL_PREFIX}${name}`;
  }

  async deploy(
    name: string,
    definition: object,
    _description?: string,
    options: DeployOptions = {},
  ): Promise<DeployedVersion> {
    const stateMachineArn = this.arnOf(name);
    // As on Step Functions, a state machine keeps its type; locally both types can be described.
    const type = options.type ?? 'STANDARD';
    const existingType = this.#types.get(stateMachineArn);
    if (existingType !== undefined && existingType !== type) {
      throw typeChangeConflict(name, existingType, type);
    }
    this.#types.set(stateMachineArn, type);
    const versions = this.#versions.get(stateMachineArn) ?? [];
    versions.push(definition);
    this.#versions.set(stateMachineArn, versions);
    const versionArn = `${stateMachineArn}:${versions.length}`;
    this.register(versionArn, definition);
    // The unqualified ARN runs the latest version: the same machine, not a second copy.
    this.#machines.set(
      stateMachineArn,
      this.#machines.get(versionArn) as { definition: Definition; machine: StateMachine },
    );
    return { stateMachineArn, versionArn, version: versions.length };
  }

  async setAlias(stateMachineArn: string, alias: string, versionArn: string): Promise<string> {
    const version = this.#machines.get(versionArn);
    if (!version) throw new NotFoundError('state machine version', versionArn);
    const aliasArn = `${stateMachineArn}:${alias}`;
    this.#machines.set(aliasArn, version);
    return aliasArn;
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    this.#settle(taskToken).resolve(JSON.parse(JSON.stringify(output ?? null)));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    this.#settle(taskToken).reject(Object.assign(new Error(cause), { name: error }));
  }

  #settle(taskToken: string): PendingToken {
    const pending = this.#tokens.get(taskToken);
    // As in Step Functions: a token that is unknown, answered or timed out is refused.
    if (!pending)
      throw Object.assign(new NotFoundError('task token', `${taskToken.slice(0, 12)}...`), {
        name: 'TaskTimedOut',
      });
    this.#tokens.delete(taskToken);
    clearTimeout(pending.timer);
    return pending;
  }

  async start(stateMachineArn: string, name: string, input: unknown): Promise<{ executionId: string }> {
    const entry = this.#machines.get(stateMachineArn);
    if (!entry) throw new NotFoundError('state machine', stateMachineArn);
    // As on Step Functions, executions are named after the state machine, not the version or alias.
    const machineName = stateMachineArn.split(':stateMachine:')[1]?.split(':')[0] ?? 'machine';
    const executionId = `arn:aws:states:local:000000000000:execution:${machineName}:${executionName(name)}`;
    const serialized = JSON.stringify(input);
    const existing = this.#executions.get(executionId);
    if (existing) {
      if (existing.input === serialized) return { executionId };
      throw new Error(`ExecutionAlreadyExists: ${executionId}`);
    }
    const startedAt = new Date().toISOString();
    const run = entry.machine.run(JSON.parse(serialized), {
      overrides: {
        taskResourceLocalHandlers: this.#taskHandlers(entry.definition),
        waitTimeOverrides: this.#waitOverrides(entry.definition),
        retryIntervalOverrides: this.#retryOverrides(entry.definition),
      },
      context: {
        Execution: {
          Id: executionId,
          Name: executionName(name),
          StartTime: startedAt,
          Input: JSON.parse(serialized),
        },
      },
    });
    const description: ExecutionDescription = { executionId, status: 'RUNNING', startedAt };
    const done = run.result
      .then(
        (output) => {
          Object.assign(description, { status: 'SUCCEEDED', output, stoppedAt: new Date().toISOString() });
        },
        (error: Error & { cause?: Error }) => {
          const aborted = error instanceof ExecutionAbortedError;
          const cause = error.cause ?? error;
          Object.assign(description, {
            status: aborted ? 'ABORTED' : error.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED',
            error: aborted ? undefined : cause.name,
            cause: aborted ? undefined : cause.message,
            stoppedAt: new Date().toISOString(),
          });
        },
      )
      .then(() => this.#onEnd?.({ description: { ...description }, input: JSON.parse(serialized) }));
    this.#executions.set(executionId, { description, input: serialized, abort: run.abort, done });
    return { executionId };
  }

  async describe(executionId: string): Promise<ExecutionDescription> {
    const execution = this.#executions.get(executionId);
    if (!execution) throw new NotFoundError('execution', executionId);
    return { ...execution.description };
  }

  async stop(executionId: string): Promise<void> {
    const execution = this.#executions.get(executionId);
    if (!execution) throw new NotFoundError('execution', executionId);
    if (execution.description.status === 'RUNNING') execution.abort();
    await execution.done;
  }

  /** Executions still running. */
  running(): string[] {
    return [...this.#executions.values()]
      .filter((e) => e.description.status === 'RUNNING')
      .map((e) => e.description.executionId);
  }

  /** Waits up to `timeoutMs` for running executions to end; returns those still running. */
  async settle(timeoutMs: number): Promise<string[]> {
    const pending = [...this.#executions.values()]
      .filter((e) => e.description.status === 'RUNNING')
      .map((e) => e.done);
    await Promise.race([
      Promise.all(pending),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    return this.running();
  }

  /** Resolves when the execution has ended, with its final description. */
  async waitFor(executionId: string): Promise<ExecutionDescription> {
    const execution = this.#executions.get(executionId);
    if (!execution) throw new NotFoundError('execution', executionId);
    await execution.done;
    return { ...execution.description };
  }

  #taskHandlers(definition: Definition): Record<string, (input: JSONValue) => Promise<JSONValue>> {
    const handlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
    for (const [stateName, state] of allStates(definition)) {
      if (state.Type !== 'Task') continue;
      if (state.Resource === S3_GET_OBJECT) {
        handlers[stateName] = (input) => this.#readItems(input as { Bucket?: string; Key?: string });
        continue;
      }
      if (state.Resource !== LAMBDA_INVOKE && state.Resource !== LAMBDA_INVOKE_WAIT_FOR_TOKEN) {
        throw new Error(`state ${stateName}: only ${LAMBDA_INVOKE} (and .waitForTaskToken) run locally`);
      }
      const functionName = state.Parameters?.FunctionName;
      const fn = functionName === undefined ? undefined : this.#functions(functionName);
      if (!fn) throw new Error(`state ${stateName}: no local function for '${functionName}'`);
      if (state.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN) {
        handlers[stateName] = (input) => this.#waitForToken(fn, input, state.HeartbeatSeconds);
        continue;
      }
      handlers[stateName] = async (input) => {
        const payload = await fn((input as { Payload?: JSONValue }).Payload);
        // Through JSON, as Lambda does: what a handler returns must survive serialisation.
        return {
          StatusCode: 200,
          Payload: payload === undefined ? null : JSON.parse(JSON.stringify(payload)),
        };
      };
    }
    return handlers;
  }

  /**
   * `.waitForTaskToken` done locally: the step gets a fresh token in its payload, and the state
   * completes when someone sends task success or failure for it; no word within the heartbeat
   * fails it with `States.HeartbeatTimeout`, as in Step Functions.
   */
  async #waitForToken(
    fn: LocalFunction,
    input: JSONValue,
    heartbeatSeconds: number | undefined,
  ): Promise<JSONValue> {
    const taskToken = `local-${randomUUID()}`;
    const settled = new Promise<JSONValue>((resolve, reject) => {
      const timer =
        heartbeatSeconds === undefined
          ? undefined
          : setTimeout(() => {
              this.#tokens.delete(taskToken);
              reject(
                Object.assign(new Error(`no callback within ${heartbeatSeconds} s`), {
                  name: 'States.HeartbeatTimeout',
                }),
              );
            }, heartbeatSeconds * 1000);
      timer?.unref();
      this.#tokens.set(taskToken, { resolve, reject, timer });
    });
    try {
      await fn({ ...((input as { Payload?: object }).Payload ?? {}), taskToken });
    } catch (error) {
      this.#settle(taskToken);
      throw error;
    }
    return settled;
  }

  /** The JSON list a Distributed Map's `ItemReader` names, read from the local S3. */
  async #readItems(where: { Bucket?: string; Key?: string }): Promise<JSONValue> {
    if (!this.#readObject)
      throw new Error('a Distributed Map reads its items from S3: this local engine was given no readObject');
    const items = JSON.parse(await this.#readObject(String(where.Bucket), String(where.Key))) as JSONValue;
    if (!Array.isArray(items))
      throw Object.assign(new Error(`s3://${where.Bucket}/${where.Key} holds no JSON list`), {
        name: 'States.ItemReaderFailed',
      });
    return items;
  }

  #retryOverrides(definition: Definition): Record<string, number> | undefined {
    const interval = this.#retryIntervalMs;
    if (interval === undefined) return undefined;
    return Object.fromEntries(
      [...allStates(definition)].filter(([, s]) => s.Type === 'Task').map(([name]) => [name, interval]),
    );
  }

  #waitOverrides(definition: Definition): Record<string, number> | undefined {
    if (!this.#skipWaits) return undefined;
    return Object.fromEntries(
      [...allStates(definition)].filter(([, s]) => s.Type === 'Wait').map(([name]) => [name, 0]),
    );
  }
}

/**
 * The local interpreter has no `$$.Task.Token`; the engine hands out tokens itself, so the path
 * is taken out of the payload of `.waitForTaskToken` states.
 */
function withoutTaskTokenPaths(definition: object): object {
  const copy = structuredClone(definition) as Definition;
  for (const [, state] of allStates(copy)) {
    const payload = (state.Parameters as { Payload?: Record<string, unknown> } | undefined)?.Payload;
    if (state.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN && payload) delete payload['taskToken.$'];
  }
  return copy;
}

const S3_GET_OBJECT = 'arn:aws:states:::s3:getObject';
/** Where a Distributed Map run locally finds the items its reader read. */
const LOCAL_ITEMS_PATH = '$.localItemReader';

/**
 * The definition with each Distributed Map (a Map with an `ItemReader`) made something the
 * interpreter runs: under the Map's name, a Task reads the items (`s3:getObject` with the reader's
 * parameters; see `#readItems`) into the state, and goes to the Map, now inline, renamed
 * `<name> (local)`, iterating those items with its own ItemSelector, item states and
 * MaxConcurrency; then a Pass clears the items and goes where the Map went. The `ResultWriter` is
 * dropped, so a Map whose results were written to S3 has none (its `ResultPath` should be null).
 * Only JSON lists are read (`InputType: 'JSON'`).
 */
export function withInlineMaps(definition: Definition): Definition {
  const copy = structuredClone(definition);
  const rewrite = (states: Record<string, StateDefinition>) => {
    for (const [name, state] of Object.entries(states)) {
      for (const branch of state.Branches ?? []) rewrite(branch.States);
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) rewrite(processor.States);
      if (state.Type !== 'Map' || !state.ItemReader) continue;
      const reader = state.ItemReader;
      if (reader.Resource !== S3_GET_OBJECT || (reader.ReaderConfig?.InputType ?? 'JSON') !== 'JSON')
        throw new Error(`state ${name}: only a JSON list read with ${S3_GET_OBJECT} runs locally`);
      const {
        ItemReader: _reader,
        ResultWriter: _writer,
        Label: _label,
        Next: next,
        End: end,
        ...rest
      } = state;
      const local = `${name} (local)`;
      const clear = `${name} (local end)`;
      states[name] = {
        Type: 'Task',
        Comment: 'reads the items of the Distributed Map below (run locally as an inline Map)',
        Resource: S3_GET_OBJECT,
        Parameters: reader.Parameters,
        ResultPath: LOCAL_ITEMS_PATH,
        ...(state.Catch ? { Catch: state.Catch } : {}),
        Next: local,
      };
      states[local] = {
        ...rest,
        ItemsPath: LOCAL_ITEMS_PATH,
        ItemProcessor: {
          ...(processor as object),
          ProcessorConfig: { Mode: 'INLINE' },
        } as StateDefinition['ItemProcessor'],
        Next: clear,
      };
      states[clear] = {
        Type: 'Pass',
        Result: {},
        ResultPath: LOCAL_ITEMS_PATH,
        ...(end ? { End: true } : { Next: next }),
      };
    }
  };
  rewrite(copy.States);
  return copy;
}

/** The longest delay a Node.js timer takes (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

/**
 * The interpreter times a run with one timer, so a run timeout beyond what a timer takes (a
 * Standard definition's one year) would end the run at once: such a timeout is left out.
 */
function withinTimerRange(definition: object): object {
  const { TimeoutSeconds, ...rest } = definition as { TimeoutSeconds?: number };
  return TimeoutSeconds !== undefined && TimeoutSeconds > MAX_TIMER_SECONDS ? rest : definition;
}

/** Every state of a definition, nested branches included. */
function* allStates(definition: Definition): Generator<[string, StateDefinition]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state];
    for (const branch of state.Branches ?? []) yield* allStates(branch);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) yield* allStates(processor);
  }
}
