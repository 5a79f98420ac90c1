import { SelfImprovement } from '../core/self-improvement.ts';
import { RegistryStore } from '../store/registry-store.ts';
import { StatsStore } from '../store/stats-store.ts';
import { SuggestionStore } from '../store/suggestion-store.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** Self-improvement: reads statistics and the registry, writes suggestions only. */
export function buildSelfImprovement(deps: BaseDeps): SelfImprovement {
  const stats = new StatsStore(deps.doc, { table: deps.tables.patterns, random: deps.random, now: deps.now });
  const suggestions = new SuggestionStore(deps.doc, { table: deps.tables.patterns });
  const registry = new RegistryStore(deps.doc, { table: deps.tables.registry });
  return new SelfImprovement({
    windowStats: (from, to) => stats.windowStats(from, to),
    listServices: () => registry.listServices(),
    putSuggestionIfAbsent: (s) => suggestions.putSuggestionIfAbsent(s),
    getSuggestion: (id) => suggestions.getSuggestion(id),
    listSuggestions: () => suggestions.listSuggestions(),
    updateSuggestion: (s, v) => suggestions.updateSuggestion(s, v),
    now: deps.now,
  });
}

export const selfImprovement = memo(() => buildSelfImprovement(baseDeps()));
