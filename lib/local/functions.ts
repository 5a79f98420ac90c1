import { resolve } from 'node:path';
import { FUNCTIONS, type FunctionSpec } from '../app.ts';
import { lambdaContext } from './lambda-context.ts';

/** A handler as the manifest's files export it. */
export type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

/** The repository root, where the manifest's entry paths start. */
const ROOT = resolve(import.meta.dirname, '..', '..');

const loaded = new Map<string, Promise<Handler>>();

/** Loads a manifest function's handler (once), from the same file the stack bundles. */
export function loadHandler(spec: FunctionSpec): Promise<Handler> {
  let handler = loaded.get(spec.id);
  if (!handler) {
    handler = import(resolve(ROOT, spec.entry)).then((module: { handler: Handler }) => module.handler);
    loaded.set(spec.id, handler);
  }
  return handler;
}

/** Invokes a manifest function in-process, as Lambda would: event in, result out, a fresh context each time. */
export async function invoke(id: string, event: unknown): Promise<unknown> {
  const spec = FUNCTIONS.find((f) => f.id === id);
  if (!spec) throw new Error(`no function '${id}' in the app manifest`);
  const handler = await loadHandler(spec);
  return handler(event, lambdaContext(spec.id, (spec.timeoutSeconds ?? 10) * 1000));
}

/** Resolves a Task state's `FunctionName` to the manifest function of that id. */
export function localFunction(functionName: string) {
  if (!FUNCTIONS.some((f) => f.id === functionName)) return undefined;
  return (payload: unknown) => invoke(functionName, payload);
}
