import { factoryQuestion } from '../../lib/handler/factory-question.ts';

/** GET /services/{name}/status: the factory's own status (`GET {endpoint}/status`). */
export const handler = factoryQuestion('status');
