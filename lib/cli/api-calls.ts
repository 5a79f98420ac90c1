import type * as z from 'zod';
import * as responses from '../handler/api-responses.ts';
import { type ApiCall, apiPath, type RequestOptions } from './client.ts';

/**
 * The calls of the API the CLI makes, each typed by the schema its route declares for its answer
 * (`lib/handler/api-responses.ts`): the same schema the handler is checked against and the OpenAPI
 * document describes, so a change of shape there is a type error here. A command sends one with
 * `client.call(api.getTask(id))`; calls not listed yet go through `client.request<T>`.
 */
export const api = {
  submitTask: (body: Record<string, unknown>, headers?: Record<string, string>) =>
    call('POST', '/tasks', responses.taskRecord, { body, headers }),
  getTask: (taskId: string) => call('GET', apiPath('tasks', taskId), responses.taskRecord),
  listServices: () => call('GET', '/services', responses.serviceList),
  getWorkflow: (workflowId: string, version?: number) =>
    call('GET', apiPath('workflows', workflowId), responses.workflowDetail, {
      query: { version: version === undefined ? undefined : String(version) },
    }),
  startExecution: (workflowId: string, input: Record<string, unknown>, headers?: Record<string, string>) =>
    call('POST', apiPath('workflows', workflowId, 'executions'), responses.execution, {
      body: { input },
      headers,
    }),
  getExecution: (executionId: string) => call('GET', apiPath('executions', executionId), responses.execution),
  activePolicy: () => call('GET', '/routing/policy', responses.activePolicy),
  policyVersion: (version: number) =>
    call('GET', apiPath('routing', 'policies', String(version)), responses.policyVersion),
  listPolicies: () => call('GET', '/routing/policies', responses.policyList),
  replay: (body: Record<string, unknown>) =>
    call('POST', '/routing/replay', responses.replayReport, { body }),
  setPolicy: (body: Record<string, unknown>) =>
    call('PUT', '/routing/policy', responses.policyVersion, { body }),
  activatePolicy: (version: number, body: Record<string, unknown>) =>
    call('POST', apiPath('routing', 'policies', String(version), 'activate'), responses.activePolicy, {
      body,
    }),
} as const;

/** The body a call of {@link api} answers with, e.g. `Answer<'getTask'>`. */
export type Answer<K extends keyof typeof api> = z.output<ReturnType<(typeof api)[K]>['answers']>;

function call<S extends z.ZodType>(
  method: ApiCall<S>['method'],
  path: string,
  answers: S,
  options?: RequestOptions,
): ApiCall<S> {
  return { method, path, answers, ...(options === undefined ? {} : { options }) };
}
