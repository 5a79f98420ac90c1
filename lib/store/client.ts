import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The document client every store uses: optional fields that are `undefined` are dropped rather
 * than rejected. The endpoint is the base client's: from its config or, as in every SDK v3
 * client, from `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB`.
 */
export function toDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
