import { factoryQuestion } from '../../lib/handler/factory-question.ts';

/** GET /services/{name}/capabilities: the factory's own list of actions (`GET {endpoint}/capabilities`). */
export const handler = factoryQuestion('capabilities');
