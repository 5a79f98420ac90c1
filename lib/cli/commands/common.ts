import { readFileSync, writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { z } from 'zod';
import { idempotencyKeySchema } from '../../core/idempotency.ts';
import { ApiClient, ApiError, type CredentialProvider, type RequestOptions } from '../client.ts';
import { colorEnabled, createStyle, type OutputStream, type Style } from '../format.ts';

/** What the CLI talks to: streams, environment and network, all replaceable for tests. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  /** Replaces the AWS credential chain for signed requests. */
  credentials?: CredentialProvider | undefined;
  /** Waits between polls of `task submit --wait`; tests make it instant. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Reads `--file` / `--data` files; defaults to the file system. */
  readFile?: ((path: string) => string) | undefined;
  /** Writes `--output` files; defaults to the file system. */
  writeFile?: ((path: string, text: string) => void) | undefined;
}

/** Process exit codes; each means one thing a script can act on (see {@link EXIT_CODE_MEANINGS}). */
export const EXIT_CODES = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  invalid: 5,
  unreachable: 6,
  taskFailed: 7,
  /** A workflow run ended CANCELLED: someone stopped it; nothing broke. */
  cancelled: 8,
} as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** What each exit code means, as `vobee --help` lists it. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: 'ok',
  1: 'unexpected error (API fault, refused credentials)',
  2: 'usage error: fix the flag, argument or file named in the message',
  3: 'not found (404)',
  4: 'conflict with the current state (409), e.g. a module still required by others',
  5: 'rejected by the API as invalid (400/422)',
  6: 'cannot reach the endpoint',
  7: 'the task or workflow run finished FAILED (task submit --wait, workflows run, executions watch)',
  8: 'the workflow run was CANCELLED',
};

/**
 * The command line is wrong in a way the user can fix before anything is sent: a bad flag value,
 * a file that does not parse, a field the API would refuse. Exit code 2.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The state one run of `main()` shares with the command actions. */
export interface CliState {
  io: CliIO;
  exitCode: ExitCode;
}

/** What an action gets: the API client, output helpers and the run's state. */
export interface ActionContext {
  client: ApiClient;
  json: boolean;
  style: Style;
  io: CliIO;
  /** Said with a usage error: where the full usage of this command is. */
  hint: string;
  /** Prints the raw JSON body with `--json`, else the human rendering. */
  result(body: unknown, human: () => string): void;
  /** Sends a request and prints its answer as {@link result} does; returns the answer's body. */
  show<T>(method: string, path: string, human: (body: T) => string, options?: RequestOptions): Promise<T>;
  print(text: string): void;
  setExitCode(code: ExitCode): void;
}

/** How a command's errors are explained: flags for API field names, a hint for 404. */
export interface ActionOptions {
  /** API field name -> the flag that sets it, so API-side issues name what to change. */
  flags?: Record<string, string>;
  /** Said after a 404, e.g. how to list the things that do exist. */
  notFoundHint?: string;
  /** Said after a 409, e.g. what to change first. */
  conflictHint?: string;
}

const GLOBAL_NAMES = ['endpoint', 'region', 'json'] as const;

/**
 * The global options again, hidden, on a leaf command, so they also work after it
 * (`vobee services list --json`). Program options stop at the first command name because
 * `services register` has its own `--endpoint`; that command passes `endpoint: false`.
 */
export function addGlobalOptions(command: Command, { endpoint = true } = {}): Command {
  if (endpoint) command.addOption(new Option('--endpoint <url>').hideHelp());
  command.addOption(new Option('--region <region>').hideHelp());
  command.addOption(new Option('--json').hideHelp());
  return command;
}

/** A command's names below the program, e.g. `services list`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The positional argument that names what a command acts on (a service, a task id), checked with
 * the API's own path schema before anything is sent.
 */
export interface Subject {
  /** As commander declares it, e.g. `<name>`. */
  argument: string;
  description: string;
  /** Throws a {@link UsageError} naming the argument when the value is not one the API accepts. */
  check(value: string, hint: string): void;
  /** Said after a 404: how to find the ones that exist. */
  notFoundHint?: string;
}

/**
 * A {@link Subject} checked with `schema` as the path parameter `key`; messages name it as the
 * argument does, upper-cased (`<name>` is `NAME`).
 */
export function subject(
  argument: string,
  description: string,
  schema: z.ZodType,
  key: string,
  notFoundHint?: string,
): Subject {
  const label = argument.replace(/[<>[\]]/g, '').toUpperCase();
  return {
    argument,
    description,
    check: (value, hint) => void validate(schema, { [key]: value }, () => label, hint),
    ...(notFoundHint === undefined ? {} : { notFoundHint }),
  };
}

/** A command the user runs: its name and help, its arguments and options, and what it does. */
export interface CommandSpec<A extends unknown[]> {
  name: string;
  description: string;
  /** The first argument, checked before `run`; its not-found hint is the command's default. */
  subject?: Subject;
  /** Adds the (further) arguments, options and help text. */
  setup?: (command: Command) => Command;
  run: (ctx: ActionContext, ...args: A) => Promise<void>;
  errors?: ActionOptions;
  /** False for a command with an `--endpoint` of its own (see {@link addGlobalOptions}). */
  endpoint?: boolean;
}

