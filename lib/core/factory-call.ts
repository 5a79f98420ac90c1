import type { UploadOffer } from './artifacts.ts';

/** The factory contract as the pipeline sees it: one execute call, its outcome classified. */
export interface FactoryRequest {
  action: string;
  parameters: Record<string, unknown>;
  taskId: string;
  /** The named context the task belongs to, when it has one; `context` is its data. */
  contextId?: string;
  context: Record<string, unknown>;
  /** For long work: where the factory posts its result later, and the token it must send back. */
  callbackUrl?: string;
  taskToken?: string;
  /** Where the factory may upload a large output and answer with its reference (see `artifacts.ts`). */
  upload?: UploadOffer;
}

export type FactoryCallResult =
  /** `cost`: what the factory says the call cost (USD), when it says. */
  | { ok: true; output: unknown; latencyMs: number; accepted?: false; cost?: number | undefined }
  /** The factory took the work (202) and will call back; only when the request gave a callback. */
  | { ok: true; accepted: true; latencyMs: number }
  | {
      ok: false;
      error: { kind: 'timeout' | 'error' | 'rejected'; message: string; status?: number | undefined };
      /** Worth trying the same service again (timeouts, 5xx, 429, network); a 4xx rejection is not. */
      retryable: boolean;
      latencyMs: number;
      /** How long the factory asked to be left alone (`Retry-After` on a 429 or 503), in ms. */
      retryAfterMs?: number | undefined;
    };

/** Calls `POST {endpoint}/execute` of a factory. Implementations never throw for factory failures. */
export interface FactoryCaller {
  execute(endpoint: string, request: FactoryRequest, timeoutMs: number): Promise<FactoryCallResult>;
}
