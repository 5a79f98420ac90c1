import { describe, expect, it } from 'vitest';
import { routingPolicySchema } from '../../../lib/core/routing/policy.ts';
import { policyForSuggestion } from '../../../lib/core/routing/suggested-policy.ts';

const base = routingPolicySchema.parse({
  defaultStrategy: 'capability',
  ejected: { old: { reason: 'gone' } },
});
const suggestion = (type: string, parameters: Record<string, unknown>) => ({
  id: 'sug_1',
  title: 'a title',
  proposedAction: { type, description: 'd', parameters },
});

describe('policyForSuggestion', () => {
  it('shifts traffic by ejecting the worse service for that task type only', () => {
    const draft = policyForSuggestion(
      base,
      suggestion('prefer_service', { taskType: 'email', prefer: 'a', over: 'b' }),
    );
    expect(draft?.ejected.b).toEqual({ taskTypes: ['email'], reason: 'suggestion sug_1: a title' });
    // Another type for the same service adds to the list.
    const again = policyForSuggestion(
      draft as typeof base,
      suggestion('prefer_service', { taskType: 'sms', prefer: 'a', over: 'b' }),
    );
    expect(again?.ejected.b?.taskTypes).toEqual(['email', 'sms']);
    expect(base.ejected.b).toBeUndefined(); // the active policy is left as it was
  });

  it('ejects a service for every task type, and lengthens a task type timeout from the default policy', () => {
    expect(policyForSuggestion(base, suggestion('disable_service', { service: 'x' }))?.ejected.x).toEqual({
      reason: 'suggestion sug_1: a title',
    });
    const longer = policyForSuggestion(
      base,
      suggestion('increase_timeout', { taskType: 'video', service: 'v', timeoutSeconds: 120 }),
    );
    expect(longer?.retry.byTaskType.video).toEqual({ ...base.retry.default, timeoutSeconds: 120 });
    expect(
      policyForSuggestion(base, suggestion('rebalance', { taskType: 'email' }))?.strategyByTaskType,
    ).toEqual({
      email: 'learned',
    });
  });

  it('makes no draft for a suggestion that is not about routing, or misses what it needs', () => {
    expect(policyForSuggestion(base, suggestion('investigate_service', { service: 'x' }))).toBeUndefined();
    expect(policyForSuggestion(base, suggestion('prefer_service', { prefer: 'a' }))).toBeUndefined();
    expect(policyForSuggestion(base, suggestion('increase_timeout', { taskType: 'video' }))).toBeUndefined();
    // A service already ejected everywhere needs nothing more.
    expect(
      policyForSuggestion(
        base,
        suggestion('prefer_service', { taskType: 'email', prefer: 'a', over: 'old' }),
      ),
    ).toBeUndefined();
  });
});
