import { meanMs } from '../statistics.ts';
import { type CostEstimate, chargedCosts, expectedCost, serviceEvidence, utility } from './learned.ts';
import { byName, DEFAULT_TUNING, type RankedCandidate, type RoutingStrategy } from './strategy.ts';

/**
 * A service counts as shown below the bar once its expected success plus this many posterior
 * standard deviations is below it. Until then it keeps its place by price: a new or little-used
 * service is tried rather than written off on the 0.5 a uniform prior gives it (the posterior
 * mean of a service that succeeds 95% of the time needs 16 calls to reach 0.9). A bad service
 * (60% success against a bar of 0.9) is shown below after about 11 calls.
 */
export const BAR_MARGIN_SD = 2;

type Standing = 'clears' | 'untested' | 'below';

interface Row {
  service: RankedCandidate['service'];
  /** Posterior mean success under a uniform prior, from the evidence learned routing uses. */
  success: number;
  calls: number;
  standing: Standing;
  cost: CostEstimate | undefined;
  utility: number;
}

/**
 * The cheapest service good enough: candidates are ranked by the expected cost of a call (the
 * mean cost of their costed calls over all time, else their declared `costPerCall`; a service
 * whose cost is unknown comes after every service with a known cost), keeping first those whose
 * expected success, (s + 1) / (n + 2) over the evidence learned routing reads (recent calls with
 * history as a prior), is at least the tuning's `minSuccess`, or that the evidence has not yet
 * shown to be below it (see {@link BAR_MARGIN_SD}); among equal prices the likelier to succeed
 * comes first, then the name. The services shown below the bar follow, by expected utility. When
 * every service is below the bar, all are ranked by expected utility (with the tuning's
 * `costWeight`), and the reason says so.
 *
 * Nothing is drawn: the ranking is a function of the statistics and the registry, so its
 * `probabilities` give the primary 1. `score` is minus the expected cost (USD) of the services
 * ranked by price, the expected utility in the fallback ranking, and absent otherwise.
 */
export const cheapest: RoutingStrategy = {
  name: 'cost',
  async rank(candidates, task, context) {
    if (candidates.length === 0) return { ranked: [], because: 'cost: no candidates' };
    const tuning = context.tuning ?? DEFAULT_TUNING;
    const bar = tuning.minSuccess;
    const allTime = await context.statsFor(task.type);
    const recent = context.recentStatsFor ? await context.recentStatsFor(task.type) : undefined;
    const allTimeBy = new Map(allTime.map((s) => [s.service, s]));
    const recentBy = recent && new Map(recent.map((s) => [s.service, s]));
    const services = [...candidates].sort(byName);
    const costs = services.map((s) => expectedCost(s, allTimeBy.get(s.name)));
    const charged = chargedCosts(costs);
    const rows = services.map((service, i): Row => {
      const evidence = serviceEvidence(service.name, allTimeBy, recentBy);
      const successes = evidence?.successes ?? 0;
      const calls = successes + (evidence?.failures ?? 0);
      const success = (successes + 1) / (calls + 2);
      const plausible = success + BAR_MARGIN_SD * Math.sqrt((success * (1 - success)) / (calls + 3));
      return {
        service,
        success,
        calls,
        standing: success >= bar ? 'clears' : plausible >= bar ? 'untested' : 'below',
        cost: costs[i],
        utility: utility(
          success,
          evidence ? meanMs(evidence) : undefined,
          charged[i] as number,
          tuning.costWeight,
        ),
      };
    });
    const byUtility = (a: Row, b: Row) => b.utility - a.utility || byName(a.service, b.service);
    const admitted = rows.filter((r) => r.standing !== 'below').sort(byPrice);
    const below = rows.filter((r) => r.standing === 'below').sort(byUtility);
    const first = admitted[0];
    if (first === undefined) {
      const top = below[0] as Row;
      return {
        ranked: below.map((r) => ({ service: r.service, score: r.utility })),
        because: `cost: no service reaches expected success ${bar}; ${top.service.name} has the best expected utility ${round(top.utility, 3)} (expected success ${round(top.success, 2)} at ${price(top.cost)})`,
        probabilities: { [top.service.name]: 1 },
      };
    }
    const ranked: RankedCandidate[] = [
      ...admitted.map((r) => (r.cost ? { service: r.service, score: -r.cost.usd } : { service: r.service })),
      ...below.map((r) => ({ service: r.service })),
    ];
    const because =
      first.standing === 'clears'
        ? `cost: ${first.service.name} at ${price(first.cost)} with expected success ${round(first.success, 2)} >= ${bar}`
        : `cost: ${first.service.name} at ${price(first.cost)}, not yet shown below expected success ${bar} (${round(first.success, 2)} after ${Math.round(first.calls)} calls)`;
    return { ranked, because, probabilities: { [first.service.name]: 1 } };
  },
};

/** Known prices first, cheapest first; then the likelier to succeed; then the name. */
function byPrice(a: Row, b: Row): number {
  const pa = a.cost?.usd ?? Number.POSITIVE_INFINITY;
  const pb = b.cost?.usd ?? Number.POSITIVE_INFINITY;
  return (pa === pb ? 0 : pa < pb ? -1 : 1) || b.success - a.success || byName(a.service, b.service);
}

function price(cost: CostEstimate | undefined): string {
  if (cost === undefined) return 'an unknown price';
  return `$${Number(cost.usd.toPrecision(3))}/call${cost.source === 'declared' ? ' (declared)' : ''}`;
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
