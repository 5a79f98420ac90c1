import { scheduledJob } from '../../lib/handler/scheduled.ts';
import { selfImprovement } from '../../lib/wiring/improvement.ts';

/** Daily: analyse the last 24 hours and store suggestions. Suggestions only; nothing is applied. */
export const handler = scheduledJob('performance analysis', async () => {
  const { suggestions, created } = await selfImprovement().analyzePerformance(24);
  return { found: suggestions.length, created };
});
