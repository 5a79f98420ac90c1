import * as z from 'zod';
import { identifier } from '../names.ts';
import type { Service } from '../service.ts';
import type { Task } from '../task.ts';
import { parseInput } from '../validation.ts';
import { byName, type RoutingStrategy } from './strategy.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A condition on the task; every part that is present must hold. */
export const ruleConditionSchema = z
  .object({
    taskTypes: z.array(identifier).min(1).optional(),
    actions: z.array(identifier).min(1).optional(),
    /** At least one of these words is among the task's keywords (case-insensitive). */
    keywordsAny: z.array(z.string().min(1)).min(1).optional(),
    /** All of these words are among the task's keywords (case-insensitive). */
    keywordsAll: z.array(z.string().min(1)).min(1).optional(),
    /** `parameters.<name>` equals the given value. */
    parameters: z.record(z.string(), scalar).optional(),
  })
  .strict()
  .refine((c) => Object.values(c).some((v) => v !== undefined), 'must state at least one condition');

/** A content rule: when the condition holds, the task goes to `target` (a service name or a factory type). */
export const routingRuleSchema = z
  .object({
    id: identifier,
    name: z.string().min(1).max(200),
    when: ruleConditionSchema,
    target: identifier,
    /** Higher wins when several rules match. */
    priority: z.number().int().min(0).max(1_000_000).default(10),
  })
  .strict();
export type RoutingRule = z.output<typeof routingRuleSchema>;
export type RoutingRuleInput = z.input<typeof routingRuleSchema>;

/** The example rules of the orchestration design: media work to `media`, research work to `research`. */
export const EXAMPLE_RULES: RoutingRuleInput[] = [
  {
    id: 'media-keywords',
    name: 'Media generation words go to the media factory',
    when: { keywordsAny: ['image', 'video', 'audio', 'speech', 'voice'] },
    target: 'media',
  },
  {
    id: 'research-keywords',
    name: 'Research words go to the research factory',
    when: { keywordsAny: ['market', 'research', 'analysis', 'papers', 'trends'] },
    target: 'research',
  },
];

export function ruleMatches(rule: RoutingRule, task: Task): boolean {
  const { when } = rule;
  const words = new Set(task.keywords.map((k) => k.toLowerCase()));
  if (when.taskTypes && !when.taskTypes.includes(task.type)) return false;
  if (when.actions && (task.action === undefined || !when.actions.includes(task.action))) return false;
  if (when.keywordsAny && !when.keywordsAny.some((k) => words.has(k.toLowerCase()))) return false;
  if (when.keywordsAll && !when.keywordsAll.every((k) => words.has(k.toLowerCase()))) return false;
  if (when.parameters) {
    for (const [name, value] of Object.entries(when.parameters)) {
      if (task.parameters[name] !== value) return false;
    }
  }
  return true;
}

/** The highest-priority matching rule; among equal priorities the first in list order. */
export function matchRule(rules: readonly RoutingRule[], task: Task): RoutingRule | undefined {
  return rules.reduce<RoutingRule | undefined>(
    (best, rule) =>
      ruleMatches(rule, task) && (best === undefined || rule.priority > best.priority) ? rule : best,
    undefined,
  );
}

function targets(target: string) {
  return (service: Service) => service.name === target || service.factoryType === target;
}

/**
 * Content-based routing: the winning rule (or the default target when none matches) names a
 * service or a factory type, and only services with that name or type are admitted, whatever
 * capabilities they list: a rule is an operator's explicit decision.
 */
export function contentBased(options: {
  rules: readonly RoutingRuleInput[];
  defaultTarget?: string;
}): RoutingStrategy {
  const rules = parseInput(z.array(routingRuleSchema), options.rules, 'rules');
  const defaultTarget =
    options.defaultTarget === undefined
      ? undefined
      : parseInput(identifier, options.defaultTarget, 'defaultTarget');
  return {
    name: 'content',
    admission(task) {
      const rule = matchRule(rules, task);
      const target = rule?.target ?? defaultTarget;
      if (target === undefined)
        return { accepts: () => false, describe: 'no content rule matched and no default target is set' };
      return {
        accepts: targets(target),
        describe: rule
          ? `rule '${rule.id}' (${rule.name}) sends it to ${target}`
          : `no rule matched, default target ${target}`,
        rule: rule && { id: rule.id, name: rule.name, priority: rule.priority },
      };
    },
    async rank(candidates, task) {
      const admission = this.admission?.(task);
      const ranked = [...candidates]
        .sort((a, b) => b.weight - a.weight || byName(a, b))
        .map((service) => ({ service, score: service.weight }));
      return { ranked, because: admission?.describe ?? 'content rules' };
    },
  };
}
