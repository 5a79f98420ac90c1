import { type Command, Option } from 'commander';
import { STRATEGY_NAMES } from '../../core/routing/router.ts';
import type { TaskSummary } from '../../core/task-queries.ts';
import { taskStatus } from '../../core/task-record.ts';
import { paths, queries, schemas } from '../../handler/api-schemas.ts';
import { type Answer, api } from '../api-calls.ts';
import type { ApiClient } from '../client.ts';
import { type Column, type Field, formatFields, formatTable, type Style, type Tone } from '../format.ts';
import {
  type ActionContext,
  addCommand,
  type CliIO,
  type CliState,
  checkIdempotencyKey,
  EXIT_CODES,
  idempotencyHeaders,
  parsePairs,
  readJsonObject,
  sleeper,
  subject,
  submittedText,
  usageHint,
  validate,
} from './common.ts';
import { type ListWindowFlags, listQuery, type PageSpec, showPage, withListWindow } from './list-pages.ts';

/** A task record as the API answers it (`GET /tasks/{taskId}`). */
type TaskRecord = Answer<'getTask'>;

/** Task fields and the `task submit` flags that set them. */
const SUBMIT_FLAGS: Record<string, string> = {
  type: '--type',
  action: '--action',
  priority: '--priority',
  parameters: '--param',
  keywords: '--keyword',
  strategy: '--strategy',
  contextId: '--context',
};

/** First and longest pause between polls of `--wait`: quick for fast tasks, gentle for slow ones. */
const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2_000;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED']);

/** The flags of `task submit` as commander parses them. */
export interface SubmitFlags {
  type?: string;
  action?: string;
  priority?: string;
  param?: string[];
  keyword?: string[];
  strategy?: string;
  context?: string;
  idempotencyKey?: string;
  file?: string;
}

/**
 * The body and idempotency key of `POST /tasks` from the flags and `--file`, validated with the
 * API's schema. Flags override fields of the file; `--param` adds to its `parameters`.
 */
export function buildSubmitRequest(
  flags: SubmitFlags,
  io: Pick<CliIO, 'readFile'>,
): { body: Record<string, unknown>; idempotencyKey: string | undefined } {
  const hint = usageHint('task submit');
  const file = flags.file === undefined ? {} : readJsonObject(io, '--file', flags.file);
  const fromFlags: Record<string, unknown> = {
    type: flags.type,
    action: flags.action,
    priority: flags.priority,
    keywords: flags.keyword,
    strategy: flags.strategy,
    contextId: flags.context,
  };
  const body: Record<string, unknown> = { ...file };
  for (const [field, value] of Object.entries(fromFlags)) if (value !== undefined) body[field] = value;
  if (flags.param !== undefined) {
    const fileParams = file.parameters;
    body.parameters = {
      ...(typeof fileParams === 'object' && fileParams !== null ? fileParams : {}),
      ...parsePairs('--param', flags.param, { json: true }),
    };
  }
  const setByFlag = new Set(Object.keys(fromFlags).filter((f) => fromFlags[f] !== undefined));
  if (flags.param !== undefined) setByFlag.add('parameters');
  const label = (field: string) => {
    if (field === '') return flags.file === undefined ? 'task' : `--file ${flags.file}`;
    if (setByFlag.has(field) || !(field in file))
      return SUBMIT_FLAGS[field] ?? `--file ${flags.file}: ${field}`;
    return `--file ${flags.file}: ${field}`;
  };
  validate(schemas.submitTask, body, label, hint);

  return { body, idempotencyKey: checkIdempotencyKey(flags.idempotencyKey, hint) };
}

/** Registers `task submit`, `task get` and `tasks list` (`task` and `tasks` are one command). */
export function registerTaskCommands(program: Command, state: CliState): void {
  const task = program.command('task').alias('tasks').description('submit tasks, find them and follow them');
  const notFoundHint = 'Check the task id: it is printed by `vobee task submit`.';

  addCommand(task, state, {
    name: 'submit',
    description: 'submit a task (POST /tasks)',
    setup: (c) =>
      c
        .option('--type <type>', 'task type, e.g. email_campaign (required unless in --file)')
        .option('--action <action>', 'action within the type')
        .addOption(
          new Option('--priority <priority>', 'task priority').choices(['critical', 'high', 'normal', 'low']),
        )
        .option('--param <key=value...>', 'task parameter; key:=json for a JSON value (repeatable)')
        .option('--keyword <word...>', 'keyword for content routing (repeatable)')
        .addOption(new Option('--strategy <strategy>', 'routing strategy').choices(STRATEGY_NAMES))
        .option('--context <id>', 'id of a context created with `vobee contexts create`')
        .option('--idempotency-key <key>', 'repeat-safe key: the same key returns the same task')
        .option(
          '--file <task.json>',
          'task as JSON; flags override its fields, --param adds to its parameters',
        )
        .option('--wait', 'wait until the task SUCCEEDED or FAILED (exit code 7 when it failed)'),
    run: async (ctx, flags: SubmitFlags & { wait?: boolean }) => {
      const { body, idempotencyKey } = buildSubmitRequest(flags, ctx.io);
      const response = await ctx.client.call(api.submitTask(body, idempotencyHeaders(idempotencyKey)));
      const submitted = response.body;
      if (!flags.wait) {
        ctx.result(submitted, () =>
          submittedText(
            response,
            `Task ${submitted.taskId}`,
            ['accepted', 'was already submitted with this key'],
            `vobee task get ${submitted.taskId}`,
          ),
        );
        return;
      }
      const final = await waitForTask(ctx, submitted);
      ctx.result(final, () => formatTask(final, ctx.style));
      if (final.status === 'FAILED') {
        ctx.io.stderr.write(
          `Task ${final.taskId} FAILED${final.error ? `: ${describeError(final.error)}` : ''}\n`,
        );
        ctx.setExitCode(EXIT_CODES.taskFailed);
      }
    },
    errors: { flags: SUBMIT_FLAGS, notFoundHint },
  });

  addCommand(task, state, {
    name: 'list',
    description: 'tasks newest first, by status, type and time (GET /tasks)',
    setup: (c) =>
      withListWindow(
        c
          .addOption(
            new Option('--status <status>', 'only tasks in this status').choices([...taskStatus.options]),
          )
          .option('--type <type>', 'only tasks of this type'),
      ),
    run: async (ctx, flags: ListWindowFlags & { status?: string; type?: string }) => {
      await showPage(ctx, TASK_PAGE, listQuery({ status: flags.status, type: flags.type }, flags));
    },
  });

  addCommand(task, state, {
    name: 'get',
    description: 'show a task, its route, attempts and outcome',
    subject: subject('<id>', 'task id', paths.taskId, 'taskId', notFoundHint),
    run: async (ctx, id: string) => {
      const { body } = await ctx.client.call(api.getTask(id));
      ctx.result(body, () => formatTask(body, ctx.style));
    },
  });
}

