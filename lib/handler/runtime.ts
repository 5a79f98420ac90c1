import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { readConfig } from '../config.ts';
import { SfnEngine } from '../engine/sfn-engine.ts';
import { createOrchestrator, type Orchestrator } from '../orchestrator.ts';
import { toDocumentClient } from '../store/client.ts';
import { createStores } from '../store/stores.ts';
import { tracer } from './observability.ts';

let current: Orchestrator | undefined;

/**
 * The orchestrator a handler works with, built once per Lambda container from the environment:
 * DynamoDB and Step Functions clients (traced), the stores, the domain services.
 */
export function orchestrator(): Orchestrator {
  if (current) return current;
  const config = readConfig();
  const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
  current = createOrchestrator({
    stores: createStores({ doc: toDocumentClient(dynamo), tables: config.tables }),
    engine: new SfnEngine(tracer.captureAWSv3Client(new SFNClient({})), {
      workflowRoleArn: config.workflowRoleArn,
    }),
    runStepFunction: config.runStepFunction,
    callbackBaseUrl: config.callbackUrl,
    workflowPrefix: config.workflowPrefix,
    deployedWorkflows: config.deployedWorkflows,
    pipelineArn: config.pipelineArn,
    router: { strategy: config.routingStrategy },
    allowedEndpoints: config.allowedPrivateEndpoints,
    callTimeoutMs: config.factoryCallTimeoutMs,
  });
  return current;
}

/** Puts an orchestrator in place for every handler of this process: the local runtime and tests use it. */
export function useOrchestrator(instance: Orchestrator | undefined): void {
  current = instance;
}
