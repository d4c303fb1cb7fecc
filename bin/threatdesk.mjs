#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step): tsx compiles them on load.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/runtime/node/cli.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