/** Adds a command to `parent`, with the global options and its action wrapped by {@link action}. */
export function addCommand<A extends unknown[]>(
  parent: Command,
  state: CliState,
  spec: CommandSpec<A>,
): Command {
  const { subject: about, run } = spec;
  const command = parent.command(spec.name).description(spec.description);
  if (about) command.argument(about.argument, about.description);
  addGlobalOptions(spec.setup?.(command) ?? command, { endpoint: spec.endpoint ?? true });
  const checked = about
    ? async (ctx: ActionContext, ...args: A) => {
        about.check(args[0] as string, ctx.hint);
        await run(ctx, ...args);
      }
    : run;
  return command.action(action(state, checked, { notFoundHint: about?.notFoundHint, ...spec.errors }));
}

/**
 * Adds a command that reads one thing and shows it: `GET path`, printed as JSON with `--json`,
 * else as `show` renders it.
 */
export function addReadCommand<T>(
  parent: Command,
  state: CliState,
  spec: { name: string; description: string; path: string; show: (body: T, style: Style) => string },
): Command {
  return addCommand(parent, state, {
    name: spec.name,
    description: spec.description,
    run: async (ctx) => {
      await ctx.show<T>('GET', spec.path, (body) => spec.show(body, ctx.style));
    },
  });
}

/** Global option values: those given after the command win over those given before it. */
function globals(command: Command): { endpoint?: string; region?: string; json?: boolean } {
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) {
    const own = c.opts();
    for (const name of GLOBAL_NAMES) {
      // The program's options are visible and the leaves' copies hidden; a visible option of the
      // same name on a leaf is that command's own (`services register --endpoint`), not a global.
      const declared = c.options.some((o) => o.attributeName() === name && o.hidden === (c !== chain[0]));
      if (declared && own[name] !== undefined) merged[name] = own[name];
    }
  }
  return merged;
}

/**
 * Wraps a command action: builds the client from the global options, gives the action its
 * output helpers, and turns API errors into messages that name flags rather than body fields.
 * Commander passes the arguments, then the options, then the command itself.
 */
export function action<A extends unknown[]>(
  state: CliState,
  handler: (ctx: ActionContext, ...args: A) => Promise<void>,
  options: ActionOptions = {},
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const opts = globals(command);
    const { io } = state;
    const client = new ApiClient({
      endpoint: opts.endpoint,
      region: opts.region,
      env: io.env,
      fetch: io.fetch,
      credentials: io.credentials,
    });
    const style = createStyle(colorEnabled(io.stdout, io.env));
    const json = opts.json === true;
    const print = (text: string) => {
      io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    };
    const result = (body: unknown, human: () => string) => {
      print(json ? JSON.stringify(body, null, 2) : human());
    };
    const ctx: ActionContext = {
      client,
      json,
      style,
      io,
      hint: usageHint(commandPath(command)),
      print,
      result,
      async show<T>(method: string, path: string, human: (body: T) => string, init?: RequestOptions) {
        const { body } = await client.request<T>(method, path, init);
        result(body, () => human(body));
        return body;
      },
      setExitCode(code) {
        state.exitCode = code;
      },
    };
    try {
      await handler(ctx, ...(args.slice(0, -1) as A));
    } catch (error) {
      if (error instanceof ApiError) throw explainApiError(error, options);
      throw error;
    }
  };
}

/** An ApiError whose message names flags instead of body fields, with a hint for 404. */
export class ExplainedApiError extends ApiError {
  constructor(
    error: ApiError,
    message: string,
    readonly hint?: string,
  ) {
    super(error.status, error.type, message, error.issues, error.requestId);
  }
}

function explainApiError(error: ApiError, options: ActionOptions): ExplainedApiError {
  const flags = options.flags ?? {};
  const message =
    error.issues.length > 0
      ? error.issues
          .map((issue) => {
            const field = issue.field.replace(/^(body|query|path)\./, '');
            const head = field.split('.')[0] ?? '';
            const flag = flags[head];
            const label = flag ? `${flag}${field.slice(head.length)}` : field;
            return label ? `${label}: ${issue.message}` : issue.message;
          })
          .join('; ')
      : error.message;
  const hint =
    error.status === 404 ? options.notFoundHint : error.status === 409 ? options.conflictHint : undefined;
  return new ExplainedApiError(error, message, hint);
}

/**
 * Validates input with one of the API's own schemas before anything is sent, and explains every
 * problem in terms of the flag (or file) it came from.
 * @param label names the source of a field: a flag such as `--priority`, or `task.json: id`.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  label: (field: string) => string,
  hint?: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => {
    const [head, ...rest] = issue.path.map(String);
    // List items are counted from 1, as a person would: `--keyword #2`.
    const where =
      head === undefined
        ? label('')
        : [label(head), ...rest.map((p) => (/^\d+$/.test(p) ? `#${Number(p) + 1}` : p))].join(' ');
    return `${where}: ${issueMessage(issue, input)}`;
  });
  throw new UsageError(messages.join('; '), hint);
}

/** A schema issue's message, or `is required` where the input has no value at all. */
export function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
  return missing ? 'is required' : issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A label function from a field -> flag map; unmapped fields are named as they are. */
