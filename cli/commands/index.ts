import type { CommandModule } from '../context.ts';
import { commitsCommands } from './commits.ts';
import { datasetsCommands } from './datasets.ts';
import { dlqCommands } from './dlq.ts';
import { evaluationsCommands } from './evaluations.ts';
import { reportsCommands } from './reports.ts';
import { sftpUsersCommands } from './sftp-users.ts';
import { trendCommand } from './trend.ts';
import { uploadCommand } from './upload.ts';
import { uploadsCommands } from './uploads.ts';

/** Every command group of `symbiont`; a new group is a module added here. */
export const commandModules: readonly CommandModule[] = [uploadCommand, uploadsCommands, datasetsCommands, commitsCommands, evaluationsCommands, trendCommand, reportsCommands, sftpUsersCommands, dlqCommands];
