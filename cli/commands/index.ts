import type { CommandModule } from '../context.ts';
import { uploadsCommands } from './uploads.ts';

/** Every command group of `symbiont`; a new group is a module added here. */
export const commandModules: readonly CommandModule[] = [uploadsCommands];
