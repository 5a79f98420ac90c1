import { scheduledJob } from '../../lib/handler/scheduled.ts';

/** Daily: analyse the last 24 hours and store suggestions. Suggestions only; nothing is applied. */
export const handler = scheduledJob('performance analysis', async (orchestrator) => {
  const { suggestions, created } = await orchestrator.selfImprovement.analyzePerformance(24);
  return { found: suggestions.length, created };
});
