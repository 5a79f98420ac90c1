import type { Command } from 'commander';
import { sharedConsoleBundle } from '../../console/build.ts';
import { startConsoleProxy } from '../../console/proxy.ts';
import { addCommand, type CliState, parseNumber, UsageError } from './common.ts';

/** The port after the local API's 3000, so both can run side by side. */
const DEFAULT_PORT = 3001;

/** Registers `console`: the web console on this machine for a deployed API. */
export function registerConsoleCommand(program: Command, state: CliState): void {
  addCommand(program, state, {
    name: 'console',
    description:
      'serve the web console on this machine; its API calls go to --endpoint, signed with your AWS credentials',
    setup: (command) =>
      command
        .option('--port <n>', `local port (default ${DEFAULT_PORT}; 0 picks a free one)`)
        .option('--host <host>', 'local address to listen on', '127.0.0.1')
        .addHelpText(
          'after',
          '\nThe local runtime serves the console itself: npm start, then open http://127.0.0.1:3000/console',
        ),
    run: async (ctx, flags: { port?: string; host: string }) => {
      const { client } = ctx;
      if (client.region === undefined) {
        throw new UsageError(
          `${client.baseUrl.origin} is this machine: the local runtime serves the console itself at ${client.baseUrl.origin}/console`,
          'For a deployed API: vobee console --endpoint https://<api-id>.execute-api.<region>.amazonaws.com',
        );
      }
      const port = parseNumber('--port', flags.port, { integer: true }) ?? DEFAULT_PORT;
      if (port < 0 || port > 65_535) throw new UsageError(`--port: expected 0 to 65535, got ${port}`);
      // Credentials are looked for now, so a missing profile is said at once rather than on the first page.
      await client.sign('GET', client.url('/services'), {}, undefined);
      const [proxy] = await Promise.all([
        startConsoleProxy({
          client,
          port,
          host: flags.host,
          bundle: sharedConsoleBundle,
          fetch: ctx.io.fetch,
        }),
        sharedConsoleBundle(),
      ]);
      ctx.print(
        `VoBee console  ${proxy.url}\n` +
          `API            ${client.baseUrl.href} (requests signed for execute-api in ${client.region})\n` +
          'Press Ctrl-C to stop.',
      );
      await untilStopped();
      await proxy.close();
    },
  });
}

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
