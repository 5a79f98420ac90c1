import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { listWindow, nextToken } from '../../lib/core/list-window.ts';
import type { TaskRecord, TaskStatus } from '../../lib/core/task-record.ts';
import { LOCAL_AWS } from '../../lib/local/dynamodb.ts';
import { type RunningExampleFactory, startExampleFactory } from '../../lib/local/factories/index.ts';
import { invoke } from '../../lib/local/functions.ts';
import { seedExamples, seedWorkflows } from '../../lib/local/seed.ts';
import { toDocumentClient } from '../../lib/store/client.ts';
import { createTables } from '../../lib/store/create-tables.ts';
import { Table } from '../../lib/store/dynamo.ts';
import { listNewest } from '../../lib/store/listing.ts';
import { BY_TIME_INDEX, TABLES, tableNames } from '../../lib/store/tables.ts';
import { TaskStore } from '../../lib/store/task-store.ts';
import { buildWorkflowStore } from '../../lib/wiring/workflows.ts';
import { apiEvent } from '../helpers/events.ts';
import { sink } from '../helpers/fake-api.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';
import {
  backends,
  createServingStack,
  createStack,
  manualClock,
  type ServingStack,
  seededRandom,
  type TestStack,
} from '../helpers/stack.ts';

const backend = backends()[0];
if (!backend) throw new Error('no local DynamoDB');

const TYPES = ['research', 'email_campaign', 'video_generation'] as const;
const STATUSES: TaskStatus[] = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'];
const NOW = '2026-03-01T12:00:00.000Z';

function record(taskId: string, type: string, status: TaskStatus, createdAt: string): TaskRecord {
  return {
    taskId,
    task: {
      id: taskId,
      type,
      priority: 'normal',
      keywords: [],
      resources: {},
      parameters: { big: 'x'.repeat(2_000) },
    },
    status,
    seq: 0,
    requestHash: 'h',
    attempts: [],
    createdAt,
    updatedAt: createdAt,
  };
}

