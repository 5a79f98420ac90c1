import type { Suggestion } from '../self-improvement.ts';
import { parseInput } from '../validation.ts';
import { type RoutingPolicy, routingPolicySchema } from './policy.ts';

/**
 * The policy an accepted suggestion asks for, as a copy of `policy` with its change, or undefined
 * for a suggestion that is not about routing (an investigation is a person's work):
 * - `prefer_service` (shift traffic): the worse service is ejected for that task type;
 * - `disable_service` (eject a service): ejected for every task type;
 * - `increase_timeout` (change retries): the task type's retry policy gets the longer per-attempt timeout;
 * - `rebalance`: the task type is routed by learned routing, which spreads traffic by evidence.
 */
export function policyForSuggestion(
  policy: RoutingPolicy,
  suggestion: Pick<Suggestion, 'id' | 'title' | 'proposedAction'>,
): RoutingPolicy | undefined {
  const draft = structuredClone(policy);
  const p = suggestion.proposedAction.parameters;
  const text = (name: string) => (typeof p[name] === 'string' ? (p[name] as string) : undefined);
  const reason = `suggestion ${suggestion.id}: ${suggestion.title}`.slice(0, 500);
  const taskType = text('taskType');
  switch (suggestion.proposedAction.type) {
    case 'prefer_service': {
      const over = text('over');
      if (!over || !taskType) return undefined;
      const types = draft.ejected[over]?.taskTypes;
      // Already ejected for every type: nothing more to ask.
      if (draft.ejected[over] && types === undefined) return undefined;
      draft.ejected[over] = { taskTypes: [...new Set([...(types ?? []), taskType])], reason };
      break;
    }
    case 'disable_service': {
      const service = text('service');
      if (!service) return undefined;
      draft.ejected[service] = { reason };
      break;
    }
    case 'increase_timeout': {
      const seconds = p.timeoutSeconds;
      if (!taskType || typeof seconds !== 'number') return undefined;
      const current = draft.retry.byTaskType[taskType] ?? draft.retry.default;
      draft.retry.byTaskType[taskType] = { ...current, timeoutSeconds: Math.min(seconds, 86_400) };
      break;
    }
    case 'rebalance': {
      if (!taskType) return undefined;
      draft.strategyByTaskType[taskType] = 'learned';
      break;
    }
    default:
      return undefined;
  }
  return parseInput(routingPolicySchema, draft, 'policy');
}
