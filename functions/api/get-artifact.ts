import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { artifactDownload } from '../../lib/wiring/artifacts.ts';

/** GET /artifacts/{artifactId}: a redirect to a short-lived presigned download URL. */
export const handler = httpRoute({
  path: paths.artifactId,
  redirect: responses.artifactDownload,
  async handle({ path }) {
    const { url, artifact } = await artifactDownload(path.artifactId);
    return { status: 302, body: { artifact, url }, headers: { location: url, 'cache-control': 'no-store' } };
  },
});
