import { describe, expect, it } from 'vitest';
import { EXAMPLE_NOTICE } from '../../../lib/local/factories/contract.ts';
import {
  findSector,
  MARKETS,
  researchFactory,
  splitSentences,
  TECHNOLOGIES,
  tokenize,
} from '../../../lib/local/factories/research.ts';
import { actionsOf } from './support.ts';

const { run, rejection } = actionsOf(researchFactory);

const PAPERS = [
  {
    title: 'Routing language models',
    abstract:
      'We study routing of queries across language models. Routing by learned scores beats random routing. ' +
      'Costs drop when small models answer easy queries.',
  },
  {
    title: 'Bandits for model selection',
    abstract:
      'Thompson sampling explores models under uncertainty. Routing with bandits balances cost and quality. ' +
      'We report numbers on three benchmarks.',
  },
];

describe('the bundled example data', () => {
  it('holds a dozen sectors, labelled as made-up example figures, and about thirty technologies', () => {
    expect(MARKETS.sectors).toHaveLength(12);
    expect(MARKETS.notice).toMatch(/example/i);
    expect(new Set(MARKETS.sectors.map((s) => s.id)).size).toBe(12);
    expect(TECHNOLOGIES).toHaveLength(30);
  });

  it('finds a sector by id or alias, ignoring case, spaces and hyphens', () => {
    expect(findSector('Technology')?.id).toBe('technology');
    expect(findSector('real estate')?.id).toBe('real_estate');
    expect(findSector('e-commerce')?.id).toBe('retail');
    expect(findSector('space mining')).toBeUndefined();
  });
});

describe('market_analysis', () => {
  it('briefs a sector from the dataset: summary, figures, rank and trends', async () => {
    const output = await run('market_analysis', { market_sector: 'technology', depth: 'comprehensive' });
    expect(output).toMatchObject({ example: true, notice: EXAMPLE_NOTICE, sector: 'technology' });
    expect(typeof output.summary).toBe('string');
    expect(output.summary).toContain('Technology (example data)');
    const rank = output.growthRank as { rank: number; of: number };
    const faster = MARKETS.sectors.filter((s) => s.cagrPercent > 8.4).length;
    expect(rank).toEqual({ rank: faster + 1, of: 12 });
    const peers = output.peers as Array<{ cagrPercent: number }>;
    expect(peers).toHaveLength(12);
    expect(peers.map((p) => p.cagrPercent)).toEqual(
      [...peers.map((p) => p.cagrPercent)].sort((a, b) => b - a),
    );
    const projection = output.projection as Array<{ year: number; sizeUsdBillions: number }>;
    expect(projection).toHaveLength(5);
    expect(projection[4]?.sizeUsdBillions).toBe(Math.round(5200 * 1.084 ** 5));
  });

  it('says less at smaller depths', async () => {
    const summary = await run('market_analysis', { market_sector: 'energy', depth: 'summary' });
    const standard = await run('market_analysis', { market_sector: 'energy' });
    expect(summary.topTrends).toHaveLength(3);
    expect(summary.segments).toBeUndefined();
    expect(standard.depth).toBe('standard');
    expect(standard.peers).toHaveLength(5);
    expect(standard.risks).toBeUndefined();
  });

  it('gives the same brief for the same input', async () => {
    const input = {
      market_sector: 'healthcare',
      depth: 'comprehensive',
      text: 'Telehealth grew 12% in 2025.',
    };
    expect(await run('market_analysis', input)).toEqual(await run('market_analysis', input));
  });

  it('briefs an unknown sector from the supplied text, and refuses it without text', async () => {
    const output = await run('market_analysis', {
      market_sector: 'space mining',
      text: 'Asteroid mining could grow 30% a year. Mining needs cheap launches. Launch costs fell 12%.',
    });
    expect(output.dataSource).toBe('supplied text');
    expect(output.summary).toMatch(/not in the example dataset.*mining.*30%, 12%/);
    const error = rejection('market_analysis', { market_sector: 'space mining' });
    expect(error?.field).toBe('parameters.market_sector');
    expect(rejection('market_analysis', { market_sector: 'technology', depth: 'deep' })?.field).toBe(
      'parameters.depth',
    );
    expect(rejection('market_analysis', {})?.field).toBe('parameters.market_sector');
  });
});

describe('discover_technology', () => {
  it('ranks the catalogue by keyword match, most relevant first', async () => {
    const output = await run('discover_technology', { query: 'edge AI inference on devices', limit: 3 });
    const matches = output.matches as Array<{ name: string; relevance: number; matchedTerms: string[] }>;
    expect(matches).toHaveLength(3);
    expect(matches[0]?.name).toBe('On-device language models');
    expect(matches[0]?.matchedTerms).toEqual(['edge', 'ai', 'device']);
    const relevances = matches.map((m) => m.relevance);
    expect(relevances).toEqual([...relevances].sort((a, b) => b - a));
    expect(relevances.every((r) => r > 0 && r <= 1)).toBe(true);
    expect(output.summary).toMatch(/closest is On-device language models/);
  });

  it('is deterministic, and says so when nothing matches', async () => {
    const input = { query: 'emerging tech trends' };
    expect(await run('discover_technology', input)).toEqual(await run('discover_technology', input));
    const none = await run('discover_technology', { query: 'medieval tapestry' });
    expect(none.matches).toEqual([]);
    expect(none.summary).toMatch(/^No technology/);
  });

  it('refuses a query without a searchable word, naming the field', () => {
    expect(rejection('discover_technology', { query: 'the of and' })?.field).toBe('parameters.query');
    expect(rejection('discover_technology', { query: 'ai', limit: 0 })?.field).toBe('parameters.limit');
  });
});

describe('analyze_papers', () => {
  it('counts keywords across papers and summarises with the sentences that share the most', async () => {
    const output = await run('analyze_papers', { papers: PAPERS, topKeywords: 3, summarySentences: 2 });
    expect(output.documents).toBe(2);
    expect(output.topKeywords).toEqual([
      { word: 'model', count: 5, documents: 2 },
      { word: 'routing', count: 5, documents: 2 },
      { word: 'bandit', count: 2, documents: 1 },
    ]);
    // Shares routing and model (and opens its abstract); shares routing and bandit.
    expect(output.summary).toBe(
      'We study routing of queries across language models. Routing with bandits balances cost and quality.',
    );
    const papers = output.papers as Array<{ title: string; keywords: string[] }>;
    expect(papers.map((p) => p.title)).toEqual(PAPERS.map((p) => p.title));
    expect(papers[0]?.keywords[0]).toBe('routing');
  });

  it('reads a plain text as one document, and gives the same result for the same input', async () => {
    const input = { text: PAPERS.map((p) => p.abstract).join(' ') };
    const output = await run('analyze_papers', input);
    expect(output.documents).toBe(1);
    expect(output.papers).toBeUndefined();
    expect(output).toEqual(await run('analyze_papers', input));
  });

  it('needs papers or a text, naming the field', () => {
    expect(rejection('analyze_papers', {})?.field).toBe('parameters.papers');
    expect(rejection('analyze_papers', { text: '   ' })?.field).toBe('parameters.papers');
    expect(rejection('analyze_papers', { papers: [{ abstract: 'no title' }] })?.field).toBe(
      'parameters.papers.0.title',
    );
  });
});

describe('words', () => {
  it('drops stop words and numbers and folds plurals', () => {
    expect(tokenize('The models and the 2025 studies of queries')).toEqual(['model', 'study', 'query']);
    expect(splitSentences('One. Two!  Three?\nFour')).toEqual(['One.', 'Two!', 'Three?', 'Four']);
  });
});
