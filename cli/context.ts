import type { Command } from 'commander';
import { createApiClient, type ApiClient } from './client.ts';
import { formatJson } from './output.ts';
import { resolveSettings, type GlobalOptions } from './settings.ts';

/** Where the CLI writes and what it reads of its surroundings; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** stderr is a terminal: progress bars are drawn there. @default false */
  readonly stderrIsTTY?: boolean;
}

/** What one command's action works with: the client for the global options, and output. */
export interface Session {
  readonly client: ApiClient;
  /** `--json`: print JSON for scripts instead of text for people. */
  readonly json: boolean;
  /** Prints text as is. */
  print(text: string): void;
  printJson(value: unknown): void;
  /** Notes for a person (hints, "no more pages"), on stderr so that stdout stays the answer. */
  note(text: string): void;
}

/** What command modules get: the io, and a way to open a session from a command's options. */
export interface CliContext {
  readonly io: CliIo;
  readonly userAgent: string;
  open(command: Command): Session;
}

/** A group of commands (`uploads list`, `uploads show`): the CLI registers each module of its list. */
export interface CommandModule {
  register(program: Command, context: CliContext): void;
}

/** The context every command module registers with: output and sessions for one run. */
export function createContext(io: CliIo, userAgent: string): CliContext {
  return {
    io,
    userAgent,
    open(command) {
      const options = command.optsWithGlobals<GlobalOptions>();
      const settings = resolveSettings(options, io.env, io.cwd);
      const client = createApiClient({ ...settings, userAgent, ...(io.fetch ? { fetch: io.fetch } : {}) });
      return {
        client,
        json: options.json === true,
        print: (text) => io.stdout(text),
        printJson: (value) => io.stdout(formatJson(value)),
        note: (text) => io.stderr(`${text}\n`),
      };
    },
  };
}
