import { type Command, Option } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import {
  validateTemplate,
  type WorkflowTemplate,
  workflowTemplateSchema,
} from '../../core/workflow/template.ts';
import type { InputDeclarations } from '../../core/workflow/template-inputs.ts';
import { executionStatus, type WorkflowHead } from '../../core/workflow/workflow-records.ts';
import type {
  ExecutionSummary,
  ExecutionView,
  RegisteredWorkflow,
  WorkflowDetail,
} from '../../core/workflow/workflow-service.ts';
import { paths, queries, schemas } from '../../handler/api-schemas.ts';
import { api } from '../api-calls.ts';
import { type ApiClient, ApiError, apiPath } from '../client.ts';
import {
  type DagStep,
  ENDED,
  EventLog,
  eraseFrame,
  formatDependencies,
  layerSteps,
  redraw,
  renderExecution,
  runError,
} from '../dag-view.ts';
import {
  type Column,
  colorEnabled,
  createStyle,
  type Field,
  formatFields,
  formatTable,
  type Style,
  type Tone,
} from '../format.ts';
import {
  type ActionContext,
  addCommand,
  addReadCommand,
  type CliIO,
  type CliState,
  checkIdempotencyKey,
  EXIT_CODES,
  flagLabel,
  idempotencyHeaders,
  issueMessage,
  parseNumber,
  parsePairs,
  readJsonObject,
  sleeper,
  subject,
  submittedText,
  UsageError,
  usageHint,
  validate,
  writeTextFile,
} from './common.ts';
import { type ListWindowFlags, listQuery, type PageSpec, showPage, withListWindow } from './list-pages.ts';

/** The CLI's io, plus the clock the live view measures elapsed time with; tests fix it. */
export interface WorkflowIO extends CliIO {
  now?: (() => number) | undefined;
}

/** Pause between polls while waiting: also how often the live view's clocks tick. */
export const POLL_MS = 250;

const WORKFLOW_NOT_FOUND = 'See the registered workflows with: vobee workflows list';
const WORKFLOW = subject('<id>', 'workflow id', paths.workflowId, 'workflowId', WORKFLOW_NOT_FOUND);
const EXECUTION = subject(
  '<id>',
  'execution id',
  paths.executionId,
  'executionId',
  'Check the execution id: it is printed by `vobee workflows run`.',
);
const EXIT_HELP = `
Exit codes when waiting: 0 SUCCEEDED, ${EXIT_CODES.taskFailed} FAILED or TIMED_OUT, ${EXIT_CODES.cancelled} CANCELLED.`;

/** What `POST /workflows` answers: the new head with how its template compiled, side by side. */
type Registered = RegisteredWorkflow['workflow'] & Pick<RegisteredWorkflow, 'compiled'>;

/** The template's steps and which version they are from, for drawing a run. */
interface Drawing {
  steps: DagStep[] | undefined;
  version: number | undefined;
}

/**
 * Checks a template before it is sent, with the API's own schema and rules (unique step ids,
 * known dependencies, no cycle, references to dependencies only). Every problem names its field
 * as the API would (`steps.0.action`), after the file it came from.
 */
export function checkTemplate(input: unknown, source: string, hint?: string): WorkflowTemplate {
  const parsed = workflowTemplateSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.');
      return `${field === '' ? '' : `${field}: `}${issueMessage(issue, input)}`;
    });
    throw new UsageError(`${source}: ${problems.join('; ')}`, hint);
  }
  try {
    return validateTemplate(input);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const problems = error.issues.map((issue) => `${issue.field}: ${issue.message}`);
    throw new UsageError(`${source}: ${problems.join('; ')}`, hint);
  }
}

/**
 * A template as a portable file: the template as registered, without the version the server
 * assigned (importing it publishes the workflow's next version), as 2-space JSON with a final newline.
 */
export function portableTemplate(template: WorkflowTemplate): string {
  const { version: _, ...portable } = template;
  return `${JSON.stringify(portable, null, 2)}\n`;
}

/** The flags of `workflows run` as commander parses them. */
export interface RunFlags {
  file?: string;
  input?: string[];
  inputFile?: string;
  idempotencyKey?: string;
  wait?: boolean;
}

