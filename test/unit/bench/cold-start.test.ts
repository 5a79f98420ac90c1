import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_TARGET, ESM_REQUIRE_BANNER, lambdaEnvironment } from '../../../bench/cold-start.ts';
import { FUNCTIONS } from '../../../lib/app.ts';

const construct = readFileSync(
  resolve(import.meta.dirname, '../../../cdk/constructs/manifest-function.ts'),
  'utf8',
);

describe('the cold-start bundles', () => {
  it('carry the banner the stack gives its functions', () => {
    expect(construct).toContain(ESM_REQUIRE_BANNER);
  });

  it('target the Node.js runtime the stack deploys', () => {
    const runtime = /Runtime\.NODEJS_(\d+)_X/.exec(construct)?.[1];
    expect(BUNDLE_TARGET).toBe(`node${runtime}`);
  });

  it('load with the table variables of the tables each function touches', () => {
    for (const spec of FUNCTIONS) {
      const env = lambdaEnvironment(spec);
      for (const table of Object.keys(spec.tables))
        expect(env[`VOBEE_TABLE_${table.toUpperCase()}`]).toBeDefined();
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });
});
