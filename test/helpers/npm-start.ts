import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface StartedProcess {
  child: ChildProcess;
  output: () => string;
  /** The first match of `pattern` in the output, waited for. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

/** A child process whose output is kept, for `npm start` and `vobee console`. */
export function startProcess(args: string[], env: NodeJS.ProcessEnv = process.env): StartedProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return {
    child,
    output: () => output,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = pattern.exec(output);
        if (found) return found;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} in the output of ${args.join(' ')}:\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** `npm start` as a person runs it, on free ports, with its data in a temporary folder. */
export function startRuntime(dataDir: string, faults: object): StartedProcess {
  return startProcess(
    [
      TSX,
      'lib/local/start.ts',
      '--port',
      '0',
      '--db-port',
      '0',
      '--data',
      dataDir,
      '--no-schedules',
      '--faults',
      JSON.stringify(faults),
    ],
    { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
  );
}
