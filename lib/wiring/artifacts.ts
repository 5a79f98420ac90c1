import { S3Client } from '@aws-sdk/client-s3';
import {
  ArtifactCalls,
  type ArtifactRef,
  type ArtifactStore,
  describeArtifact,
  keepOutput,
} from '../core/artifacts.ts';
import type { FactoryCaller } from '../core/factory-call.ts';
import { S3ArtifactStore } from '../store/artifact-store.ts';
import { config, memo, wiring } from './context.ts';

/**
 * The artifact store of this process: the wiring's, else the stack's bucket. Checksums are sent
 * only where S3 requires them, so a presigned PUT carries no checksum the uploader would have to match.
 */
export const artifactStore = memo((): ArtifactStore | undefined => {
  const wired = wiring().artifacts;
  if (wired) return wired;
  const bucket = config().artifactBucket;
  if (!bucket) return undefined;
  const s3 = new S3Client({
    forcePathStyle: config().endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3ArtifactStore(s3, { bucket });
});

/** Factory calls with artifacts when a store is configured (see `ArtifactCalls`). */
export function withArtifacts(factories: FactoryCaller, store: ArtifactStore | undefined): FactoryCaller {
  return store ? new ArtifactCalls(factories, store) : factories;
}

/** What is kept of a callback's output, when a store is configured. */
export function outputKeeper(
  store: ArtifactStore | undefined,
): ((output: unknown) => Promise<unknown>) | undefined {
  return store && ((output) => keepOutput(output, store));
}

/** An artifact and a short-lived URL to download it (404 when unknown). */
export async function artifactDownload(id: string): Promise<{ artifact: ArtifactRef; url: string }> {
  const store = artifactStore();
  if (!store) throw new Error('no artifact store is configured (VOBEE_ARTIFACT_BUCKET)');
  const artifact = await describeArtifact(store, id);
  return { artifact, url: await store.downloadUrl(artifact.id) };
}