/**
 * Polls the task until it finishes. On a terminal the current status is kept on one line of
 * stderr, rewritten in place, so stdout carries only the result.
 */
async function waitForTask(ctx: ActionContext, submitted: TaskRecord): Promise<TaskRecord> {
  const sleep = sleeper(ctx.io);
  const progress = ctx.io.stderr.isTTY === true;
  const started = Date.now();
  let current = submitted;
  let delay = POLL_FIRST_MS;
  const show = () => {
    if (!progress) return;
    const seconds = Math.round((Date.now() - started) / 1000);
    ctx.io.stderr.write(`\r\u001b[2KTask ${current.taskId}: ${current.status} (${seconds} s)`);
  };
  try {
    while (!TERMINAL.has(current.status)) {
      show();
      await sleep(delay);
      delay = Math.min(delay * 2, POLL_MAX_MS);
      current = await getTask(ctx.client, current.taskId);
    }
  } finally {
    if (progress) ctx.io.stderr.write('\r\u001b[2K');
  }
  return current;
}

async function getTask(client: ApiClient, id: string): Promise<TaskRecord> {
  return (await client.call(api.getTask(id))).body;
}

const STATUS_TONE: Record<string, Tone> = { SUCCEEDED: 'good', FAILED: 'bad', RUNNING: 'warn' };

const TASK_COLUMNS: Column<TaskSummary>[] = [
  { header: 'TASK', value: (t) => t.taskId },
  { header: 'TYPE', value: (t) => t.type },
  { header: 'STATUS', value: (t) => t.status, tone: (t) => STATUS_TONE[t.status] },
  { header: 'SERVICE', value: (t) => t.service },
  { header: 'CREATED', value: (t) => t.createdAt },
  { header: 'ERROR', value: (t) => t.error?.message.slice(0, 80) },
];
const TASK_PAGE: PageSpec<'tasks', TaskSummary> = {
  path: '/tasks',
  key: 'tasks',
  schema: queries.listTasks,
  columns: TASK_COLUMNS,
  command: 'vobee tasks list',
  empty: 'No tasks in that window.',
};

/** A task record as label/value lines, then its attempts and output. */
export function formatTask(record: TaskRecord, style: Style): string {
  const route = record.route;
  const fields: Field[] = [
    ['Task', record.taskId],
    ['Type', record.task.action ? `${record.task.type} / ${record.task.action}` : record.task.type],
    ['Status', record.status, STATUS_TONE[record.status]],
    ['Priority', record.task.priority],
    ['Strategy', record.strategy ?? route?.strategy],
    ['Service', route?.primary],
    ['Fallbacks', route && route.fallbacks.length > 0 ? route.fallbacks.join(', ') : undefined],
    ['Context', record.task.contextId],
    ['Error', record.error ? describeError(record.error) : undefined, 'bad'],
    ['Created', record.createdAt],
    ['Updated', record.updatedAt],
  ];
  // Service stays even before routing, as a dash: where the task went is the first question.
  const sections = [
    formatFields(
      fields.filter(([label, value]) => value !== undefined || label === 'Service'),
      style,
    ),
  ];
  if (record.attempts.length > 0) {
    sections.push(
      formatTable(
        record.attempts,
        [
          { header: 'SERVICE', value: (a) => a.service },
          { header: 'ATTEMPT', value: (a) => a.attempt, align: 'right' },
          {
            header: 'OUTCOME',
            value: (a) => a.outcome,
            tone: (a) => (a.outcome === 'succeeded' ? 'good' : 'bad'),
          },
          { header: 'LATENCY', value: (a) => `${Math.round(a.latencyMs)} ms`, align: 'right' },
          { header: 'ERROR', value: (a) => (a.error ? describeError(a.error) : undefined) },
        ],
        style,
      ),
    );
  }
  if (record.output !== undefined) {
    sections.push(`${style.paint('Output', 'muted')}\n${JSON.stringify(record.output, null, 2)}`);
  }
  return sections.join('\n\n');
}

function describeError(error: { kind: string; message: string }): string {
  return `${error.kind}: ${error.message}`;
}
