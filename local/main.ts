/**
 * `npm start`: boots the local runtime in this process, prints the banner, and stops cleanly on
 * Ctrl-C (SIGINT) or SIGTERM. A bad config, a taken port or a data directory in use ends it with
 * a message saying what to change, and a non-zero exit code.
 */
import { ConfigError } from '#config/load';
import { log as logger } from './log.ts';
import { banner } from './endpoints.ts';
import { LocalRuntimeError } from './errors.ts';
import type { LocalRuntime } from './runtime.ts';
import { parseLocalFlags, usage } from './settings.ts';

// fauxqs persists through node:sqlite, which warns that it is experimental on every start; the
// warning says nothing a user of this runtime can act on. (The runtime is imported below, after
// this filter is in place, because node:sqlite warns as soon as it is loaded.)
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (/SQLite is an experimental feature/.test(text)) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

async function main(argv: readonly string[]): Promise<number> {
  // Listening before anything else: a Ctrl-C during boot, or right after the banner, still stops
  // cleanly instead of killing the process with the default action. A second Ctrl-C does not wait
  // — but only a deliberate one: one Ctrl-C can arrive twice within milliseconds, from the
  // terminal and relayed by the npm and tsx processes above this one.
  let signalled: NodeJS.Signals | undefined;
  let signalledAt = 0;
  let wake: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      if (performance.now() - signalledAt > 1_000) process.exit(130);
      return;
    }
    signalled = signal;
    signalledAt = performance.now();
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let runtime: LocalRuntime;
  try {
    const flags = parseLocalFlags(argv);
    if (flags.help) {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    const { startLocal } = await import('./runtime.ts');
    runtime = await startLocal({ configFile: flags.config, dataDir: flags.dataDir, ports: flags.ports });
  } catch (error) {
    if (error instanceof LocalRuntimeError || error instanceof ConfigError) {
      process.stderr.write(`npm start: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (!signalled) {
    // From process start, tsx and module loading included: what a person waits for.
    process.stdout.write(banner(runtime.endpoints, runtime.files, performance.now()));
    await new Promise<void>((resolve) => (wake = resolve));
  }
  logger.info('stopping the local runtime', { signal: signalled });
  try {
    await runtime.stop();
  } catch (error) {
    logger.error('the local runtime did not stop cleanly', { error: error as Error });
    return 1;
  }
  return 0;
}

const code = await main(process.argv.slice(2));
// Explicit: libraries may hold timers or sockets that would otherwise keep the process up.
process.exit(code);
