/** Calling an example factory's actions as its server would, without the server. */
import { type FactoryDefinition, prepareCall } from '../../../lib/local/factories/contract.ts';

type Parameters = Record<string, unknown>;

/** The two ways to call one factory: `run` for an accepted call, `rejection` for a refused one. */
export function actionsOf(factory: FactoryDefinition) {
  const prepare = (action: string, parameters: Parameters, envelope: Parameters = {}) =>
    prepareCall(factory, { action, parameters, taskId: 'task-1', ...envelope });
  return {
    /**
     * Runs one action after validation, with more of the call (an upload offer) when given; fails
     * the test on a 400 or a failed outcome.
     */
    async run(
      action: string,
      parameters: Parameters,
      envelope?: Parameters,
    ): Promise<Record<string, unknown>> {
      const prepared = prepare(action, parameters, envelope);
      if (!prepared.ok) throw new Error(`${prepared.error.field}: ${prepared.error.message}`);
      const { outcome } = await prepared.call.run();
      if (outcome.status !== 'succeeded') throw new Error(outcome.error);
      return outcome.output as Record<string, unknown>;
    },
    /** Why validation refuses the call, or undefined when it accepts it. */
    rejection(action: string, parameters: Parameters, envelope?: Parameters) {
      const prepared = prepare(action, parameters, envelope);
      return prepared.ok ? undefined : prepared.error;
    },
  };
}

/** An upload offer as the orchestrator makes one (nothing is uploaded in these tests). */
export const uploadOffer = {
  url: 'http://127.0.0.1:9/vobee-artifacts/artifacts/0f8fad5b-d9cb-469f-a165-70867728950e?X-Amz-Signature=0',
  method: 'PUT',
  artifact: {
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    uri: 's3://vobee-artifacts/artifacts/0f8fad5b-d9cb-469f-a165-70867728950e',
  },
  expiresAt: '2030-01-01T00:00:00.000Z',
  maxBytes: 5_368_709_120,
};
