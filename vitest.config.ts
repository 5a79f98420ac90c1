import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/helpers/summary-reporter.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', new SummaryReporter()],
    globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/build-cli.ts'],
    // Handlers run in-process: keep Powertools quiet (no EMF metrics, errors only in the log), and
    // check every answer of every route against the schemas it declares (`lib/handler/http-route.ts`).
    env: { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR', VOBEE_CHECK_RESPONSES: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers only fight over them and over the shared local databases.
    maxWorkers: 2,
  },
});