describe('task lists', () => {
  let stack: TestStack;
  const records: TaskRecord[] = [];
  const clock = manualClock(NOW);

  beforeAll(async () => {
    stack = await createStack(backend, { now: clock.now });
    const random = seededRandom(7);
    // 300 tasks over the 45 days before NOW, a few in the same millisecond.
    for (let i = 0; i < 300; i++) {
      const at = Date.parse(NOW) - Math.floor(random() * 45 * 86_400_000);
      const createdAt = new Date(
        i % 50 === 0 && i > 0 ? Date.parse(records[i - 1]?.createdAt as string) : at,
      );
      records.push(
        record(
          `task-${i}`,
          TYPES[i % 3] as string,
          STATUSES[Math.floor(random() * 4)] as TaskStatus,
          createdAt.toISOString(),
        ),
      );
    }
    for (const r of records) await stack.stores.tasks.putTaskIfAbsent(r);
  }, 60_000);

  /** Every page of a query, following nextToken. */
  async function allPages(query: Record<string, unknown>) {
    const pages: Array<{ tasks: Array<{ taskId: string }>; nextToken?: string }> = [];
    let token: string | undefined;
    do {
      const page = await stack.orchestrator.taskQueries.list({ ...query, nextToken: token });
      pages.push(page);
      token = page.nextToken;
    } while (token && pages.length < 200);
    return { pages, ids: pages.flatMap((p) => p.tasks.map((t) => t.taskId)) };
  }

  function expected(filter: { status?: string; type?: string; since?: string; until?: string }) {
    const since = filter.since ?? new Date(Date.parse(NOW) - 30 * 86_400_000).toISOString();
    const until = filter.until ?? NOW;
    return records
      .filter(
        (r) =>
          (filter.status === undefined || r.status === filter.status) &&
          (filter.type === undefined || r.task.type === filter.type),
      )
      .filter((r) => r.createdAt >= since && r.createdAt < until)
      .sort((a, b) => (`${a.createdAt}#${a.taskId}` < `${b.createdAt}#${b.taskId}` ? 1 : -1))
      .map((r) => r.taskId);
  }

  it.each<[{ status?: string; type?: string; since?: string; until?: string; limit?: number }, number]>([
    [{}, 25],
    [{ limit: 7 }, 7],
    [{ status: 'FAILED', limit: 10 }, 10],
    [{ type: 'research', status: 'SUCCEEDED', limit: 100 }, 100],
    [{ since: '2026-01-20', until: '2026-02-10T06:30:00Z', limit: 13 }, 13],
    [{ since: '2026-01-01T00:00:00Z', type: 'email_campaign', limit: 1 }, 1],
  ])('pages through %o newest first, every match once, no page over the limit', async (query, limit) => {
    const { pages, ids } = await allPages(query);
    const want = expected({
      ...query,
      since: query.since && new Date(query.since).toISOString(),
      until: query.until && new Date(query.until).toISOString(),
    });
    expect(want.length).toBeGreaterThan(0);
    expect(ids).toEqual(want);
    for (const page of pages) expect(page.tasks.length).toBeLessThanOrEqual(limit);
    expect(pages.at(-1)?.nextToken).toBeUndefined();
  });

  it('shows what a list needs of each task, and none of its parameters', async () => {
    const { tasks } = await stack.orchestrator.taskQueries.list({ limit: 1 });
    const newest = records.find((r) => r.taskId === tasks[0]?.taskId) as TaskRecord;
    expect(tasks[0]).toEqual({
      taskId: newest.taskId,
      type: newest.task.type,
      status: newest.status,
      priority: 'normal',
      createdAt: newest.createdAt,
      updatedAt: newest.updatedAt,
    });
  });

  it('stays exact when small read budgets cut pages short inside a day, and ends', async () => {
    const table = new Table(stack.doc, stack.tables.memory);
    const random = seededRandom(3);
    for (const limits of [
      { queries: 4, entriesPerQuery: 2 },
      { queries: 8, entriesPerQuery: 3 },
      { queries: 12, entriesPerQuery: 5 },
    ]) {
      for (const status of [undefined, 'FAILED'] as const) {
        const limit = 1 + Math.floor(random() * 9);
        const window = listWindow({ since: '2026-01-10T00:00:00Z', limit }, clock.now());
        const ids: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await listNewest(
            table,
            'TASK',
            { ...window, after },
            (item) => status === undefined || item.status === status,
            limits,
          );
          expect(page.items.length).toBeLessThanOrEqual(limit);
          ids.push(...page.items.map((i) => (i.gsi2sk as string).split('#')[1] as string));
          after = page.next;
          pages++;
        } while (after && pages < 2_000);
        expect(after).toBeUndefined();
        expect(ids).toEqual(expected({ status, since: '2026-01-10T00:00:00.000Z' }));
      }
    }
  });

  it('answers a sparse filter over a long window in bounded pages that end', async () => {
    const old = record('lonely', 'translation', 'FAILED', '2026-01-02T03:04:05.000Z');
    await stack.stores.tasks.putTaskIfAbsent(old);
    const { pages, ids } = await allPages({ type: 'translation', since: '2025-12-01' });
    expect(ids).toEqual(['lonely']);
    // 90 days of 4 shards is more than one page may read: the empty days come back as pages with a token.
    expect(pages.length).toBeGreaterThan(1);
  });
});

