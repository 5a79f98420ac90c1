import { scheduledJob } from '../../lib/handler/scheduled.ts';
import { rollUp } from '../../lib/wiring/roll-up.ts';

/**
 * Every few minutes: the closed minutes of the call counters go into the all-time and hourly
 * statistics, and finished tasks into the success patterns (see `StatsStore.rollUp`).
 */
export const handler = scheduledJob('statistics roll-up', () => rollUp()());
