import { buildCli } from '../../lib/cli/build.ts';

/**
 * Builds the `vobee` command once per test run (a second or so), so the tests that run
 * `bin/vobee.js` as a user would run the CLI as the sources are now, not an older build.
 */
export default async function setup(): Promise<void> {
  await buildCli();
}
