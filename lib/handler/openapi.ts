/**
 * The OpenAPI 3.1 document of the HTTP API, generated from what the handlers validate with: each
 * manifest route (`lib/app.ts`) gives the operation's id, summary, method, path and security, and
 * its handler's contract (`httpRoute`) the parameters, the request body and the responses. zod's
 * own JSON Schema output (draft 2020-12, the dialect of OpenAPI 3.1) describes every schema:
 * requests as they may be sent (`io: 'input'`), answers as they are produced (`io: 'output'`).
 *
 * `npm run openapi` writes it to `docs/openapi.json`; a test fails when that file is behind.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import { FUNCTIONS, type FunctionSpec } from '../app.ts';
import { isEntryPoint } from '../entry-point.ts';
import { errorBody } from './api-responses.ts';
import type { RouteContract, RouteHandler } from './http-route.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Where the generated document is kept (and bundled from, by `GET /openapi.json`). */
export const OPENAPI_FILE = join(ROOT, 'docs', 'openapi.json');

/** A JSON Schema or OpenAPI object, as plain JSON. */
type Json = Record<string, unknown>;

/** A manifest route with the contract of its handler. */
export interface ApiRoute {
  id: string;
  description: string;
  method: string;
  path: string;
  public: boolean;
  contract: RouteContract;
}

/** Every route of the manifest, each with its handler's contract (the handler files are imported). */
export async function loadRoutes(functions: readonly FunctionSpec[] = FUNCTIONS): Promise<ApiRoute[]> {
  const routed = functions.filter((f) => f.route !== undefined);
  return Promise.all(
    routed.map(async (f) => {
      const module = (await import(pathToFileURL(join(ROOT, f.entry)).href)) as { handler?: RouteHandler };
      const contract = module.handler?.contract;
      if (!contract) throw new Error(`${f.entry}: its handler was not made with httpRoute (no contract)`);
      const route = f.route as NonNullable<FunctionSpec['route']>;
      return {
        id: f.id,
        description: f.description,
        method: route.method,
        path: route.path,
        public: route.public === true,
        contract,
      };
    }),
  );
}

const SIGV4 = 'sigv4';

/** The refusals an operation may answer, each a shared response of the document. */
const REFUSALS = {
  400: { name: 'BadRequest', description: 'The request is malformed: each wrong field is named' },
  404: { name: 'NotFound', description: 'Something the request names does not exist' },
  409: { name: 'Conflict', description: 'The request conflicts with the current state' },
  413: { name: 'PayloadTooLarge', description: 'The body is over its limit (see the README, Limits)' },
  422: { name: 'UnprocessableContent', description: 'The request breaks a rule of the domain' },
  500: { name: 'InternalError', description: 'A fault of ours: the body gives the request id' },
} as const;
type RefusalStatus = keyof typeof REFUSALS;

/**
 * Which refusals an operation lists: every request can be malformed or meet a fault; a route
 * that names something in its path can find it missing; a route with a body can be sent one too
 * large; and a route that changes state can conflict with it or break a rule of the domain.
 */
function refusalsOf(route: ApiRoute): RefusalStatus[] {
  const statuses: RefusalStatus[] = [400];
  if (route.path.includes('{')) statuses.push(404);
  if (route.method !== 'GET') statuses.push(409);
  if (route.contract.body) statuses.push(413);
  if (route.method !== 'GET') statuses.push(422);
  statuses.push(500);
  return statuses;
}

/**
 * Collects the named schemas (`.meta({ id })`) met while converting, as the document's
 * components, and gives every conversion `$ref`s to them. A named schema that reads differently
 * as a request (defaults optional) than as an answer is kept a second time, as `<id>Input`.
 */
class Components {
  readonly schemas: Record<string, Json> = {};
  /** Recursive schemas without an id, which zod names `__schemaN` anew in each conversion: by content. */
  readonly #anonymous = new Map<string, string>();

  constructor() {
    // The one such schema so far is z.json(): any JSON value.
    const { $defs } = z.toJSONSchema(z.object({ value: z.json() })) as { $defs: Record<string, Json> };
    this.#anonymous.set(canonical($defs.__schema0 as Json, '__schema0'), 'JsonValue');
  }

  /** The JSON Schema of `schema`, with the named schemas it uses moved to the components. */
  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const converted = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      // A schema JSON Schema cannot express (a transform in an answer) must fail the generator,
      // not become `{}` and pass for documentation.
      unrepresentable: 'throw',
      cycles: 'ref',
    }) as Json & { $defs?: Record<string, Json> };
    const { $schema: _dialect, $defs: defs = {}, ...root } = converted;
    const names = new Map(Object.entries(defs).map(([id, def]) => [id, this.#nameOf(id, def)]));
    if (io === 'input') {
      for (const [id, def] of Object.entries(defs)) {
        const name = names.get(id) as string;
        const known = this.schemas[name];
        if (known !== undefined && !same(known, rewriteRefs(def, names))) names.set(id, `${name}Input`);
      }
    }
    for (const [id, def] of Object.entries(defs)) {
      const name = names.get(id) as string;
      const renamed = rewriteRefs(def, names) as Json;
      const known = this.schemas[name];
      if (known === undefined) this.schemas[name] = renamed;
      else if (!same(known, renamed)) throw new Error(`two different schemas are both called '${name}'`);
    }
    return rewriteRefs(root, names) as Json;
  }

  #nameOf(id: string, def: Json): string {
    if (!id.startsWith('__schema')) return id;
    const content = canonical(def, id);
    let name = this.#anonymous.get(content);
    if (name === undefined) {
      name = `Anonymous${this.#anonymous.size}`;
      this.#anonymous.set(content, name);
    }
    return name;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A recursive schema with zod's name for itself replaced, to compare it with another. */
function canonical(schema: Json, selfName: string): string {
  return JSON.stringify(schema).replaceAll(`#/$defs/${selfName}`, '#self');
}

function rewriteRefs(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, names));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (key === '$ref' && typeof item === 'string' && item.startsWith('#/$defs/')) {
        const id = item.slice('#/$defs/'.length);
        return [key, `#/components/schemas/${names.get(id) ?? id}`];
      }
      return [key, rewriteRefs(item, names)];
    }),
  );
}