/**
 * What `workflows run` was asked: which workflow (an id, or a template file to register first),
 * the run's input and its idempotency key, all checked before anything is sent.
 */
export function buildRunRequest(
  id: string | undefined,
  flags: RunFlags,
  io: Pick<CliIO, 'readFile'>,
): {
  workflowId: string | undefined;
  /** With --file: the template as written (sent as is) and as checked (defaults filled, for drawing). */
  file: { raw: Record<string, unknown>; template: WorkflowTemplate } | undefined;
  input: Record<string, unknown>;
  idempotencyKey: string | undefined;
} {
  const hint = usageHint('workflows run');
  if ((id === undefined) === (flags.file === undefined)) {
    throw new UsageError('give either a workflow ID or --file FILE.json, not both', hint);
  }
  if (id !== undefined) WORKFLOW.check(id, hint);
  const raw = flags.file === undefined ? undefined : readJsonObject(io, '--file', flags.file);
  const file =
    raw === undefined ? undefined : { raw, template: checkTemplate(raw, `--file ${flags.file}`, hint) };
  const input =
    flags.inputFile !== undefined
      ? readJsonObject(io, '--input-file', flags.inputFile)
      : parsePairs('--input', flags.input ?? [], { json: true });
  validate(schemas.startExecution, { input }, flagLabel({ input: '--input' }), hint);
  const idempotencyKey = checkIdempotencyKey(flags.idempotencyKey, hint);
  return { workflowId: id ?? file?.template.workflow_id, file, input, idempotencyKey };
}

/** Registers the `workflows` and `executions` commands. */
export function registerWorkflowCommands(program: Command, state: CliState): void {
  registerWorkflowGroup(program, state);
  registerExecutionGroup(program, state);
}

