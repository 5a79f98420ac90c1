import { HttpFactoryClient } from '../factories/http-factory-client.ts';
import { memo, wiring } from './context.ts';

/** The factory client: the wiring's, else HTTP. */
export const factoryClient = memo(() => wiring().factories ?? new HttpFactoryClient());
