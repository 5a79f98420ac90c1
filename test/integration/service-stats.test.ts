import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallObservation } from '../../lib/core/statistics.ts';
import { invoke } from '../../lib/local/functions.ts';
import { apiEvent } from '../helpers/events.ts';
import { backends, createServingStack, manualClock, type ServingStack } from '../helpers/stack.ts';

const backend = backends()[0];
if (!backend) throw new Error('no local DynamoDB');

async function stats(name: string, query: Record<string, string> = {}) {
  const result = (await invoke(
    'ServiceStats',
    apiEvent('GET /services/{name}/stats', { path: { name }, query }),
  )) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, body: JSON.parse(result.body as string) };
}

function call(at: string, latencyMs: number, outcome: 'ok' | 'failed' | 'timeout', taskType = 'research') {
  return {
    taskType,
    service: 'research-a',
    success: outcome === 'ok',
    timedOut: outcome === 'timeout',
    latencyMs,
    at,
  } satisfies CallObservation;
}

describe('GET /services/{name}/stats', () => {
  const clock = manualClock('2026-03-02T10:30:00.000Z');
  let stack: ServingStack;

  beforeAll(async () => {
    stack = await createServingStack(backend, { now: clock.now });
    for (const name of ['research-a', 'research-b']) {
      await stack.orchestrator.services.register({
        name,
        endpoint: `http://127.0.0.1:9/${name}`,
        capabilities: ['research'],
      });
    }
    // Yesterday 14:xx (rolled up into hours), and this morning 10:05 and 10:07 (minutes, two task types).
    const calls: CallObservation[] = [
      ...Array.from({ length: 8 }, (_, i) =>
        call(`2026-03-01T14:${String(10 + i).padStart(2, '0')}:00.000Z`, 90, 'ok'),
      ),
      call('2026-03-01T14:40:00.000Z', 5_000, 'timeout'),
      call('2026-03-02T10:05:10.000Z', 40, 'ok'),
      call('2026-03-02T10:05:20.000Z', 60, 'ok', 'summaries'),
      call('2026-03-02T10:05:30.000Z', 900, 'failed'),
      call('2026-03-02T10:07:00.000Z', 70, 'ok'),
      { ...call('2026-03-02T10:07:00.000Z', 10, 'ok'), service: 'research-b' },
    ];
    await stack.stores.stats.recordCalls(calls);
    await stack.orchestrator.rollUp();
  });

  it('answers each minute of the last hour by default, every task type counted, empty minutes as zero', async () => {
    const { status, body } = await stats('research-a');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      service: 'research-a',
      granularity: 'minute',
      since: '2026-03-02T09:30:00.000Z',
      until: '2026-03-02T10:30:00.000Z',
    });
    expect(body.points).toHaveLength(61);
    const byMinute = new Map(body.points.map((p: { at: string }) => [p.at, p]));
    expect(byMinute.get('2026-03-02T10:05:00.000Z')).toEqual({
      at: '2026-03-02T10:05:00.000Z',
      calls: 3,
      successes: 2,
      failures: 1,
      timeouts: 0,
      p50Ms: expect.any(Number),
      p95Ms: expect.any(Number),
    });
    const minute = byMinute.get('2026-03-02T10:05:00.000Z') as { p50Ms: number; p95Ms: number };
    expect(minute.p50Ms).toBeGreaterThanOrEqual(60);
    expect(minute.p50Ms).toBeLessThan(900);
    expect(minute.p95Ms).toBeGreaterThanOrEqual(900);
    // research-b's call is not research-a's.
    expect(byMinute.get('2026-03-02T10:07:00.000Z')).toMatchObject({ calls: 1, successes: 1 });
    expect(byMinute.get('2026-03-02T10:06:00.000Z')).toEqual({
      at: '2026-03-02T10:06:00.000Z',
      calls: 0,
      successes: 0,
      failures: 0,
      timeouts: 0,
    });
    const total = body.points.reduce((n: number, p: { calls: number }) => n + p.calls, 0);
    expect(total).toBe(4);
  });

  it('answers hours from the rolled-up counters and the minutes not rolled up yet', async () => {
    const { status, body } = await stats('research-a', {
      granularity: 'hour',
      since: '2026-03-01T12:00:00Z',
      until: '2026-03-02T10:30:00Z',
    });
    expect(status).toBe(200);
    expect(body.points).toHaveLength(23);
    const byHour = new Map(body.points.map((p: { at: string }) => [p.at, p]));
    expect(byHour.get('2026-03-01T14:00:00.000Z')).toMatchObject({
      calls: 9,
      successes: 8,
      failures: 1,
      timeouts: 1,
    });
    expect(byHour.get('2026-03-02T10:00:00.000Z')).toMatchObject({ calls: 4, successes: 3, failures: 1 });
    expect(byHour.get('2026-03-01T15:00:00.000Z')).toMatchObject({ calls: 0 });
  });

  it.each([
    [{ granularity: 'second' }, 400, 'query.granularity'],
    [{ since: 'last week' }, 400, 'query.since'],
    [{ since: '2026-02-01T00:00:00Z' }, 422, '24 hours'],
    [{ granularity: 'hour', since: '2026-02-01T00:00:00Z' }, 422, '7 days'],
    [{ since: '2026-03-03T00:00:00Z' }, 422, 'after until'],
  ])('refuses %o with %i naming the problem', async (query, code, words) => {
    const { status, body } = await stats('research-a', query);
    expect(status).toBe(code);
    expect(JSON.stringify(body)).toContain(words);
  });

  it('answers 404 for a service that is not registered', async () => {
    const { status, body } = await stats('nobody');
    expect(status).toBe(404);
    expect(JSON.stringify(body)).toContain('nobody');
  });
});
