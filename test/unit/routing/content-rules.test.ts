import { describe, expect, it } from 'vitest';
import {
  contentBased,
  EXAMPLE_RULES,
  matchRule,
  type RoutingRule,
  type RoutingRuleInput,
  routingRuleSchema,
  ruleMatches,
} from '../../../lib/core/routing/content-rules.ts';
import type { Admission } from '../../../lib/core/routing/strategy.ts';
import { validationError } from '../../helpers/errors.ts';
import { makeContext, makeService, makeTask } from '../support.ts';

const services = [
  makeService('media', { capabilities: ['anything'] }),
  makeService('image-gen', { factoryType: 'media', capabilities: ['image_generation'] }),
  makeService('research', { capabilities: ['anything'] }),
  makeService('trend-scout', { factoryType: 'research', capabilities: ['market_research'] }),
  makeService('generalist', { capabilities: ['image_generation', 'market_research'] }),
];

function admitted(admission: Admission): string[] {
  return services.filter((s) => admission.accepts(s)).map((s) => s.name);
}

const rule = (input: Partial<RoutingRuleInput> & Pick<RoutingRuleInput, 'when'>): RoutingRule =>
  routingRuleSchema.parse({ id: 'r', name: 'rule', target: 'media', ...input });

function admissionOf(strategy: ReturnType<typeof contentBased>, task: Parameters<typeof makeTask>[0]) {
  const admission = strategy.admission?.(makeTask(task));
  expect(admission).toBeDefined();
  return admission as Admission;
}

describe('content-based routing: the seed example', () => {
  const strategy = contentBased({ rules: EXAMPLE_RULES, defaultTarget: 'media' });

  it('sends image generation to the media services only', () => {
    const admission = admissionOf(strategy, { type: 'image_generation', keywords: ['image', 'generate'] });
    expect(admitted(admission)).toEqual(['media', 'image-gen']);
    expect(admission.rule).toEqual({
      id: 'media-keywords',
      name: 'Media generation words go to the media factory',
      priority: 10,
    });
    expect(admission.describe).toBe(
      "rule 'media-keywords' (Media generation words go to the media factory) sends it to media",
    );
  });

  it('sends market research to the research services only', () => {
    const admission = admissionOf(strategy, { type: 'market_research', keywords: ['market', 'analysis'] });
    expect(admitted(admission)).toEqual(['research', 'trend-scout']);
    expect(admission.rule?.id).toBe('research-keywords');
  });

  it('matches keywords case-insensitively', () => {
    const admission = admissionOf(strategy, { type: 'market_research', keywords: ['Market', 'TRENDS'] });
    expect(admitted(admission)).toEqual(['research', 'trend-scout']);
  });

  it('uses the default target when no rule matches', () => {
    const admission = admissionOf(strategy, { type: 'market_research', keywords: ['weather'] });
    expect(admitted(admission)).toEqual(['media', 'image-gen']);
    expect(admission.rule).toBeUndefined();
    expect(admission.describe).toBe('no rule matched, default target media');
  });

  it('admits nothing when no rule matches and there is no default target', () => {
    const noDefault = contentBased({ rules: EXAMPLE_RULES });
    const admission = admissionOf(noDefault, { type: 'market_research', keywords: [] });
    expect(admitted(admission)).toEqual([]);
    expect(admission.describe).toBe('no content rule matched and no default target is set');
  });

  it('is named content', () => {
    expect(strategy.name).toBe('content');
  });
});

describe('rule priority', () => {
  it('lets the higher priority rule win, whatever the list order', () => {
    const rules: RoutingRuleInput[] = [
      { id: 'low', name: 'low', when: { keywordsAny: ['video'] }, target: 'media', priority: 1 },
      {
        id: 'high',
        name: 'high',
        when: { taskTypes: ['market_research'] },
        target: 'research',
        priority: 50,
      },
    ];
    const task = { type: 'market_research', keywords: ['video'] };
    expect(admissionOf(contentBased({ rules }), task).rule?.id).toBe('high');
    expect(admissionOf(contentBased({ rules: [...rules].reverse() }), task).rule?.id).toBe('high');
    expect(admitted(admissionOf(contentBased({ rules }), task))).toEqual(['research', 'trend-scout']);
  });

  it('keeps the first rule in list order among equal priorities', () => {
    const a = rule({ id: 'a', when: { keywordsAny: ['x'] }, target: 'media' });
    const b = rule({ id: 'b', when: { keywordsAny: ['x'] }, target: 'research' });
    const task = makeTask({ keywords: ['x'] });
    expect(matchRule([a, b], task)?.id).toBe('a');
    expect(matchRule([b, a], task)?.id).toBe('b');
  });

  it('ignores rules that do not match, however high their priority', () => {
    const loud = rule({ id: 'loud', when: { keywordsAny: ['nope'] }, priority: 1_000 });
    const quiet = rule({ id: 'quiet', when: { keywordsAny: ['x'] }, priority: 0 });
    expect(matchRule([loud, quiet], makeTask({ keywords: ['x'] }))?.id).toBe('quiet');
    expect(matchRule([loud], makeTask({ keywords: ['x'] }))).toBeUndefined();
    expect(matchRule([], makeTask())).toBeUndefined();
  });
});