function registerWorkflowGroup(program: Command, state: CliState): void {
  const workflows = program
    .command('workflows')
    .description('register workflow templates (DAGs of factory steps) and run them');

  addReadCommand<{ workflows: WorkflowHead[] }>(workflows, state, {
    name: 'list',
    description: 'list workflows and their live versions',
    path: '/workflows',
    show: (body, style) =>
      body.workflows.length === 0
        ? 'No workflows registered. Register one with: vobee workflows register FILE.json'
        : formatWorkflows(body.workflows, style),
  });

  addCommand(workflows, state, {
    name: 'show',
    description: 'show a workflow: its steps in layers and its versions',
    subject: WORKFLOW,
    run: async (ctx, id: string) => {
      await ctx.show<WorkflowDetail>('GET', apiPath('workflows', id), (body) =>
        formatWorkflow(body, ctx.style),
      );
    },
  });

  const registerFile = async (ctx: ActionContext, file: string) => {
    const raw = readJsonObject(ctx.io, 'template', file);
    const template = checkTemplate(raw, file, ctx.hint);
    const registered = await register(ctx.client, raw);
    ctx.result(registered, () =>
      [
        describeRegistered(registered, template),
        `Run it with: vobee workflows run ${registered.workflowId}`,
      ].join('\n'),
    );
  };
  addCommand(workflows, state, {
    name: 'register',
    description: 'register a template as the next version of its workflow (POST /workflows)',
    setup: (c) => c.argument('<file>', 'the template as JSON (workflow_id, name, steps, ...)'),
    run: registerFile,
  });

  addCommand(workflows, state, {
    name: 'export',
    description: 'write a workflow template as a portable file, for `vobee workflows import`',
    subject: WORKFLOW,
    setup: (c) =>
      c
        .option('-o, --output <file>', 'write the template to this file instead of stdout')
        .option('--version <n>', 'a published version (default: the current one)'),
    run: async (ctx, id: string, flags: { output?: string; version?: string }) => {
      const version = parseNumber('--version', flags.version, { integer: true });
      if (version !== undefined)
        validate(schemas.rollbackWorkflow, { version }, flagLabel({ version: '--version' }), ctx.hint);
      const { body } = await ctx.client.request<WorkflowDetail>('GET', apiPath('workflows', id), {
        query: { version: version === undefined ? undefined : String(version) },
      });
      if (body.template === undefined) {
        throw new UsageError(
          `workflow ${body.workflowId} is deployed with the stack: no template is stored, its file is cdk/workflows/${body.workflowId}.json`,
        );
      }
      const text = portableTemplate(body.template);
      if (flags.output === undefined) {
        ctx.io.stdout.write(text);
        return;
      }
      writeTextFile(ctx.io, '--output', flags.output, text);
      const exported = { workflowId: body.workflowId, version: body.template.version, file: flags.output };
      ctx.result(
        exported,
        () => `Exported workflow ${exported.workflowId} v${exported.version} to ${exported.file}`,
      );
    },
    errors: {
      flags: { version: '--version' },
      notFoundHint: 'See the workflow and its versions with: vobee workflows show ID',
    },
  });

  addCommand(workflows, state, {
    name: 'import',
    description: 'register a file written by `vobee workflows export` as the next version of its workflow',
    setup: (c) => c.argument('<file>', 'the exported template (JSON)'),
    run: registerFile,
  });

  addCommand(workflows, state, {
    name: 'rollback',
    description: 'make a published version the one new runs use',
    subject: WORKFLOW,
    setup: (c) =>
      c.requiredOption('--version <n>', 'the version to run from now on (see `vobee workflows show ID`)'),
    run: async (ctx, id: string, flags: { version: string }) => {
      const body = { version: parseNumber('--version', flags.version, { integer: true }) };
      validate(schemas.rollbackWorkflow, body, flagLabel({ version: '--version' }), ctx.hint);
      await ctx.show<WorkflowHead>(
        'POST',
        apiPath('workflows', id, 'rollback'),
        (head) =>
          `Workflow ${head.workflowId} now runs v${head.currentVersion} (latest v${head.latestVersion})`,
        { body },
      );
    },
    errors: {
      flags: { version: '--version' },
      notFoundHint: 'See the workflow and its versions with: vobee workflows show ID',
      conflictHint: 'A workflow deployed with the stack is rolled back by deploying the stack.',
    },
  });

  addCommand(workflows, state, {
    name: 'run',
    description: 'start a run and follow it live until it ends',
    setup: (c) =>
      c
        .argument('[id]', 'workflow id (or --file)')
        .option('--file <template.json>', 'register this template first, then run it')
        .addOption(
          new Option(
            '--input <key=value...>',
            'run input; key:=json for a JSON value (repeatable)',
          ).conflicts('inputFile'),
        )
        .option('--input-file <input.json>', 'run input as a JSON object')
        .option('--idempotency-key <key>', 'repeat-safe key: the same key returns the same run')
        .option('--no-wait', 'print the run and return at once')
        .addHelpText('after', EXIT_HELP),
    run: async (ctx, id: string | undefined, flags: RunFlags) => {
      const request = buildRunRequest(id, flags, ctx.io);
      let drawing: Drawing | undefined;
      if (request.file !== undefined) {
        const registered = await register(ctx.client, request.file.raw);
        // A note, not the result: stdout carries only the run, so `--json` stays one document.
        ctx.io.stderr.write(`${describeRegistered(registered, request.file.template)}\n`);
        drawing = { steps: request.file.template.steps, version: registered.currentVersion };
      }
      const workflowId = request.workflowId as string;
      const response = await ctx.client.call(
        api.startExecution(workflowId, request.input, idempotencyHeaders(request.idempotencyKey)),
      );
      const started = response.body;
      if (flags.wait === false) {
        ctx.result(started, () =>
          submittedText(
            response,
            `Execution ${started.executionId}`,
            ['started', 'was already started with this key'],
            `vobee executions watch ${started.executionId}`,
          ),
        );
        return;
      }
      drawing ??= await fetchDrawing(ctx.client, workflowId);
      await followToEnd(ctx, started, drawing);
    },
    errors: {
      flags: { input: '--input' },
      notFoundHint: WORKFLOW_NOT_FOUND,
      conflictHint: 'That --idempotency-key was used with a different input: use a new key.',
    },
  });
}

