import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/helpers/summary-reporter.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', new SummaryReporter()],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Handlers run in-process: keep Powertools quiet (no EMF metrics, errors only in the log).
    env: { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers only fight over them and over the shared local databases.
    maxWorkers: 2,
  },
});
