import { readFileSync } from 'node:fs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/app.ts';
import {
  type ApiRoute,
  loadRoutes,
  OPENAPI_FILE,
  openApiDocument,
  packageVersion,
} from '../../lib/handler/openapi.ts';
import { invoke } from '../../lib/local/functions.ts';
import { apiEvent } from '../helpers/events.ts';

// biome-ignore lint/suspicious/noExplicitAny: the document is read field by field
type Doc = any;

const ROUTES = FUNCTIONS.filter((f) => f.route !== undefined);
const SHIPPED: Doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));

/** Every `$ref` in a value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === '$ref' && typeof item === 'string' ? [item] : refs(item),
  );
}

describe('the OpenAPI document', () => {
  let routes: ApiRoute[];
  let generated: Doc;
  beforeAll(async () => {
    routes = await loadRoutes();
    generated = openApiDocument(routes, packageVersion());
  });

  it('is shipped as the generator writes it: run `npm run openapi` after changing a route or a schema', () => {
    expect(SHIPPED).toEqual(generated);
  });

  it('is OpenAPI 3.1 with the package version', () => {
    expect(generated.openapi).toBe('3.1.0');
    expect(generated.info.version).toBe(
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    );
  });

  it('has every route of the manifest, as an operation named after its function', () => {
    const operations = Object.entries(generated.paths as Record<string, Record<string, Doc>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );
    expect(operations.sort()).toEqual(
      ROUTES.map((f) => `${f.route?.method} ${f.route?.path} ${f.id}`).sort(),
    );
    for (const route of routes) {
      const op = generated.paths[route.path][route.method.toLowerCase()];
      expect(op.summary, route.id).toBe(route.description);
    }
  });

  it('gives each operation its request: every path parameter, the query, and a body exactly when the route takes one', () => {
    for (const route of routes) {
      const op = generated.paths[route.path][route.method.toLowerCase()];
      const pathNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const inPath = op.parameters.filter((p: Doc) => p.in === 'path');
      expect(inPath.map((p: Doc) => p.name).sort(), route.id).toEqual(pathNames.sort());
      expect(
        inPath.every((p: Doc) => p.required === true && p.schema.type === 'string'),
        route.id,
      ).toBe(true);
      expect(op.requestBody !== undefined, route.id).toBe(route.contract.body !== undefined);
      if (op.requestBody)
        expect(op.requestBody.content['application/json'].schema, route.id).toBeTypeOf('object');
      if (route.contract.query) {
        const inQuery = op.parameters.filter((p: Doc) => p.in === 'query').map((p: Doc) => p.name);
        const declared = Object.keys((route.contract.query as unknown as { shape?: object }).shape ?? {});
        expect(inQuery.sort(), route.id).toEqual(declared.sort());
      }
    }
  });

  it('gives each operation a success response with a schema, and the refusals it can answer', () => {
    for (const route of routes) {
      const op = generated.paths[route.path][route.method.toLowerCase()];
      const successes = Object.keys(op.responses).filter((status) => status < '400');
      expect(successes.length, `${route.id} declares no success response`).toBeGreaterThan(0);
      for (const status of successes) {
        expect(op.responses[status].content['application/json'].schema, `${route.id} ${status}`).toBeTypeOf(
          'object',
        );
      }
      expect(op.responses['400'], route.id).toEqual({ $ref: '#/components/responses/BadRequest' });
      expect(op.responses['404'] !== undefined, route.id).toBe(route.path.includes('{'));
    }
  });

  it('describes every refusal with the one error shape', () => {
    const { responses, schemas } = generated.components;
    for (const response of Object.values(responses) as Doc[]) {
      expect(response.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
    expect(schemas.Error.properties.error.required).toEqual(['type', 'message']);
  });

  it('needs SigV4 everywhere but on public routes', () => {
    expect(generated.security).toEqual([{ sigv4: [] }]);
    expect(generated.components.securitySchemes.sigv4).toMatchObject({
      type: 'http',
      scheme: 'AWS4-HMAC-SHA256',
    });
    for (const route of routes) {
      const op = generated.paths[route.path][route.method.toLowerCase()];
      expect(op.security, route.id).toEqual(route.public ? [] : undefined);
    }
  });

  it('resolves every reference to a component it has', () => {
    const all = new Set(refs(generated));
    expect(all.size).toBeGreaterThan(10);
    for (const ref of all) {
      const [, section, name] = /^#\/components\/(schemas|responses)\/(\w+)$/.exec(ref) ?? [];
      expect(section && name && generated.components[section][name], ref).toBeTruthy();
    }
  });

  it('is served by GET /openapi.json', async () => {
    const result = (await invoke(
      'OpenApiDocument',
      apiEvent('GET /openapi.json'),
    )) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body as string)).toEqual(SHIPPED);
  });
});
