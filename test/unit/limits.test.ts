import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/app.ts';
import { PayloadTooLargeError } from '../../lib/core/errors.ts';
import { assertWithin, humanBytes, jsonBytes, LIMITS, overLimitMessage } from '../../lib/core/limits.ts';
import { bodyLimitOf, ROUTE_BODY_LIMITS } from '../../lib/handler/body-limit.ts';
import { caught } from '../helpers/errors.ts';

describe('size limits', () => {
  it('takes a size equal to the limit and refuses one byte more, naming what is limited and the limit', () => {
    expect(() => assertWithin('runInput', 65_536)).not.toThrow();
    const error = caught(() => assertWithin('runInput', 65_537));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toBe(
      'a workflow run input: 65537 bytes is over the limit of 65536 bytes (64 KiB)',
    );
  });

  it('says no size when it is not known (a body whose reading stopped at the limit)', () => {
    expect(overLimitMessage('apiBody')).toBe('an API request body: over the limit of 262144 bytes (256 KiB)');
  });

  it('counts bytes of UTF-8, not characters', () => {
    expect(jsonBytes({ a: 'é' })).toBe(10);
    expect(jsonBytes(undefined)).toBe(4);
  });

  it('writes sizes in their largest whole binary unit', () => {
    expect(humanBytes(262_144)).toBe('256 KiB');
    expect(humanBytes(4 * 1024 * 1024)).toBe('4 MiB');
    expect(humanBytes(5 * 1024 ** 3)).toBe('5 GiB');
    expect(humanBytes(1_500)).toBe('1500 bytes');
    expect(humanBytes(1_536)).toBe('1536 bytes');
  });
});

describe('the body limit of a route', () => {
  const routes = FUNCTIONS.flatMap((f) => (f.route ? [`${f.route.method} ${f.route.path}`] : []));

  it('names only routes of the app manifest', () => {
    expect(Object.keys(ROUTE_BODY_LIMITS).length).toBeGreaterThan(0);
    expect(Object.keys(ROUTE_BODY_LIMITS).filter((key) => !routes.includes(key))).toEqual([]);
  });

  it('is the callback limit for callbacks and the API limit for every other route', () => {
    expect(bodyLimitOf('POST /callbacks/{token}')).toBe('callbackBody');
    const others = routes.filter((r) => r !== 'POST /callbacks/{token}');
    expect(others.length).toBeGreaterThan(20);
    expect(new Set(others.map(bodyLimitOf))).toEqual(new Set(['apiBody']));
    expect(bodyLimitOf(undefined)).toBe('apiBody');
    expect(LIMITS.callbackBody.bytes).toBeGreaterThan(LIMITS.apiBody.bytes);
  });
});
