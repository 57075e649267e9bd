#!/usr/bin/env node
// The `symbiont` command: runs cli/main.ts through the project's own tsx. Both are resolved from
// this file's location, not the working directory, so the command works from anywhere.
import { register } from 'tsx/esm/api';

register();
const { run, processIo } = await import('../main.ts');
process.exitCode = await run(process.argv.slice(2), processIo());
