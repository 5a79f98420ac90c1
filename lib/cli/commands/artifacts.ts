import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ArtifactRef } from '../../core/artifacts.ts';
import { paths } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { formatFields } from '../format.ts';
import { addCommand, type CliState, subject } from './common.ts';

/** What `GET /artifacts/{id}` answers besides its redirect. */
interface ArtifactDownload {
  artifact: ArtifactRef;
  url: string;
}

/** Registers `artifacts get`. */
export function registerArtifactCommands(program: Command, state: CliState): void {
  const artifacts = program.command('artifacts').description('outputs kept by reference (above 64 KiB)');

  addCommand(artifacts, state, {
    name: 'get',
    description: 'download an artifact to a file, checking its size and sha256',
    subject: subject(
      '<id>',
      'artifact id, from an output\'s {"artifact": {"id"}}',
      paths.artifactId,
      'artifactId',
      "Check the id: artifacts expire after the stage's retention (30 days by default).",
    ),
    setup: (c) => c.requiredOption('-o, --output <file>', 'where to write the artifact'),
    run: async (ctx, id: string, flags: { output: string }) => {
      const { body } = await ctx.client.request<ArtifactDownload>('GET', apiPath('artifacts', id), {
        redirect: 'manual',
      });
      // The presigned URL is its own credential: it is fetched unsigned.
      const response = await ctx.io.fetch(body.url);
      if (!response.ok || !response.body)
        throw new Error(`download of artifact '${id}' failed: HTTP ${response.status}`);
      const partial = `${flags.output}.partial`;
      const hash = createHash('sha256');
      let bytes = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(Readable.fromWeb(response.body as never), counted, createWriteStream(partial));
        const sha256 = hash.digest('hex');
        if (bytes !== body.artifact.bytes || sha256 !== body.artifact.sha256) {
          throw new Error(
            `artifact '${id}' arrived as ${bytes} bytes with sha256 ${sha256}, not ${body.artifact.bytes} bytes with sha256 ${body.artifact.sha256}; nothing was written`,
          );
        }
        await rename(partial, flags.output);
      } finally {
        await rm(partial, { force: true });
      }
      ctx.result(body.artifact, () =>
        formatFields(
          [
            ['Artifact', body.artifact.id],
            ['Type', body.artifact.mimeType],
            ['Bytes', body.artifact.bytes],
            ['sha256', body.artifact.sha256],
            ['Written', flags.output],
          ],
          ctx.style,
        ),
      );
    },
  });
}
