import type { Command } from 'commander';
import { reportedCommitSchema, repositoryListSchema } from '#api/schemas';
import type { CommandModule, Session } from '../context.ts';
import { formatFields, formatTable, formatTime } from '../output.ts';

/** `symbiont commits …`: report commits (as CI does) and see the default-branch heads. */
export const commitsCommands: CommandModule = {
  register(program, context) {
    const commits = program.command('commits').description('Commits of the pipelines’ repositories and their default-branch heads.');

    commits
      .command('report')
      .description('Report a commit; one on the default branch moves the repository’s head (what evaluations run and compare with).')
      .argument('<repository>', 'repository name, as configured')
      .argument('<sha>', 'the full commit sha')
      .option('--branch <branch>', 'the branch pushed to (default: the repository’s default branch)')
      .option('--image <image>', 'the stage image CI built from this commit')
      .option('--pushed-at <time>', 'when it was pushed, ISO 8601 (default: now)')
      .action(async (repository: string, sha: string, options: ReportOptions, command: Command) => report(context.open(command), repository, sha, options));

    commits
      .command('heads')
      .description('List the repositories and their default-branch heads.')
      .action(async (_options: unknown, command: Command) => heads(context.open(command)));
  },
};

interface ReportOptions {
  readonly branch?: string;
  readonly image?: string;
  readonly pushedAt?: string;
}

async function report(session: Session, repository: string, sha: string, options: ReportOptions): Promise<void> {
  const reported = await session.client.post(
    '/commits',
    { repository, sha: sha.toLowerCase(), ...(options.branch ? { branch: options.branch } : {}), ...(options.image ? { image: options.image } : {}), ...(options.pushedAt ? { pushedAt: options.pushedAt } : {}) },
    reportedCommitSchema,
  );
  if (session.json) {
    session.printJson(reported);
    return;
  }
  const { commit, head } = reported;
  session.print(
    formatFields([
      ['commit', `${commit.repository}@${commit.sha}`],
      ['branch', commit.branch],
      ['recorded', reported.created ? `now, by ${commit.reportedBy ?? 'the API'}` : `before (${formatTime(commit.recordedAt)}): nothing changed`],
      ['head', head ? `${head.sha}${reported.headMoved ? ` (moved; #${head.seq})` : head.sha === commit.sha ? ' (already here)' : ' (kept: this push is older than the head’s)'}` : 'not the default branch: the head stays'],
    ]),
  );
}

async function heads(session: Session): Promise<void> {
  const list = await session.client.get('/repositories', {}, repositoryListSchema);
  if (session.json) {
    session.printJson(list);
    return;
  }
  session.print(
    formatTable(
      [
        { header: 'REPOSITORY', value: (r) => r.repository },
        { header: 'BRANCH', value: (r) => r.defaultBranch },
        { header: 'HEAD', value: (r) => r.head?.sha ?? '(none reported)' },
        { header: 'MOVED', value: (r) => formatTime(r.head?.movedAt) },
      ],
      list.items,
    ),
  );
}
