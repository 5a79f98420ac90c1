import * as responses from '../../lib/handler/api-responses.ts';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { replay } from '../../lib/wiring/replay.ts';

/** POST /routing/replay: what a policy would have achieved on the recorded decisions of a window. */
export const handler = httpRoute({
  body: schemas.replay,
  responses: { 200: responses.replayReport },
  async handle({ body }) {
    return { status: 200, body: await replay().run(body) };
  },
});
