#!/usr/bin/env node
// The `vobee` command: runs the built CLI (`dist/vobee.mjs`, from `npm run build`), which needs
// nothing but Node.js.
let cli;
try {
  cli = await import('../dist/vobee.mjs');
} catch (error) {
  const missing = error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('vobee.mjs');
  if (!missing) throw error;
  process.stderr.write('error: the vobee command is not built yet\nBuild it with: npm run build\n');
  process.exit(1);
}
await cli.run();