/** The parameters of a path or query schema: one per property of its object. */
function parametersOf(
  components: Components,
  schema: z.ZodType | undefined,
  where: 'path' | 'query',
): Json[] {
  if (!schema) return [];
  const object = components.convert(schema, 'input') as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (object.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

function jsonContent(schema: Json): Json {
  return { 'application/json': { schema } };
}

function operationOf(components: Components, route: ApiRoute): Json {
  const { contract } = route;
  const responses: Record<string, Json> = {};
  for (const [status, schema] of Object.entries(contract.responses)) {
    // Beside a 202, a 200 is the answer to a repeat: the same request (or idempotency key) again.
    const repeat = status === '200' && contract.responses[202] !== undefined;
    responses[status] = {
      description: repeat ? REPEAT_DESCRIPTION : (SUCCESS_DESCRIPTIONS[status] ?? 'Success'),
      content: jsonContent(components.convert(schema, 'output')),
    };
  }
  if (contract.redirect) {
    responses['302'] = {
      description: 'A redirect: `location` is where to go, the body says what is there',
      headers: { location: { required: true, schema: { type: 'string', format: 'uri' } } },
      content: jsonContent(components.convert(contract.redirect, 'output')),
    };
  }
  for (const status of refusalsOf(route)) {
    responses[status] = { $ref: `#/components/responses/${REFUSALS[status].name}` };
  }
  return {
    operationId: route.id,
    summary: route.description,
    tags: [tagOf(route.path)],
    parameters: [
      ...parametersOf(components, contract.path, 'path'),
      ...parametersOf(components, contract.query, 'query'),
    ],
    ...(contract.body
      ? {
          requestBody: {
            // A route with a body reads an empty one as `{}`: the body is needed only when `{}` is refused.
            required: !contract.body.safeParse({}).success,
            content: jsonContent(components.convert(contract.body, 'input')),
          },
        }
      : {}),
    responses,
    ...(route.public ? { security: [] } : {}),
  };
}

const SUCCESS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  200: 'OK',
  201: 'Created: `location` names it',
  202: 'Accepted: it goes on in the background; `location` is where to follow it',
  204: 'Done, nothing to say',
};

const REPEAT_DESCRIPTION =
  'A repeat of an earlier request (the same `Idempotency-Key`, or task id): its answer again, nothing new started';

/** Operations are grouped by the first segment of their path: `tasks`, `services`, `workflows`... */
function tagOf(path: string): string {
  return path.split('/')[1]?.replace(/\.json$/, '') ?? '';
}

const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The OpenAPI 3.1 document of `routes`. Pure and deterministic: the same routes give the same text. */
export function openApiDocument(routes: readonly ApiRoute[], version: string): Json {
  const components = new Components();
  const sorted = [...routes].sort(
    (a, b) => a.path.localeCompare(b.path) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method),
  );
  // Answers first: a named schema keeps its plain name for its output form, and a request that
  // uses it differently gets `<id>Input`, whatever the order of the routes.
  for (const { contract } of sorted) {
    for (const schema of [...Object.values(contract.responses), contract.redirect]) {
      if (schema) components.convert(schema, 'output');
    }
  }
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of sorted) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, Json>)[route.method.toLowerCase()] = operationOf(components, route);
  }
  const error = components.convert(errorBody, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'VoBee Orchestrator API',
      version,
      description: [
        'The HTTP API of the VoBee Orchestrator, served by API Gateway (HTTP API) on AWS and by `npm start` locally.',
        '',
        'Authentication: on AWS every route but `POST /callbacks/{token}` uses IAM authorisation: requests are signed',
        'with AWS Signature Version 4 (service `execute-api`), as the `vobee` CLI does with the standard credential',
        'chain; the caller needs `execute-api:Invoke`. The local runtime takes unsigned requests. A callback',
        'carries its credential in the path: the token the factory was given.',
        '',
        'Every refusal has the body `{"error": {"type", "message", "issues"?}}`.',
      ].join('\n'),
    },
    tags: [...new Set(sorted.map((route) => tagOf(route.path)))].map((name) => ({ name })),
    security: [{ [SIGV4]: [] }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses: Object.fromEntries(
        Object.values(REFUSALS).map(({ name, description }) => [
          name,
          { description, content: jsonContent(error) },
        ]),
      ),
      securitySchemes: {
        [SIGV4]: {
          type: 'http',
          scheme: 'AWS4-HMAC-SHA256',
          description:
            "AWS Signature Version 4 (IAM authorisation of API Gateway): sign each request for the service `execute-api` in the API's region.",
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
  };
}

/** The package's version: the document's `info.version`. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Generates the document of every manifest route. */
export async function generateOpenApiDocument(): Promise<Json> {
  return openApiDocument(await loadRoutes(), packageVersion());
}

/** Writes the document to {@link OPENAPI_FILE}, formatted as the repository's formatter keeps JSON. */
export async function writeOpenApiDocument(): Promise<string> {
  writeFileSync(OPENAPI_FILE, `${JSON.stringify(await generateOpenApiDocument(), null, 2)}\n`);
  execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', OPENAPI_FILE], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  return OPENAPI_FILE;
}

if (isEntryPoint(import.meta.url)) console.log(`wrote ${await writeOpenApiDocument()}`);
