import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { invoke } from '../../lib/local/functions.ts';
import { apiEvent } from '../helpers/events.ts';
import { backends, createServingStack, tableSnapshot } from '../helpers/stack.ts';

/** VOBEE_HEAVY=1 runs 100,000 requests instead of 10,000. */
const HEAVY = process.env.VOBEE_HEAVY === '1';
const backend = backends()[0];
if (!backend) throw new Error('no local DynamoDB');

/** POST routes with a body schema, the body arbitraries aimed at them, and path values. */
const TARGETS = [
  { id: 'SubmitTask', route: 'POST /tasks', schema: schemas.submitTask },
  { id: 'RegisterService', route: 'POST /services', schema: schemas.registerService },
  { id: 'RegisterModule', route: 'POST /modules', schema: schemas.registerModule },
  { id: 'CreateContext', route: 'POST /contexts', schema: schemas.createContext },
  {
    id: 'UpdateService',
    route: 'PATCH /services/{name}',
    schema: schemas.updateService,
    path: { name: 'known' },
  },
  {
    id: 'SetServiceHealth',
    route: 'PUT /services/{name}/health',
    schema: schemas.setHealth,
    path: { name: 'known' },
  },
  {
    id: 'RecordImpact',
    route: 'POST /suggestions/{id}/impact',
    schema: schemas.recordImpact,
    path: { id: 'sug_x' },
  },
] as const;

/** Bodies that look like requests: the right keys with wrong values, extra keys, wrong shapes. */
const nearMiss = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer(), fc.constant('')),
    type: fc.oneof(fc.string({ maxLength: 300 }), fc.constant('bad type'), fc.integer()),
    name: fc.oneof(fc.string(), fc.constant('a#b')),
    endpoint: fc.oneof(fc.string(), fc.webUrl(), fc.constant('ftp://x')),
    capabilities: fc.oneof(fc.array(fc.string()), fc.string()),
    priority: fc.oneof(fc.constantFrom('urgent', 'HIGH', ''), fc.integer()),
    category: fc.oneof(fc.string(), fc.constant(null)),
    dependencies: fc.anything(),
    health: fc.string(),
    weight: fc.oneof(fc.double(), fc.string()),
    before: fc.anything(),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 3, arbitrary: nearMiss },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.string().map((raw) => ({ raw })) },
);

describe('fuzzed request bodies and query strings', () => {
  it('10,000 malformed requests (100,000 with VOBEE_HEAVY=1) get 4xx with a field-level message, never a 5xx, and change nothing', {
    timeout: HEAVY ? 900_000 : 120_000,
  }, async () => {
    const stack = await createServingStack(backend);
    await stack.orchestrator.services.register({
      name: 'known',
      endpoint: 'http://known.example:80',
      capabilities: ['x'],
    });
    const before = await tableSnapshot(stack);
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: TARGETS.length - 1 }), body, async (index, candidate) => {
        const target = TARGETS[index] as (typeof TARGETS)[number];
        const raw =
          typeof candidate === 'object' && candidate !== null && 'raw' in candidate
            ? String(candidate.raw)
            : undefined;
        // Only malformed input is the point here: a body the schema accepts is skipped.
        if (raw === undefined && target.schema.safeParse(candidate).success) return;
        // An empty body reads as {}.
        if (
          raw !== undefined &&
          isJson(raw || '{}') &&
          target.schema.safeParse(JSON.parse(raw || '{}')).success
        )
          return;
        sent++;
        const event = apiEvent(target.route, {
          path: 'path' in target ? target.path : undefined,
          ...(raw === undefined ? { body: candidate } : { rawBody: raw }),
        });
        const result = (await invoke(target.id, event)) as APIGatewayProxyStructuredResultV2 & {
          body: string;
        };
        const status = result.statusCode as number;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
        const error = JSON.parse(result.body).error;
        expect(error.message.length).toBeGreaterThan(0);
        expect(error.issues.length).toBeGreaterThan(0);
        for (const issue of error.issues) expect(typeof issue.field).toBe('string');
      }),
      { numRuns: HEAVY ? 100_000 : 10_000, seed: 20261126 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string(), { minKeys: 1, maxKeys: 4 }),
        async (query) => {
          const result = (await invoke(
            'ListSuggestions',
            apiEvent('GET /suggestions', { query: { status: 'bogus', ...query } }),
          )) as {
            statusCode: number;
          };
          expect(result.statusCode).toBe(400);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
    expect(sent).toBeGreaterThan(HEAVY ? 90_000 : 9_000);
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    expect(await tableSnapshot(stack)).toBe(before);
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
