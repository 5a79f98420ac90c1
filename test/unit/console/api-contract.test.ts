import { describe, expectTypeOf, it } from 'vitest';
import type * as z from 'zod';
import type * as Console from '../../../console/src/api-types.ts';
import type { serviceSeriesSchema } from '../../../lib/core/service-series.ts';
import type * as Api from '../../../lib/handler/api-responses.ts';

/**
 * The console states the parts of the API's answers it reads (`console/src/api-types.ts`) rather
 * than importing server code into the browser bundle. These checks hold those types to the
 * schemas the routes declare, the ones their answers are checked against and the OpenAPI
 * document describes: an answer the console would misread is a type error here (`npm test`
 * type-checks the tests).
 */
type Answer<S extends z.ZodType> = z.output<S>;

describe('the console reads the answers as the API declares them', () => {
  it('lists and records', () => {
    expectTypeOf<Answer<typeof Api.taskSummary>>().toExtend<Console.TaskSummary>();
    expectTypeOf<Answer<typeof Api.executionSummary>>().toExtend<Console.RunSummary>();
    expectTypeOf<Answer<typeof Api.taskRecord>['attempts'][number]>().toExtend<Console.CallAttempt>();
    expectTypeOf<Answer<typeof Api.callError>>().toExtend<Console.CallError>();
    expectTypeOf<Answer<typeof Api.service>>().toExtend<Console.Service>();
    expectTypeOf<Answer<typeof Api.moduleRecord>>().toExtend<Console.Module>();
    expectTypeOf<Answer<typeof Api.suggestion>>().toExtend<Console.Suggestion>();
    expectTypeOf<Answer<typeof Api.workflowHead>>().toExtend<Console.WorkflowHead>();
    expectTypeOf<Answer<typeof serviceSeriesSchema>['points'][number]>().toExtend<Console.StatsPoint>();
  });

  it('the decision, the route and the run', () => {
    expectTypeOf<Answer<typeof Api.decision>>().toExtend<Console.Decision>();
    expectTypeOf<Answer<typeof Api.routingDecision>>().toExtend<Console.RouteDecision>();
    expectTypeOf<Answer<typeof Api.execution>['steps'][number]>().toExtend<Console.StepRecord>();
    expectTypeOf<Answer<typeof Api.execution>>().toExtend<Console.ExecutionView>();
  });

  it('the routing policy and its replay', () => {
    expectTypeOf<Answer<typeof Api.activePolicy>>().toExtend<Console.ActivePolicy>();
    expectTypeOf<Answer<typeof Api.policyVersion>>().toExtend<Console.PolicyVersion>();
    expectTypeOf<Answer<typeof Api.replayReport>>().toExtend<Console.ReplayReport>();
  });
});
