import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, type ConsoleBundle } from '../../../lib/console/build.ts';
import { consolePages, type PageResponse } from '../../../lib/console/static-site.ts';

describe('the console bundle', () => {
  let bundle: ConsoleBundle;
  beforeAll(async () => {
    bundle = await buildConsole();
  });
  const serve = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    consolePages(async () => bundle)({ method, path, headers }) as Promise<PageResponse | undefined>;

  it('is one script and one style sheet within 150 KB gzipped', () => {
    const assets = [...bundle.files.keys()].filter((p) => p.startsWith('/assets/'));
    expect(assets.map((p) => p.replace(/-[A-Z0-9]+\./, '.'))).toEqual(
      expect.arrayContaining(['/assets/main.js', '/assets/main.css']),
    );
    expect(bundle.gzipBytes).toBeGreaterThan(5_000);
    expect(bundle.gzipBytes).toBeLessThanOrEqual(150 * 1024);
    console.log(
      `console bundle: ${(bundle.gzipBytes / 1024).toFixed(1)} KB gzipped, built in ${bundle.buildMs} ms`,
    );
  });

  it('serves the page for every console path, and leaves other paths to the API', async () => {
    for (const path of ['/console', '/console/', '/console/runs/abc', '/console/no/such/page']) {
      const page = await serve(path);
      expect(page?.status).toBe(200);
      expect(page?.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page?.headers['cache-control']).toBe('no-cache');
      expect(page?.body.toString()).toContain('<div id="app">');
    }
    expect(await serve('/consoles')).toBeUndefined();
    expect(await serve('/tasks')).toBeUndefined();
  });

  it('serves hashed assets for a year, gzipped when asked', async () => {
    const page = (await serve('/console')) as PageResponse;
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.body.toString())?.[1] as string;
    const plain = (await serve(script)) as PageResponse;
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const zipped = (await serve(script, { 'accept-encoding': 'br, gzip' })) as PageResponse;
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    expect((await serve('/console/assets/missing.js'))?.status).toBe(404);
    expect((await serve('/console/runs', {}, 'POST'))?.status).toBe(405);
    expect((await serve(script, {}, 'HEAD'))?.body.length).toBe(0);
  });
});