describe('GET /tasks and GET /executions', () => {
  async function call(id: string, route: string, query: Record<string, string>) {
    const result = (await invoke(id, apiEvent(route, { query }))) as APIGatewayProxyStructuredResultV2;
    return { status: result.statusCode, body: JSON.parse(result.body as string) };
  }

  let serving: ServingStack;
  beforeAll(async () => {
    serving = await createServingStack(backend);
  });

  it("keeps a run's end from Step Functions' event, for the execution that is the run's now only", async () => {
    const store = buildWorkflowStore(serving);
    const arn = (name: string) =>
      `arn:aws:states:eu-west-1:123456789012:execution:vobee-dev-wf-launch:${name}`;
    const at = new Date().toISOString();
    await store.putExecutionIfAbsent({
      executionName: 'evt-run',
      workflowId: 'launch',
      version: 1,
      control: 'running',
      input: {},
      requestHash: 'h',
      createdAt: at,
      updatedAt: at,
    });
    await store.setExecutionArn('evt-run', arn('evt-run-r2'), new Date());
    const ended = (name: string, status: string) =>
      invoke('RecordRunEnd', {
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        detail: {
          executionArn: arn(name),
          name,
          status,
          stopDate: Date.now(),
          input: JSON.stringify({ input: {}, run: { id: 'evt-run' } }),
        },
      });
    // An earlier execution of the run ends late: not the run's end.
    await ended('evt-run', 'FAILED');
    let listed = await call('ListExecutions', 'GET /executions', { workflowId: 'launch' });
    expect(listed.body.executions.map((e: { status: string }) => e.status)).toEqual(['RUNNING']);
    await ended('evt-run-r2', 'SUCCEEDED');
    listed = await call('ListExecutions', 'GET /executions', { workflowId: 'launch' });
    expect(listed.body.executions).toEqual([
      expect.objectContaining({ executionId: 'evt-run', status: 'SUCCEEDED', stoppedAt: expect.any(String) }),
    ]);
  });

  it.each([
    [{ limit: '101' }, 'query.limit'],
    [{ limit: '0' }, 'query.limit'],
    [{ status: 'DONE' }, 'query.status'],
    [{ since: 'yesterday' }, 'query.since'],
    [{ nextToken: 'not-a-token' }, 'query.nextToken'],
    [{ nextToken: nextToken('DROP TABLE') as string }, 'query.nextToken'],
    [{ since: '2026-02-01', until: '2026-01-01' }, 'query.since'],
    [{ colour: 'red' }, 'query'],
  ])('refuses %o with 400 naming %s', async (query, field) => {
    for (const [id, route] of [
      ['ListTasks', 'GET /tasks'],
      ['ListExecutions', 'GET /executions'],
    ] as const) {
      const { status, body } = await call(id, route, query);
      expect(status).toBe(400);
      expect(JSON.stringify(body)).toContain(field);
    }
  });
});

