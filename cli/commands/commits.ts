import { InvalidArgumentError, type Command } from 'commander';
import { commitPageSchema, MAX_PAGE_SIZE, reportedCommitSchema, repositoryListSchema } from '#api/schemas';
import { fetchPages } from '../client.ts';
import type { CommandModule, Session } from '../context.ts';
import { formatFields, formatTable, formatTime } from '../output.ts';

/** `symbiont commits …`: report commits (as CI does), list a repository's commits with their verdicts, and see the default-branch heads. */
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
      .command('list')
      .description('List a repository’s commits, newest push first, with the verdicts of their evaluations.')
      .argument('<repository>', 'repository name, as configured')
      .option('--limit <n>', `commits per page, 1 to ${MAX_PAGE_SIZE}`, pageSize)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .option('--all', 'follow the cursors and list every page')
      .action(async (repository: string, options: ListOptions, command: Command) => list(context.open(command), repository, options));

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
      ['evaluations', reported.queued ? 'queued: each pipeline using the repository gets a request (symbiont commits list ' + commit.repository + ')' : 'not queued'],
    ]),
  );
}

interface ListOptions {
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

function pageSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_PAGE_SIZE}`);
  return n;
}

async function list(session: Session, repository: string, options: ListOptions): Promise<void> {
  const page = await fetchPages(session.client, '/commits', { repository, limit: options.limit }, commitPageSchema, { cursor: options.cursor, all: options.all });
  if (session.json) {
    session.printJson(page);
    return;
  }
  session.print(
    formatTable(
      [
        { header: 'SHA', value: (c) => c.sha.slice(0, 12) },
        { header: 'BRANCH', value: (c) => c.branch },
        { header: 'FROM', value: (c) => (c.source === 'github' ? 'github' : (c.reportedBy ?? 'api')) },
        { header: 'PUSHED', value: (c) => formatTime(c.pushedAt) },
        { header: 'EVALUATIONS', value: (c) => verdicts(c.evaluations) },
      ],
      page.items,
    ),
  );
  if (page.cursor) session.note(`More: symbiont commits list ${repository} --cursor ${page.cursor}`);
}

/** `2 regressed, 1 running` — the evaluations of a commit, counted by verdict (or status until they have one). */
function verdicts(evaluations: readonly { status: string; verdict?: string }[]): string {
  if (evaluations.length === 0) return '(none)';
  const counts = new Map<string, number>();
  for (const e of evaluations) {
    const key = e.status === 'succeeded' ? (e.verdict ?? 'succeeded') : e.status;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} ${key}`).join(', ');
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
