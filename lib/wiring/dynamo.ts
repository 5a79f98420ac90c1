import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { toDocumentClient } from '../store/client.ts';
import { type BaseDeps, config, memo, now, random, wiring } from './context.ts';

/** The document client of this process: the wiring's, else one for the Lambda's region. */
export const documentClient = memo(() => wiring().doc ?? toDocumentClient(new DynamoDBClient({})));

/** The base of every builder in this process. */
export function baseDeps(): BaseDeps {
  return { doc: documentClient(), tables: config().tables, now, random };
}
