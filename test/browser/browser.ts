import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
export const SCREENSHOTS = join(ROOT, 'test', 'browser', 'screenshots');

/** Debian's Chromium unless `CHROMIUM_PATH` names another; `.ci/run` installs it when missing. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * A headless Chromium with a profile of its own in a fresh temporary folder, removed on close.
 * It never downloads a browser: it drives the one installed on the machine.
 */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'vobee-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1200, height: 860 },
    colorScheme: 'light',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the page under `test/browser/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!existsSync(SCREENSHOTS)) mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

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