export function flagLabel(flags: Record<string, string>, fallback = (field: string) => field) {
  return (field: string) => flags[field] ?? fallback(field);
}

/**
 * Parses `key=value` pairs into an object. With `json`, `key:=value` takes the value as JSON
 * (`count:=3`, `tags:='["a"]'`), so strings never turn into numbers by accident.
 */
export function parsePairs(flag: string, pairs: readonly string[], { json = false } = {}) {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const typed = json ? /^([^=:]+):=(.*)$/s.exec(pair) : null;
    const plain = /^([^=]+)=(.*)$/s.exec(pair);
    if (typed) {
      const [, key = '', raw = ''] = typed;
      try {
        out[key.trim()] = JSON.parse(raw);
      } catch {
        throw new UsageError(`${flag} ${pair}: the value after := must be JSON, e.g. ${key}:=3`);
      }
    } else if (plain && (plain[1] ?? '').trim() !== '') {
      out[(plain[1] ?? '').trim()] = plain[2];
    } else {
      throw new UsageError(
        `${flag} ${pair}: expected key=value${json ? ' (or key:=json)' : ''}`,
        `e.g. ${flag} ${json ? 'language=fr' : 'latency_ms=420'}`,
      );
    }
  }
  return out;
}

/** `key=number` pairs, for metrics. */
export function parseNumberPairs(flag: string, pairs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsePairs(flag, pairs))) {
    const n = Number(value);
    if (String(value).trim() === '' || !Number.isFinite(n)) {
      throw new UsageError(
        `${flag} ${key}=${String(value)}: the value must be a number`,
        `e.g. ${flag} ${key}=420`,
      );
    }
    out[key] = n;
  }
  return out;
}

/** A number flag, checked here so the message names the flag rather than a body field. */
export function parseNumber(flag: string, raw: string | undefined, { integer = false } = {}) {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: expected ${integer ? 'a whole number' : 'a number'}, got '${raw}'`);
  }
  return n;
}

/** Reads and parses a JSON object file named by a flag; every failure says which flag and why. */
export function readJsonObject(
  io: Pick<CliIO, 'readFile'>,
  flag: string,
  path: string,
): Record<string, unknown> {
  let text: string;
  try {
    text = io.readFile ? io.readFile(path) : readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`${flag} ${path}: cannot read the file (${why})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${flag} ${path}: expected a JSON object ({...})`);
  }
  return value as Record<string, unknown>;
}

/** Writes a text file named by a flag; a failure says which flag and why. */
export function writeTextFile(io: Pick<CliIO, 'writeFile'>, flag: string, path: string, text: string): void {
  try {
    if (io.writeFile) io.writeFile(path, text);
    else writeFileSync(path, text, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'EACCES'
          ? 'permission denied'
          : (error as Error).message;
    throw new UsageError(`${flag} ${path}: cannot write the file (${why})`);
  }
}

/** Repeatable and variadic flag values, flattened; commas also separate them when `commas` is set. */
export function list(values: readonly string[] | undefined, { commas = false } = {}): string[] | undefined {
  if (values === undefined) return undefined;
  return commas ? values.flatMap((v) => v.split(',')).filter((v) => v !== '') : [...values];
}

/** Hint shown with usage errors: where the full usage of this command is. */
export function usageHint(path: string): string {
  return `Run 'vobee ${path} --help' for usage.`;
}

/** The header that makes a submission repeat-safe, when the user gave a key. */
export function idempotencyHeaders(key: string | undefined): Record<string, string> | undefined {
  return key === undefined ? undefined : { 'idempotency-key': key };
}

/** The `--idempotency-key` flag, checked with the API's own rules (`lib/core/idempotency.ts`). */
export function checkIdempotencyKey(key: string | undefined, hint: string): string | undefined {
  if (key === undefined) return undefined;
  const checked = idempotencyKeySchema.safeParse(key);
  if (!checked.success) {
    throw new UsageError(`--idempotency-key: ${checked.error.issues[0]?.message ?? 'not a valid key'}`, hint);
  }
  return key;
}

/**
 * What a submission that is not waited for prints: whether it is new (202) or the answer to an
 * earlier request with the same key (`[new, again]`), its status, then how to follow it.
 */
export function submittedText(
  response: { status: number; body: { status: string } },
  subject: string,
  [fresh, again]: readonly [string, string],
  follow: string,
): string {
  const said = response.status === 202 ? fresh : again;
  return `${subject} ${said}: ${response.body.status}\nFollow it with: ${follow}`;
}

/** The injected sleep (tests), else a real one. */
export function sleeper(io: { sleep?: (ms: number) => Promise<void> }): (ms: number) => Promise<void> {
  return io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
}
