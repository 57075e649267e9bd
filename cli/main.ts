import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { commandModules } from './commands/index.ts';
import { createContext, type CliIo } from './context.ts';
import { CliError, ExitCode } from './errors.ts';
import { ENDPOINTS_FILE } from './settings.ts';

/**
 * `symbiont`: the command-line client of Symbiont's HTTP API. `run` is the whole program with its
 * surroundings passed in, so tests run it in-process; `cli/bin/symbiont.mjs` runs it for real.
 */

const version = (JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

/** Runs the CLI on `argv` (without `node` and the script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    return exitCodeOf(error, io);
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('symbiont');
  // Settings made before commands are added are inherited by every subcommand.
  program
    .description('Work with Symbiont’s data API: uploads, datasets, evaluations, reports.')
    .version(version, '-V, --version')
    .option('--json', 'print JSON instead of text')
    .option('--api <url>', 'API base URL (default: $SYMBIONT_API_URL, else the local runtime’s)')
    .option('--token <token>', 'bearer token (default: $SYMBIONT_TOKEN, else the local admin token); without one, requests are signed with AWS SigV4')
    .option('--profile <profile>', 'AWS profile for SigV4 signing (default: $AWS_PROFILE)')
    .option('--region <region>', 'AWS region for SigV4 signing (default: $AWS_REGION, else the one in the API URL)')
    .addHelpText(
      'after',
      `\nWith nothing given, the API and token come from ${ENDPOINTS_FILE}, which \`npm start\` writes.\nExit codes: 0 ok, 1 the API refused or failed, 2 usage error, 3 API unreachable or not configured.`,
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const context = createContext(io, `symbiont-cli/${version}`);
  for (const module of commandModules) module.register(program, context);
  return program;
}

function exitCodeOf(error: unknown, io: CliIo): ExitCode {
  if (error instanceof CommanderError) {
    // Commander has printed help or its own message already.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof CliError) {
    // For an API error this is the API's own message, which names each bad field.
    io.stderr(`symbiont: ${error.message}\n`);
    return error.exitCode;
  }
  io.stderr(`symbiont: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.apiError;
}

/** The real surroundings: process streams, environment and working directory. */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `tsx cli/main.ts …` (npm run symbiont) runs the program; importing the module does not.
if (isEntryPoint()) process.exitCode = await run(process.argv.slice(2), processIo());
