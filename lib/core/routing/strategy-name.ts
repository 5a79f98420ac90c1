import * as z from 'zod';

/** The routing strategies a task or the router's default can name. */
export const STRATEGY_NAMES = [
  'round-robin',
  'random',
  'least-loaded',
  'weighted',
  'capability',
  'priority',
  'content',
  'learned',
  'cost',
] as const;
export const strategyName = z.enum(STRATEGY_NAMES);
export type StrategyName = z.output<typeof strategyName>;
