import { vi } from 'vitest';

/** An Embedded Metric Format line as Powertools writes it. */
export type EmfLine = Record<string, unknown> & {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
  };
};

/**
 * The EMF lines Powertools writes to stdout from now until the mocks are restored
 * (`vi.restoreAllMocks()`, `vi.unstubAllEnvs()`): the tests' config turns metrics off, this
 * turns them on and reads them back; other output passes through.
 */
export function captureEmf(): EmfLine[] {
  const lines: EmfLine[] = [];
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (!text.includes('"_aws"')) return write(chunk, ...(rest as []));
    for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as EmfLine);
    return true;
  });
  return lines;
}
