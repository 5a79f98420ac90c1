import { Command, CommanderError, Help } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { isEntryPoint } from '../entry-point.ts';
import {
  ApiError,
  ClientConfigError,
  CredentialsError,
  DEFAULT_ENDPOINT,
  UnreachableError,
} from './client.ts';
import { registerArtifactCommands } from './commands/artifacts.ts';
import {
  type CliIO,
  type CliState,
  commandPath,
  EXIT_CODE_MEANINGS,
  EXIT_CODES,
  type ExitCode,
  ExplainedApiError,
  UsageError,
} from './commands/common.ts';
import { registerConsoleCommand } from './commands/console.ts';
import { registerContextCommands } from './commands/contexts.ts';
import { registerImprovementCommands } from './commands/improvement.ts';
import { registerMemoryCommands } from './commands/memory.ts';
import { registerModuleCommands } from './commands/modules.ts';
import { registerPerformanceCommand } from './commands/performance.ts';
import { registerRoutingCommands } from './commands/routing.ts';
import { registerServiceCommands } from './commands/services.ts';
import { registerSuggestionCommands } from './commands/suggestions.ts';
import { registerTaskCommands } from './commands/task.ts';
import { registerWorkflowCommands } from './commands/workflows.ts';

export { type CliIO, EXIT_CODE_MEANINGS, EXIT_CODES, type ExitCode };

/** The version `vobee --version` prints: the package's, bundled into the built command. */
export const VERSION: string = packageJson.version;

const EPILOG = `
Global options go before the command (vobee --json services list) or after it.

Exit codes:
${Object.entries(EXIT_CODE_MEANINGS)
  .map(([code, text]) => `  ${code}  ${text}`)
  .join('\n')}

Environment:
  VOBEE_ENDPOINT  API base URL when --endpoint is not given (default ${DEFAULT_ENDPOINT}, the local runtime)
  AWS_REGION      region for signing; requests to a non-loopback endpoint are signed with SigV4
                  (service execute-api) using the standard AWS credential chain
  NO_COLOR        no colour in tables (there is none either when output is not a terminal)`;

/** Builds the command tree for one run; nothing is shared between runs. */
export function createProgram(state: CliState): Command {
  const { io } = state;
  const program = new Command('vobee')
    .description('Command line for the VoBee Orchestrator API')
    // Options before the command belong to the program, those after it to the command:
    // `services register --endpoint` is the service's URL, not the API's.
    .enablePositionalOptions()
    .option('--endpoint <url>', `API base URL (default: VOBEE_ENDPOINT, else ${DEFAULT_ENDPOINT})`)
    .option('--region <region>', 'AWS region for request signing (default: AWS_REGION)')
    .option('--json', 'print the raw JSON response, for scripts')
    .version(VERSION, '-v, --version', 'print the version of vobee')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .configureHelp({
      showGlobalOptions: true,
      visibleCommands(command) {
        const direct = Help.prototype.visibleCommands.call(this, command);
        if (command.parent) return direct;
        return direct.flatMap((c) =>
          c.commands.length > 0
            ? Help.prototype.visibleCommands.call(this, c).filter((s) => s.name() !== 'help')
            : [c],
        );
      },
      subcommandTerm(command) {
        // Each command listed by its full path, so `vobee --help` shows every command at once.
        const prefix = command.parent ? commandPath(command.parent) : '';
        const term = Help.prototype.subcommandTerm.call(this, command);
        return prefix ? `${prefix} ${term}` : term;
      },
    })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('after', EPILOG);

  registerTaskCommands(program, state);
  registerServiceCommands(program, state);
  registerModuleCommands(program, state);
  registerRoutingCommands(program, state);
  registerMemoryCommands(program, state);
  registerPerformanceCommand(program, state);
  registerContextCommands(program, state);
  registerArtifactCommands(program, state);
  registerSuggestionCommands(program, state);
  registerImprovementCommands(program, state);
  registerWorkflowCommands(program, state);
  registerConsoleCommand(program, state);
  return program;
}

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns the exit code;
 * it never exits the process itself.
 */
export async function main(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const fullIO: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    fetch: globalThis.fetch,
    ...io,
  };
  const state: CliState = { io: fullIO, exitCode: EXIT_CODES.ok };
  try {
    await createProgram(state).parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (error) {
    return report(error, fullIO);
  }
}

/** Writes one or two lines about what went wrong and what to do, and picks the exit code. */
function report(error: unknown, io: CliIO): ExitCode {
  const say = (message: string, hint?: string) => {
    io.stderr.write(`error: ${message}\n${hint ? `${hint}\n` : ''}`);
  };
  if (error instanceof CommanderError) {
    // Commander has printed its own message (or the help) already.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_CODES.ok;
    return EXIT_CODES.usage;
  }
  if (error instanceof UsageError) {
    say(error.message, error.hint);
    return EXIT_CODES.usage;
  }
  if (error instanceof ClientConfigError) {
    say(error.message);
    return EXIT_CODES.usage;
  }
  if (error instanceof UnreachableError) {
    say(
      `cannot reach the VoBee API at ${error.url} (${error.reason})`,
      error.loopback
        ? 'Start the local runtime with `npm start`, or point --endpoint / VOBEE_ENDPOINT at a deployed API.'
        : 'Check --endpoint / VOBEE_ENDPOINT and the network.',
    );
    return EXIT_CODES.unreachable;
  }
  if (error instanceof CredentialsError) {
    say(
      error.message,
      'Configure AWS credentials (AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).',
    );
    return EXIT_CODES.unexpected;
  }
  if (error instanceof ApiError) {
    const hint = error instanceof ExplainedApiError ? error.hint : undefined;
    switch (error.status) {
      case 404:
        say(error.message, hint);
        return EXIT_CODES.notFound;
      case 409:
        say(error.message, hint);
        return EXIT_CODES.conflict;
      case 400:
      case 413:
      case 422:
        say(`the API refused the request: ${error.message}`, hint);
        return EXIT_CODES.invalid;
      case 401:
      case 403:
        say(
          `the API denied access (${error.status}): ${error.message}`,
          'Check the AWS credentials and --region; the caller needs execute-api:Invoke on this API.',
        );
        return EXIT_CODES.unexpected;
      default:
        say(
          `the API answered ${error.status}: ${error.message}${error.requestId ? ` (request id ${error.requestId})` : ''}`,
        );
        return EXIT_CODES.unexpected;
    }
  }
  say(`unexpected: ${(error as Error)?.message ?? String(error)}`);
  return EXIT_CODES.unexpected;
}

/** Runs the CLI as a process: arguments from argv, the exit code on `process.exitCode`. */
export async function run(): Promise<void> {
  // `vobee ... | head` closes the pipe early: that is not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2));
}

if (isEntryPoint(import.meta.url)) await run();
