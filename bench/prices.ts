/**
 * AWS list prices used by the cost model: region us-east-1 (N. Virginia), Lambda on arm64, the
 * first (lowest-volume) tier of every tiered price, free tiers ignored.
 *
 * These are list prices as of the date in `asOf` and must be checked against the AWS pricing
 * pages before anyone quotes a figure from this report: prices change, and tiers, free tiers,
 * Savings Plans or private pricing all move a real bill away from these numbers.
 */
export interface PriceTable {
  asOf: string;
  region: string;
  currency: 'USD';
  sources: readonly string[];
  stepFunctions: {
    /** Standard workflows: per state transition (retries included). */
    standardPerTransition: number;
    /** Express workflows: per execution started. */
    expressPerRequest: number;
    /** Express workflows: per GB-second, memory in 64 MB chunks, duration rounded up to 100 ms. */
    expressPerGbSecond: number;
    expressMemoryChunkMb: number;
    expressDurationStepMs: number;
  };
  lambda: {
    architecture: 'arm64';
    perRequest: number;
    /**
     * Billed per 1 ms of duration times configured memory. Since `initBilledFrom` the INIT phase
     * (a cold start) of on-demand ZIP functions on managed runtimes is billed the same way.
     */
    perGbSecond: number;
    initBilledFrom: string;
  };
  dynamodb: {
    /** On-demand capacity mode, standard table class. */
    perWriteRequestUnit: number;
    perReadRequestUnit: number;
  };
  apiGateway: {
    /** HTTP API, first 300 million requests a month; metered in 512 KB increments. */
    httpApiPerRequest: number;
  };
  sqs: {
    /** Standard queue, per request (64 KB chunks); the first million a month are free, ignored here. */
    standardPerRequest: number;
  };
  cloudWatchLogs: {
    /**
     * Standard log class, per GB ingested (Lambda logs are "vended logs" since May 2025: this is
     * their first tier, up to 10 TB a month). Storage and queries are not counted.
     */
    ingestionPerGb: number;
    /** The GB the price is per: 2^30 bytes. */
    bytesPerGb: number;
  };
}

export const PRICES: PriceTable = {
  asOf: '2025-08-01',
  region: 'us-east-1',
  currency: 'USD',
  sources: [
    'https://aws.amazon.com/step-functions/pricing/',
    'https://aws.amazon.com/lambda/pricing/',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    'https://aws.amazon.com/api-gateway/pricing/',
    'https://aws.amazon.com/sqs/pricing/',
    'https://aws.amazon.com/cloudwatch/pricing/',
    'https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/',
  ],
  stepFunctions: {
    standardPerTransition: 0.025 / 1_000,
    expressPerRequest: 1.0 / 1_000_000,
    // $0.06 per GB-hour for the first 1,000 GB-hours a month.
    expressPerGbSecond: 0.06 / 3_600,
    expressMemoryChunkMb: 64,
    expressDurationStepMs: 100,
  },
  lambda: {
    architecture: 'arm64',
    perRequest: 0.2 / 1_000_000,
    // First 7.5 billion GB-seconds a month.
    perGbSecond: 0.0000133334,
    initBilledFrom: '2025-08-01',
  },
  dynamodb: {
    // On-demand prices after the November 2024 reduction.
    perWriteRequestUnit: 0.625 / 1_000_000,
    perReadRequestUnit: 0.125 / 1_000_000,
  },
  apiGateway: {
    httpApiPerRequest: 1.0 / 1_000_000,
  },
  sqs: {
    standardPerRequest: 0.4 / 1_000_000,
  },
  cloudWatchLogs: {
    ingestionPerGb: 0.5,
    bytesPerGb: 1_024 ** 3,
  },
};