describe('ruleMatches', () => {
  it('checks task types and actions', () => {
    const byType = rule({ when: { taskTypes: ['a', 'b'] } });
    expect(ruleMatches(byType, makeTask({ type: 'b' }))).toBe(true);
    expect(ruleMatches(byType, makeTask({ type: 'c' }))).toBe(false);
    const byAction = rule({ when: { actions: ['render'] } });
    expect(ruleMatches(byAction, makeTask({ action: 'render' }))).toBe(true);
    expect(ruleMatches(byAction, makeTask({ action: 'upload' }))).toBe(false);
    expect(ruleMatches(byAction, makeTask())).toBe(false);
  });

  it('checks any-of and all-of keywords', () => {
    const any = rule({ when: { keywordsAny: ['Image', 'video'] } });
    expect(ruleMatches(any, makeTask({ keywords: ['IMAGE'] }))).toBe(true);
    expect(ruleMatches(any, makeTask({ keywords: ['images'] }))).toBe(false);
    expect(ruleMatches(any, makeTask({ keywords: [] }))).toBe(false);
    const all = rule({ when: { keywordsAll: ['market', 'analysis'] } });
    expect(ruleMatches(all, makeTask({ keywords: ['analysis', 'Market', 'extra'] }))).toBe(true);
    expect(ruleMatches(all, makeTask({ keywords: ['market'] }))).toBe(false);
  });

  it('compares parameters strictly', () => {
    const r = rule({ when: { parameters: { tier: 'gold', batch: 10, dryRun: false } } });
    expect(ruleMatches(r, makeTask({ parameters: { tier: 'gold', batch: 10, dryRun: false, x: 1 } }))).toBe(
      true,
    );
    expect(ruleMatches(r, makeTask({ parameters: { tier: 'gold', batch: '10', dryRun: false } }))).toBe(
      false,
    );
    expect(ruleMatches(r, makeTask({ parameters: { tier: 'gold', batch: 10 } }))).toBe(false);
  });

  it('requires every stated condition', () => {
    const r = rule({ when: { taskTypes: ['image_generation'], keywordsAny: ['image'] } });
    expect(ruleMatches(r, makeTask({ type: 'image_generation', keywords: ['image'] }))).toBe(true);
    expect(ruleMatches(r, makeTask({ type: 'image_generation', keywords: ['text'] }))).toBe(false);
    expect(ruleMatches(r, makeTask({ type: 'video_generation', keywords: ['image'] }))).toBe(false);
  });
});

describe('rule validation', () => {
  it('rejects a rule with an empty condition', () => {
    const error = validationError(() =>
      contentBased({ rules: [{ id: 'empty', name: 'Empty', when: {}, target: 'media' }] }),
    );
    expect(error.issues).toEqual([{ field: 'rules.0.when', message: 'must state at least one condition' }]);
  });

  it('rejects a condition whose only parts are undefined', () => {
    expect(() =>
      contentBased({ rules: [{ id: 'e', name: 'E', when: { taskTypes: undefined }, target: 'media' }] }),
    ).toThrow('must state at least one condition');
  });

  it.each([
    [{ when: { keywordsAny: [] } }, 'rules.0.when.keywordsAny'],
    [{ when: { keywordsAny: ['x'], colour: 'red' } }, 'rules.0.when'],
    [{ target: 'not ok' }, 'rules.0.target'],
    [{ id: '' }, 'rules.0.id'],
    [{ priority: -1 }, 'rules.0.priority'],
    [{ priority: 1.5 }, 'rules.0.priority'],
  ])('rejects %o, naming %s', (patch, field) => {
    const input = { id: 'r', name: 'R', when: { keywordsAny: ['x'] }, target: 'media', ...patch };
    const error = validationError(() => contentBased({ rules: [input as RoutingRuleInput] }));
    expect(error.issues.map((i) => i.field)).toContain(field);
  });

  it('rejects an invalid default target', () => {
    const error = validationError(() => contentBased({ rules: [], defaultTarget: 'has space' }));
    expect(error.issues[0]?.field).toBe('defaultTarget');
  });
});

describe('content-based ranking', () => {
  it('orders the admitted candidates by weight, then name, and explains with the rule', async () => {
    const strategy = contentBased({ rules: EXAMPLE_RULES, defaultTarget: 'media' });
    const candidates = [
      makeService('m-b', { factoryType: 'media', weight: 1 }),
      makeService('m-a', { factoryType: 'media', weight: 1 }),
      makeService('m-heavy', { factoryType: 'media', weight: 5 }),
    ];
    const ranking = await strategy.rank(
      candidates,
      makeTask({ type: 'image_generation', keywords: ['image'] }),
      makeContext(),
    );
    expect(ranking.ranked.map((c) => [c.service.name, c.score])).toEqual([
      ['m-heavy', 5],
      ['m-a', 1],
      ['m-b', 1],
    ]);
    expect(ranking.because).toContain("rule 'media-keywords'");
    expect(candidates.map((s) => s.name)).toEqual(['m-b', 'm-a', 'm-heavy']);
  });
});