const RUN_TONE: Record<string, Tone> = { SUCCEEDED: 'good', FAILED: 'bad', TIMED_OUT: 'bad', PAUSED: 'warn' };
const EXECUTION_COLUMNS: Column<ExecutionSummary>[] = [
  { header: 'EXECUTION', value: (e) => e.executionId },
  { header: 'WORKFLOW', value: (e) => `${e.workflowId} v${e.version}` },
  { header: 'STATUS', value: (e) => e.status, tone: (e) => RUN_TONE[e.status] },
  { header: 'STARTED', value: (e) => e.startedAt },
  { header: 'STOPPED', value: (e) => e.stoppedAt },
  { header: 'ERROR', value: (e) => e.error?.error },
];
const EXECUTION_PAGE: PageSpec<'executions', ExecutionSummary> = {
  path: '/executions',
  key: 'executions',
  schema: queries.listExecutions,
  columns: EXECUTION_COLUMNS,
  command: 'vobee executions list',
  empty: 'No runs in that window.',
};

function registerExecutionGroup(program: Command, state: CliState): void {
  const executions = program
    .command('executions')
    .description('follow workflow runs; pause, resume, cancel and redrive them');
  const errors = {
    conflictHint:
      'The run has already ended, or is not in that state: see it with `vobee executions show ID`.',
  };

  addCommand(executions, state, {
    name: 'list',
    description: 'workflow runs newest first, by status, workflow and time (GET /executions)',
    setup: (c) =>
      withListWindow(
        c
          .addOption(
            new Option('--status <status>', 'only runs in this status').choices([...executionStatus.options]),
          )
          .option('--workflow-id <id>', 'only runs of this workflow'),
      ),
    run: async (ctx, flags: ListWindowFlags & { status?: string; workflowId?: string }) => {
      await showPage(
        ctx,
        EXECUTION_PAGE,
        listQuery({ status: flags.status, workflowId: flags.workflowId }, flags),
      );
    },
  });

  addCommand(executions, state, {
    name: 'show',
    description: 'show a run once: its steps in layers, their status and timings',
    subject: EXECUTION,
    run: async (ctx, id: string) => {
      const view = await getExecution(ctx.client, id);
      // `--json` is the view as the API gives it: the template is needed only to draw it.
      if (ctx.json) ctx.print(JSON.stringify(view, null, 2));
      else ctx.print(staticView(ctx, view, await fetchDrawing(ctx.client, view.workflowId)));
    },
    errors,
  });

  addCommand(executions, state, {
    name: 'watch',
    description: 'follow a run live until it ends',
    subject: EXECUTION,
    setup: (c) => c.addHelpText('after', EXIT_HELP),
    run: async (ctx, id: string) => {
      const view = await getExecution(ctx.client, id);
      await followToEnd(ctx, view, await fetchDrawing(ctx.client, view.workflowId));
    },
    errors,
  });

  const controls = [
    ['pause', 'pause a run: running steps finish, no new step starts until resume', 'Paused'],
    ['resume', 'resume a paused run', 'Resumed'],
    ['cancel', 'cancel a run: no new step starts and it ends CANCELLED', 'Cancelled'],
    [
      'redrive',
      'run a FAILED or TIMED_OUT run again from the steps that did not succeed (succeeded steps are not called again)',
      'Redriven',
    ],
  ] as const;
  for (const [verb, description, done] of controls) {
    addCommand(executions, state, {
      name: verb,
      description,
      subject: EXECUTION,
      run: async (ctx, id: string) => {
        await ctx.show<ExecutionView>('POST', apiPath('executions', id, verb), (body) =>
          [
            `${done} execution ${body.executionId}: ${body.status}`,
            verb === 'pause'
              ? `Resume it with: vobee executions resume ${body.executionId}`
              : verb === 'resume' || verb === 'redrive'
                ? `Follow it with: vobee executions watch ${body.executionId}`
                : undefined,
          ]
            .filter((line) => line !== undefined)
            .join('\n'),
        );
      },
      errors,
    });
  }
}

