import { HttpFactoryClient } from '../factories/http-factory-client.ts';
import { config, memo, wiring } from './context.ts';

/**
 * The factory client: the wiring's, else HTTP, connecting only to addresses the endpoint policy
 * allows (with the configured private endpoints). Task calls, workflow steps, the status and
 * capabilities questions and the health probes all go through it.
 */
export const factoryClient = memo(
  () => wiring().factories ?? new HttpFactoryClient({ allowed: config().allowedPrivateEndpoints }),
);
