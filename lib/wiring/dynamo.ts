import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { toDocumentClient } from '../store/client.ts';
import { memo, wiring } from './context.ts';

/** The document client of this process: the wiring's, else one for the Lambda's region. */
export const documentClient = memo(() => wiring().doc ?? toDocumentClient(new DynamoDBClient({})));