async function register(client: ApiClient, template: Record<string, unknown>): Promise<Registered> {
  return (await client.request<Registered>('POST', '/workflows', { body: template })).body;
}

/** The steps are counted in the template: the compiled Task states include gates. */
function describeRegistered(registered: Registered, template: WorkflowTemplate): string {
  const { compiled } = registered;
  return `Registered workflow ${registered.workflowId} v${registered.currentVersion}: ${template.steps.length} steps, ${compiled.states} states (${compiled.strategy})`;
}

async function getExecution(client: ApiClient, id: string): Promise<ExecutionView> {
  return (await client.call(api.getExecution(id))).body;
}

/**
 * The current template's steps, fetched once per run or watch for the dependencies. A workflow
 * that has gone, or one deployed with the stack (no template stored), is drawn without them.
 */
async function fetchDrawing(client: ApiClient, workflowId: string): Promise<Drawing> {
  try {
    const { body } = await client.call(api.getWorkflow(workflowId));
    return { steps: body.template?.steps, version: body.template ? body.currentVersion : undefined };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { steps: undefined, version: undefined };
    throw error;
  }
}

function clock(io: CliIO): () => number {
  return (io as WorkflowIO).now ?? Date.now;
}

function staticView(ctx: ActionContext, view: ExecutionView, drawing: Drawing): string {
  return renderExecution(view, drawing.steps, {
    now: clock(ctx.io)(),
    style: ctx.style,
    templateVersion: drawing.version,
  }).join('\n');
}

/**
 * Polls the run until it ends, showing its progress on stderr so stdout carries only the result:
 * on a terminal the DAG is redrawn in place every poll; otherwise (or with `--json`) each step
 * event is one line. Then prints the final view (or the raw view with `--json`) and sets the exit
 * code from how the run ended.
 */
async function followToEnd(ctx: ActionContext, first: ExecutionView, drawing: Drawing): Promise<void> {
  const { io } = ctx;
  const sleep = sleeper(io);
  const now = clock(io);
  const live = io.stderr.isTTY === true && !ctx.json;
  const style = createStyle(colorEnabled(io.stderr, io.env));
  const width = (io.stderr as { columns?: number }).columns;
  const log = new EventLog(
    (drawing.steps ?? first.steps.map((s) => ({ step_id: s.stepId }))).map((s) => s.step_id),
  );
  let frame = 0;
  let view = first;
  if (!live) io.stderr.write(`Execution ${view.executionId}  ${view.workflowId} v${view.version}\n`);
  try {
    for (;;) {
      if (live) {
        const lines = renderExecution(view, drawing.steps, {
          now: now(),
          style,
          live: true,
          width,
          templateVersion: drawing.version,
        });
        io.stderr.write(redraw(frame, lines));
        frame = lines.length;
      } else {
        for (const line of log.update(view, now())) io.stderr.write(`${line}\n`);
      }
      if (ENDED.has(view.status)) break;
      await sleep(POLL_MS);
      view = await getExecution(ctx.client, view.executionId);
    }
  } finally {
    // The final view goes to stdout, so the live frame would only repeat it.
    if (live) io.stderr.write(eraseFrame(frame));
  }
  if (ctx.json) ctx.print(JSON.stringify(view, null, 2));
  else ctx.print(staticView(ctx, view, drawing));
  const failure = failureLine(view);
  if (failure !== undefined) io.stderr.write(`${failure}\n`);
  ctx.setExitCode(
    view.status === 'FAILED' || view.status === 'TIMED_OUT'
      ? EXIT_CODES.taskFailed
      : view.status === 'CANCELLED'
        ? EXIT_CODES.cancelled
        : EXIT_CODES.ok,
  );
}

/** One stderr line for a run that did not succeed, naming the failed step and its error. */
function failureLine(view: ExecutionView): string | undefined {
  if (view.status === 'CANCELLED') return `Execution ${view.executionId} was CANCELLED`;
  if (view.status === 'TIMED_OUT')
    return `Execution ${view.executionId} TIMED OUT: ${view.error?.cause ?? 'it used up its time'}`;
  if (view.status !== 'FAILED') return undefined;
  const failed = view.steps.find((s) => s.status === 'FAILED');
  return failed
    ? `Execution ${view.executionId} FAILED at step ${failed.stepId}: ${failed.error ?? 'no error was reported'}`
    : `Execution ${view.executionId} FAILED: ${runError(view) ?? 'no error was reported'}`;
}

