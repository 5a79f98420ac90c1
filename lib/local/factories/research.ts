import * as z from 'zod';
import { defineAction, exampleOutput, type FactoryDefinition } from './contract.ts';
import marketsJson from './data/markets.json' with { type: 'json' };

/**
 * The example research factory: briefs computed from a small bundled dataset and from the text a
 * caller supplies. Word counts and rankings only, so the same input always gives the same output.
 */

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

// ---- words ----------------------------------------------------------------------------------

const STOPWORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being
  below between both but by can could did do does doing down during each few for from further had has
  have having he her here hers him his how if in into is it its itself just me more most my no nor not
  now of off on once only or other our ours out over own same she should so some such than that the
  their theirs them then there these they this those through to too under until up very was we were
  what when where which while who whom why will with would you your yours using use used based new via
  may might must shall upon within without across however thus therefore among per one two three show
  shows shown paper study approach results result propose proposed method methods`.split(/\s+/),
);

/** Crude English stemming: plural endings only, enough to meet "models" with "model". */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** Lowercased, stemmed words of `value` without stop words or bare numbers. */
export function tokenize(value: string, minLength = 3): string[] {
  return (value.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => w.length >= minLength && !STOPWORDS.has(w) && !/^\p{N}+$/u.test(w))
    .map(stem);
}

/** Sentences of `value`: split after . ! ? followed by space, trimmed, empty ones dropped. */
export function splitSentences(value: string): string[] {
  return value
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0);
}

/** Words by count, most frequent first; ties in alphabetical order, so the result is stable. */
function countWords(words: readonly string[]): Array<{ word: string; count: number }> {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts]
    .map(([word, count]) => ({ word, count }))
    .sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
}

function listing(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

// ---- market_analysis --------------------------------------------------------------------------

const sectorSchema = z.object({
  id: z.string(),
  name: z.string(),
  aliases: z.array(z.string()),
  marketSizeUsdBillions: z.number().positive(),
  cagrPercent: z.number(),
  volatility: z.enum(['low', 'medium', 'high']),
  topFiveSharePercent: z.number().min(0).max(100),
  segments: z.array(z.object({ name: z.string(), sharePercent: z.number(), growthPercent: z.number() })),
  trends: z.array(z.object({ name: z.string(), momentum: z.number().min(0).max(100) })).min(1),
  risks: z.array(z.string()),
});
const marketDatasetSchema = z.object({
  notice: z.string(),
  currency: z.string(),
  baseYear: z.number().int(),
  sectors: z.array(sectorSchema).min(1),
});
export type MarketDataset = z.output<typeof marketDatasetSchema>;
type Sector = MarketDataset['sectors'][number];

/** The bundled example dataset: a dozen sectors with made-up figures, checked once at load. */
export const MARKETS: MarketDataset = marketDatasetSchema.parse(marketsJson);

/** The sector named by id or alias, ignoring case, spaces and hyphens. */
export function findSector(name: string, dataset: MarketDataset = MARKETS): Sector | undefined {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return dataset.sectors.find((s) => s.id === key || s.aliases.includes(key));
}

/** How much a market brief says. */
export type Depth = 'summary' | 'standard' | 'comprehensive';

/** Keywords, percentages and sectors mentioned in a supplied text. */
export function textInsights(value: string, dataset: MarketDataset = MARKETS) {
  const words = tokenize(value);
  const mentioned = new Set(words.map((w) => findSector(w, dataset)?.id).filter((id) => id !== undefined));
  return {
    words: words.length,
    sentences: splitSentences(value).length,
    topKeywords: countWords(words).slice(0, 8),
    percentages: (value.match(/-?\d+(?:\.\d+)?(?=\s?%)/g) ?? []).slice(0, 10).map(Number),
    mentionedSectors: [...mentioned].sort(),
  };
}

/**
 * A market brief: the sector's figures from the bundled dataset, its growth rank among all
 * sectors, leading trends and, by depth, segments, peers, risks and a five-year projection.
 * A sector missing from the dataset is briefed from the supplied text alone.
 */
export function analyzeMarket(
  input: { market_sector: string; depth: Depth; text?: string | undefined },
  dataset: MarketDataset = MARKETS,
) {
  const { depth } = input;
  const sector = findSector(input.market_sector, dataset);
  const fromText = input.text?.trim() ? textInsights(input.text, dataset) : undefined;
  const dataNotice = dataset.notice;
  if (!sector) {
    const themes = (fromText?.topKeywords ?? []).slice(0, 3).map((k) => k.word);
    const figures = (fromText?.percentages ?? []).slice(0, 3).map((p) => `${p}%`);
    return exampleOutput({
      sector: input.market_sector,
      depth,
      dataSource: 'supplied text',
      dataNotice,
      summary:
        `'${input.market_sector}' is not in the example dataset; from the supplied text ` +
        `(${fromText?.words ?? 0} words): main themes ${listing(themes) || 'none found'}` +
        `${figures.length > 0 ? `; figures mentioned: ${figures.join(', ')}` : ''}.`,
      textInsights: fromText,
    });
  }

  const ranking = [...dataset.sectors].sort(
    (a, b) => b.cagrPercent - a.cagrPercent || (a.id < b.id ? -1 : 1),
  );
  const rank = ranking.findIndex((s) => s.id === sector.id) + 1;
  const growths = ranking.map((s) => s.cagrPercent);
  const medianGrowth = median(growths);
  const trends = [...sector.trends].sort((a, b) => b.momentum - a.momentum || (a.name < b.name ? -1 : 1));
  const segments = [...sector.segments].sort((a, b) => b.growthPercent - a.growthPercent);
  const projection = [1, 2, 3, 4, 5].map((years) => ({
    year: dataset.baseYear + years,
    sizeUsdBillions: round(sector.marketSizeUsdBillions * (1 + sector.cagrPercent / 100) ** years, 0),
  }));
  const size = new Intl.NumberFormat('en-US').format(sector.marketSizeUsdBillions);
  const fastestSegment = segments[0];
  const summary =
    `${sector.name} (example data): a ${dataset.currency} ${size} billion market growing ` +
    `${sector.cagrPercent}% a year, ranked ${ordinal(rank)} of ${ranking.length} sectors by growth; ` +
    `leading trends: ${listing(trends.slice(0, 3).map((t) => t.name))}.` +
    (depth !== 'summary' && fastestSegment
      ? ` Fastest-growing segment: ${fastestSegment.name} (${fastestSegment.growthPercent}% a year).`
      : '');
  const peer = (s: Sector) => ({
    rank: ranking.indexOf(s) + 1,
    sector: s.id,
    name: s.name,
    cagrPercent: s.cagrPercent,
  });

  return exampleOutput({
    sector: sector.id,
    name: sector.name,
    depth,
    dataSource: 'bundled example dataset',
    dataNotice,
    summary,
    figures: {
      currency: dataset.currency,
      baseYear: dataset.baseYear,
      marketSizeUsdBillions: sector.marketSizeUsdBillions,
      cagrPercent: sector.cagrPercent,
      growthVsMedianPoints: round(sector.cagrPercent - medianGrowth),
      projectedSizeUsdBillions5y: projection.at(-1)?.sizeUsdBillions,
      volatility: sector.volatility,
      topFiveSharePercent: sector.topFiveSharePercent,
    },
    growthRank: { rank, of: ranking.length },
    topTrends: trends.slice(0, depth === 'summary' ? 3 : depth === 'standard' ? 4 : trends.length),
    ...(depth === 'summary'
      ? {}
      : {
          segments,
          peers: (depth === 'standard' ? ranking.slice(0, 5) : ranking).map(peer),
        }),
    ...(depth === 'comprehensive' ? { risks: sector.risks, projection } : {}),
    ...(fromText ? { textInsights: fromText } : {}),
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const marketAnalysis = defineAction({
  description: 'A market brief from the bundled example dataset and optional text',
  parameters: z
    .object({
      market_sector: text(64),
      depth: z.enum(['summary', 'standard', 'comprehensive']).default('standard'),
      text: z.string().max(50_000).optional(),
    })
    .superRefine((p, ctx) => {
      if (!findSector(p.market_sector) && !p.text?.trim())
        ctx.addIssue({
          code: 'custom',
          path: ['market_sector'],
          message: `is not in the example dataset (known: ${MARKETS.sectors.map((s) => s.id).join(', ')}); give text to analyse instead`,
        });
    }),
  run: (p) => analyzeMarket(p),
});

// ---- discover_technology ----------------------------------------------------------------------

/** One entry of the example technology catalogue. */
export interface Technology {
  name: string;
  category: string;
  maturity: 'emerging' | 'growing' | 'mature';
  keywords: readonly string[];
  description: string;
}

const tech = (
  name: string,
  category: string,
  maturity: Technology['maturity'],
  keywords: string,
  description: string,
): Technology => ({ name, category, maturity, keywords: keywords.split(' '), description });

/** A small hand-written catalogue; maturity labels are illustrative, not an assessment. */
export const TECHNOLOGIES: readonly Technology[] = [
  tech(
    'On-device language models',
    'ai',
    'emerging',
    'ai llm language model edge device privacy',
    'Compact language models that run on phones and laptops without a network.',
  ),
  tech(
    'Retrieval-augmented generation',
    'ai',
    'growing',
    'ai llm retrieval search knowledge rag grounding',
    'Answers grounded in documents fetched at question time.',
  ),
  tech(
    'AI agents with tool use',
    'ai',
    'emerging',
    'ai agent automation tool workflow llm orchestration',
    'Models that plan steps and call tools and services to finish a task.',
  ),
  tech(
    'Diffusion image generation',
    'ai',
    'growing',
    'ai image generation media diffusion creative design',
    'Images generated from text prompts by denoising models.',
  ),
  tech(
    'Neural text-to-speech',
    'ai',
    'mature',
    'ai speech voice audio synthesis media accessibility',
    'Natural-sounding speech generated from text.',
  ),
  tech(
    'Vector databases',
    'data',
    'growing',
    'data vector embedding search similarity database',
    'Stores that index embeddings for nearest-neighbour search.',
  ),
  tech(
    'Data lakehouse',
    'data',
    'growing',
    'data analytics warehouse lake table storage',
    'Open table formats that give data lakes warehouse features.',
  ),
  tech(
    'Stream processing',
    'data',
    'mature',
    'data streaming event realtime pipeline analytics',
    'Continuous computation over event streams as they arrive.',
  ),
  tech(
    'Serverless functions',
    'cloud',
    'mature',
    'cloud serverless function lambda event scaling',
    'Code that runs on demand without managing servers.',
  ),
  tech(
    'WebAssembly on the server',
    'cloud',
    'emerging',
    'cloud wasm webassembly runtime portable sandbox edge',
    'Portable sandboxed modules run outside the browser.',
  ),
  tech(
    'Platform engineering on Kubernetes',
    'cloud',
    'mature',
    'cloud kubernetes container platform devops infrastructure',
    'Internal developer platforms built on container orchestration.',
  ),
  tech(
    'Edge computing',
    'cloud',
    'growing',
    'edge cloud latency iot network compute',
    'Computation placed near users and devices to cut latency.',
  ),
  tech(
    'Confidential computing',
    'security',
    'emerging',
    'security privacy enclave encryption cloud trust',
    'Data kept encrypted even while it is being processed.',
  ),
  tech(
    'Passkeys',
    'security',
    'growing',
    'security authentication password identity login',
    'Phishing-resistant sign-in that replaces passwords.',
  ),
  tech(
    'Zero-trust networking',
    'security',
    'growing',
    'security network identity access zero trust',
    'Every request is authenticated, wherever it comes from.',
  ),
  tech(
    'Post-quantum cryptography',
    'security',
    'emerging',
    'security cryptography quantum encryption standard',
    'Encryption designed to resist attacks by quantum computers.',
  ),
  tech(
    'Quantum computing',
    'computing',
    'emerging',
    'quantum computing qubit simulation optimisation research',
    'Machines that compute with qubits for chemistry and optimisation problems.',
  ),
  tech(
    'Neuromorphic chips',
    'hardware',
    'emerging',
    'hardware chip neuromorphic ai energy efficient',
    'Processors that mimic spiking neurons for very low power.',
  ),
  tech(
    'RISC-V processors',
    'hardware',
    'growing',
    'hardware chip processor open risc embedded',
    'An open instruction set spreading from microcontrollers to servers.',
  ),
  tech(
    'Solid-state batteries',
    'energy',
    'emerging',
    'energy battery storage vehicle electric',
    'Batteries with solid electrolytes for higher density and safety.',
  ),
  tech(
    'Green hydrogen electrolysis',
    'energy',
    'emerging',
    'energy hydrogen renewable climate industry fuel',
    'Hydrogen made from water with renewable electricity.',
  ),
  tech(
    'Smart grid software',
    'energy',
    'growing',
    'energy grid software demand renewable utility',
    'Software that balances supply and demand on the power grid.',
  ),
  tech(
    'Private 5G networks',
    'networking',
    'growing',
    'network 5g wireless industry connectivity telecom',
    'Dedicated cellular networks for factories, ports and campuses.',
  ),
  tech(
    'Low-orbit satellite internet',
    'networking',
    'growing',
    'network satellite internet connectivity rural space',
    'Broadband from constellations of low-orbit satellites.',
  ),
  tech(
    'Digital twins',
    'industry',
    'growing',
    'industry simulation twin manufacturing iot maintenance',
    'Live virtual models of machines, plants and cities.',
  ),
  tech(
    'Collaborative robots',
    'industry',
    'growing',
    'industry robot automation manufacturing warehouse',
    'Robots that work safely beside people.',
  ),
  tech(
    'Metal 3D printing',
    'industry',
    'growing',
    'industry 3d printing additive manufacturing metal',
    'Additive manufacturing of metal parts.',
  ),
  tech(
    'mRNA platforms',
    'biotech',
    'growing',
    'biotech health vaccine medicine mrna therapy',
    'Medicines that instruct cells to make proteins.',
  ),
  tech(
    'CRISPR gene editing',
    'biotech',
    'growing',
    'biotech health gene editing genome therapy crispr',
    'Precise changes to DNA for therapies and crops.',
  ),
  tech(
    'Augmented reality glasses',
    'devices',
    'emerging',
    'device augmented reality glasses spatial display wearable',
    'Wearable displays that overlay information on the world.',
  ),
];

/** Each query word meets a technology at its best field: keyword 3, name, category or maturity 2, description 1. */
const FIELD_WEIGHTS = { keywords: 3, name: 2, description: 1 } as const;

/**
 * Scores every catalogue entry against the query words and returns the best matches, most
 * relevant first. Relevance is the score over the best possible score (every word a keyword).
 */
export function discoverTechnology(
  input: { query: string; limit: number },
  catalogue: readonly Technology[] = TECHNOLOGIES,
) {
  const terms = [...new Set(tokenize(input.query, 2))];
  const scored = catalogue.map((entry, order) => {
    const keywords = new Set(entry.keywords.flatMap((k) => tokenize(k, 2)));
    const named = new Set(tokenize(`${entry.name} ${entry.category} ${entry.maturity}`, 2));
    const described = new Set(tokenize(entry.description, 2));
    const matchedTerms: string[] = [];
    let score = 0;
    for (const term of terms) {
      const weight = keywords.has(term)
        ? FIELD_WEIGHTS.keywords
        : named.has(term)
          ? FIELD_WEIGHTS.name
          : described.has(term)
            ? FIELD_WEIGHTS.description
            : 0;
      if (weight > 0) matchedTerms.push(term);
      score += weight;
    }
    return { entry, order, score, matchedTerms };
  });
  const best = terms.length * FIELD_WEIGHTS.keywords;
  const matches = scored
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, input.limit)
    .map(({ entry, score, matchedTerms }) => ({
      name: entry.name,
      category: entry.category,
      maturity: entry.maturity,
      relevance: best > 0 ? round(score / best, 3) : 0,
      matchedTerms,
      description: entry.description,
    }));
  const total = scored.filter((s) => s.score > 0).length;
  const top = matches[0];
  return exampleOutput({
    query: input.query,
    terms,
    considered: catalogue.length,
    matches,
    summary: top
      ? `${total} of ${catalogue.length} example technologies match '${input.query}'; the closest is ${top.name} (${top.maturity}, ${top.category}).`
      : `No technology in the example catalogue of ${catalogue.length} matches '${input.query}'.`,
  });
}

const discoverTechnologyAction = defineAction({
  description: 'Technologies from a bundled example catalogue, ranked by keyword match with the query',
  parameters: z.object({
    query: text(500).refine((q) => tokenize(q, 2).length > 0, 'must contain at least one searchable word'),
    limit: z.number().int().min(1).max(30).default(5),
  }),
  run: (p) => discoverTechnology(p),
});

// ---- analyze_papers ---------------------------------------------------------------------------

/** A paper to analyse; the abstract may be empty, then the title stands for it. */
export interface Paper {
  title: string;
  abstract: string;
}

/**
 * Word statistics over the papers (or a text) and an extractive summary: the sentences sharing
 * the most top keywords, a first sentence winning ties, shown in their original order.
 */
export function analyzePapers(input: {
  papers?: Paper[] | undefined;
  text?: string | undefined;
  topKeywords: number;
  summarySentences: number;
}) {
  const papers = (input.papers ?? []).map((p) => ({
    title: p.title,
    body: p.abstract.trim() || p.title,
    words: tokenize(p.abstract.trim() ? `${p.title} ${p.abstract}` : p.title),
  }));
  const documents: Array<{ body: string; words: string[] }> = [
    ...papers,
    ...(input.text?.trim() ? [{ body: input.text, words: tokenize(input.text) }] : []),
  ];

  const all = documents.flatMap((d) => d.words);
  const keywords = countWords(all)
    .slice(0, input.topKeywords)
    .map(({ word, count }) => ({
      word,
      count,
      documents: documents.filter((d) => d.words.includes(word)).length,
    }));
  const keySet = new Set(keywords.map((k) => k.word));

  const candidates = documents.flatMap((doc, document) =>
    splitSentences(doc.body).map((sentence, position) => {
      const overlap = new Set(tokenize(sentence).filter((w) => keySet.has(w))).size;
      return { document, position, overlap, score: overlap + (position === 0 ? 0.5 : 0), sentence };
    }),
  );
  const chosen = [...candidates]
    .sort((a, b) => b.score - a.score || a.document - b.document || a.position - b.position)
    .slice(0, input.summarySentences)
    .sort((a, b) => a.document - b.document || a.position - b.position)
    .map(({ document, position, overlap, sentence }) => ({
      text: sentence.length > 400 ? `${sentence.slice(0, 399)}…` : sentence,
      document,
      position,
      overlap,
    }));

  return exampleOutput({
    documents: documents.length,
    words: all.length,
    uniqueWords: new Set(all).size,
    topKeywords: keywords,
    summary: chosen.map((s) => s.text).join(' '),
    summarySentences: chosen,
    ...(input.papers
      ? {
          papers: papers.map((d) => ({
            title: d.title,
            words: d.words.length,
            keywords: countWords(d.words)
              .slice(0, 5)
              .map((k) => k.word),
          })),
        }
      : {}),
  });
}

const analyzePapersAction = defineAction({
  description: 'Keyword statistics and an extractive summary of papers or a text',
  parameters: z
    .object({
      papers: z
        .array(z.object({ title: text(500), abstract: z.string().max(20_000).default('') }))
        .min(1)
        .max(50)
        .optional(),
      text: z.string().max(100_000).optional(),
      topKeywords: z.number().int().min(1).max(50).default(10),
      summarySentences: z.number().int().min(1).max(10).default(3),
    })
    .superRefine((p, ctx) => {
      if (!p.papers && !p.text?.trim())
        ctx.addIssue({ code: 'custom', path: ['papers'], message: 'give papers or a non-empty text' });
    }),
  run: analyzePapers,
});

/** The example research factory: market briefs, technology discovery and paper analysis. */
export const researchFactory: FactoryDefinition = {
  name: 'research-factory',
  factoryType: 'research',
  version: '0.1.0',
  actions: {
    market_analysis: marketAnalysis,
    discover_technology: discoverTechnologyAction,
    analyze_papers: analyzePapersAction,
  },
  taskTypes: {
    market_research: 'market_analysis',
    technology_discovery: 'discover_technology',
    paper_analysis: 'analyze_papers',
  },
};
