#!/usr/bin/env node
// The `vobee` command: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../lib/cli/main.ts');
await run();