const WORKFLOW_COLUMNS: Column<WorkflowHead>[] = [
  { header: 'WORKFLOW', value: (w) => w.workflowId },
  { header: 'NAME', value: (w) => w.name },
  { header: 'LIVE', value: (w) => `v${w.currentVersion}`, align: 'right' },
  { header: 'LATEST', value: (w) => `v${w.latestVersion}`, align: 'right' },
  { header: 'UPDATED', value: (w) => w.updatedAt },
];

/** Workflows as a table: WORKFLOW, NAME, LIVE (the version runs use), LATEST, UPDATED. */
export function formatWorkflows(workflows: readonly WorkflowHead[], style: Style): string {
  return formatTable(workflows, WORKFLOW_COLUMNS, style);
}

/** Declared run inputs on one line: `name (type, default value)` or `name (type, required)`. */
function formatInputs(inputs: InputDeclarations): string {
  return Object.entries(inputs)
    .map(([name, { type, default: value }]) =>
      value === undefined
        ? `${name} (${type}, required)`
        : `${name} (${type}, default ${JSON.stringify(value)})`,
    )
    .join(', ');
}

/** A workflow: its head, its steps by layer (what runs after what), and its versions. */
export function formatWorkflow(detail: WorkflowDetail, style: Style): string {
  const fields: Field[] = [
    ['Workflow', detail.workflowId],
    ['Name', detail.name],
    ['Description', detail.description || undefined],
    ['Live version', `v${detail.currentVersion}`],
    ['Latest version', `v${detail.latestVersion}`],
    ['Updated', detail.updatedAt || undefined],
    ['Inputs', formatInputs(detail.template?.inputs ?? {}) || undefined],
  ];
  const sections = [
    formatFields(
      fields.filter(([, value]) => value !== undefined),
      style,
    ),
  ];
  const template = detail.template;
  if (template === undefined) {
    sections.push('No template stored: this workflow is deployed with the stack (cdk/workflows).');
  } else {
    const rows = layerSteps(template.steps).flatMap((layer, k) => layer.map((step) => ({ step, k })));
    const columns: Column<(typeof rows)[number]>[] = [
      { header: 'LAYER', value: (r) => r.k, align: 'right' },
      { header: 'STEP', value: (r) => r.step.step_id },
      { header: 'NAME', value: (r) => r.step.name },
      { header: 'FACTORY', value: (r) => r.step.factory_type },
      { header: 'ACTION', value: (r) => r.step.action },
      { header: 'RETRIES', value: (r) => r.step.retries ?? template.max_retries, align: 'right' },
      { header: 'ON FAILURE', value: (r) => r.step.on_failure },
    ];
    // Only when some step waits for a factory's callback: otherwise the column is all "no".
    if (template.steps.some((s) => s.callback)) {
      columns.push({ header: 'CALLBACK', value: (r) => r.step.callback });
    }
    columns.push({ header: 'DEPENDS ON', value: (r) => formatDependencies(r.step) });
    sections.push(formatTable(rows, columns, style));
  }
  if (detail.versions.length > 0) {
    sections.push(
      formatTable(
        detail.versions,
        [
          { header: 'VERSION', value: (v) => `v${v.version}`, align: 'right' },
          {
            header: 'LIVE',
            value: (v) => (v.version === detail.currentVersion ? 'yes' : ''),
            tone: (v) => (v.version === detail.currentVersion ? 'good' : undefined),
          },
          { header: 'STEPS', value: (v) => v.steps, align: 'right' },
          { header: 'STATES', value: (v) => v.states, align: 'right' },
          { header: 'STRATEGY', value: (v) => v.strategy },
          { header: 'CREATED', value: (v) => v.createdAt },
        ],
        style,
      ),
    );
  }
  return sections.join('\n\n');
}