describe('lists on the local runtime', () => {
  let runtime: Awaited<ReturnType<typeof startTestRuntime>>;
  const factories: RunningExampleFactory[] = [];
  beforeAll(async () => {
    runtime = await startTestRuntime();
    factories.push(
      await startExampleFactory('media'),
      await startExampleFactory('research', { latencyMs: { kind: 'fixed', ms: 300 } }),
    );
    await seedExamples(runtime.orchestrator, factories);
    await seedWorkflows(runtime.orchestrator);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(factories.map((f) => f.close()));
    await runtime?.stop(1_000);
  });

  it('lists submitted tasks newest first with their status and service, by type and status', async () => {
    const { api } = runtime;
    const submitted: Array<[string, string, Record<string, unknown>]> = [
      ['list-a', 'market_analysis', { market_sector: 'energy' }],
      ['list-b', 'market_analysis', { market_sector: 'health' }],
      ['list-c', 'generate_image', { prompt: 'a teapot' }],
    ];
    for (const [id, type, parameters] of submitted) {
      expect((await api.post('/tasks', { id, type, parameters })).status).toBe(202);
    }
    const records = [];
    for (const [id] of submitted) {
      records.push(await api.until(`/tasks/${id}`, (t) => t.status === 'SUCCEEDED' || t.status === 'FAILED'));
    }
    const all = await api.get('/tasks?limit=100');
    expect(all.status).toBe(200);
    expect(all.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['list-c', 'list-b', 'list-a']);
    expect(all.body.nextToken).toBeUndefined();
    for (const [i, listed] of [...all.body.tasks].reverse().entries()) {
      const full = records[i];
      expect(listed).toEqual({
        taskId: full.taskId,
        type: full.task.type,
        status: full.status,
        priority: 'normal',
        createdAt: full.createdAt,
        updatedAt: full.updatedAt,
        completedAt: full.completedAt,
        service: full.attempts.at(-1).service,
        ...(full.error ? { error: full.error } : {}),
      });
    }
    const analyses = await api.get('/tasks?type=market_analysis');
    expect(analyses.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['list-b', 'list-a']);
    const paged = await api.get('/tasks?limit=2');
    expect(paged.body.tasks).toHaveLength(2);
    const rest = await api.get(`/tasks?limit=2&nextToken=${paged.body.nextToken}`);
    expect(rest.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['list-a']);
    const failed = await api.get('/tasks?status=FAILED');
    expect(failed.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(
      records
        .filter((r) => r.status === 'FAILED')
        .map((r) => r.taskId)
        .reverse(),
    );
  });

  it('lists them with the CLI, the same filters as flags, and a command for the next page', async () => {
    const run = async (line: string) => {
      const stdout = sink();
      const stderr = sink();
      const code = await main(['--endpoint', runtime.apiUrl, ...line.split(' ')], {
        stdout,
        stderr,
        env: {},
        sleep: async () => {},
      });
      return { code, stdout: stdout.text, stderr: stderr.text };
    };
    const page = await run('tasks list --type market_analysis --limit 1');
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(/^TASK +TYPE +STATUS/);
    expect(page.stdout).toContain('list-b');
    expect(page.stdout).not.toContain('list-a');
    const next = /More: (vobee tasks list .*)$/m.exec(page.stdout)?.[1];
    expect(next).toContain('--type market_analysis --limit 1 --next-token ');
    const rest = await run((next as string).replace(/^vobee /, ''));
    expect(rest.stdout).toContain('list-a');
    const json = JSON.parse((await run('task list --json --limit 100')).stdout);
    expect(json.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['list-c', 'list-b', 'list-a']);
    const refused = await run('tasks list --limit 500');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--limit');
    const runs = await run('executions list --status FAILED');
    expect(runs.code).toBe(0);
    expect(runs.stdout).toBe('No runs in that window.\n');
  });

  it('lists runs with the status their detail shows, by workflow and status', async () => {
    const { api } = runtime;
    const done = await api.post('/workflows/generate-and-analyze/executions', {});
    expect(done.status).toBe(202);
    const doneId = done.body.executionId as string;
    const detail = await api.until(`/executions/${doneId}`, (e) => e.status === 'SUCCEEDED', 60_000);
    const cancelled = await api.post('/workflows/generate-and-analyze/executions', {});
    const cancelledId = cancelled.body.executionId as string;
    expect((await api.post(`/executions/${cancelledId}/cancel`)).status).toBe(200);

    const listed = await api.get('/executions?workflowId=generate-and-analyze');
    expect(listed.status).toBe(200);
    expect(listed.body.executions.map((e: { executionId: string }) => e.executionId)).toEqual([
      cancelledId,
      doneId,
    ]);
    expect(listed.body.executions[1]).toEqual({
      executionId: doneId,
      workflowId: 'generate-and-analyze',
      version: detail.version,
      status: 'SUCCEEDED',
      startedAt: detail.startedAt,
      stoppedAt: detail.stoppedAt,
    });
    const succeeded = await api.get('/executions?status=SUCCEEDED');
    expect(succeeded.body.executions.map((e: { executionId: string }) => e.executionId)).toEqual([doneId]);
    const stopped = await api.get('/executions?status=CANCELLED');
    expect(stopped.body.executions.map((e: { executionId: string }) => e.executionId)).toEqual([cancelledId]);
    expect((await api.get('/executions?workflowId=product-launch-campaign')).body).toEqual({
      executions: [],
    });
  });
});

describe('tables kept by an older version', () => {
  it('gain the list index at start, keeping their items, and list what is written after', async () => {
    const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: backend.endpoint });
    const tables = tableNames(`t${Math.random().toString(36).slice(2, 10)}`);
    const memory = TABLES.memory;
    // The memory table as it was before the list index.
    await client.send(
      new CreateTableCommand({
        TableName: tables.memory,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((n) => ({
          AttributeName: n,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: memory.globalIndexes
          .filter((i) => i.indexName !== BY_TIME_INDEX.indexName)
          .map((i) => ({
            IndexName: i.indexName,
            KeySchema: [
              { AttributeName: i.partitionKey, KeyType: 'HASH' },
              { AttributeName: i.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
      }),
    );
    await waitUntilTableExists(
      { client, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.5 },
      { TableName: tables.memory },
    );
    const doc = toDocumentClient(client);
    const before = new TaskStore(doc, { table: tables.memory });
    await before.putTaskIfAbsent(record('kept', 'research', 'SUCCEEDED', '2026-02-28T10:00:00.000Z'));

    await createTables(client, tables, { timeToLive: false });

    const described = await client.send(new DescribeTableCommand({ TableName: tables.memory }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(
      memory.globalIndexes.map((i) => i.indexName).sort(),
    );
    expect((await before.getTask('kept'))?.status).toBe('SUCCEEDED');
    await before.putTaskIfAbsent(record('new', 'research', 'PENDING', '2026-02-28T11:00:00.000Z'));
    const window = listWindow({ since: '2026-02-28' }, new Date(NOW));
    const page = await before.listTasks({}, window);
    expect(page.tasks.map((t) => t.taskId)).toEqual(['new', 'kept']);
  });
});
