import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { SymbiontConfig } from '#config/schema';
import { logger } from '#shared/observability';
import { webhooks } from '#shared/resources';
import { claimDelivery, releaseDelivery } from '#store/deliveries';
import type { Table } from '#store/table';
import type { CommitMessage } from './commit-messages.ts';
import type { CommitQueue } from './commit-queue.ts';
import { InvalidWebhookPayloadError, WebhookNotConfiguredError, WebhookSignatureError } from './errors.ts';

/**
 * The GitHub webhook (`POST /webhooks/github`): a delivery is verified first — HMAC-SHA256 of the
 * raw body with the shared secret, compared in constant time with `X-Hub-Signature-256` — then
 * `ping` is answered, a `push` to a configured repository becomes a commit event on the commit
 * queue, and everything else is acknowledged with 202 and the reason nothing was started. Each
 * delivery id is claimed once (with a TTL), so GitHub's redeliveries start nothing twice.
 */

/** A push event, as far as Symbiont reads it. */
const pushPayloadSchema = z.object({
  ref: z.string().min(1),
  after: z.string(),
  deleted: z.boolean().optional(),
  repository: z.object({
    name: z.string().min(1),
    full_name: z.string().min(1),
    /** Epoch seconds in push payloads (an ISO string in some older ones). */
    pushed_at: z.union([z.number(), z.string()]).nullish(),
  }),
});
export type PushPayload = z.infer<typeof pushPayloadSchema>;

const ZERO_SHA = /^0+$/;
const SIGNATURE_PREFIX = 'sha256=';

/** `sha256=<hex>`: the signature GitHub sends for `body` with `secret`. */
export function signGithubPayload(secret: string, body: Buffer | string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Whether `header` (`X-Hub-Signature-256`) is the HMAC-SHA256 of the raw body bytes with `secret`.
 * The comparison takes the same time wherever the two differ.
 */
export function verifyGithubSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith(SIGNATURE_PREFIX)) return false;
  const given = Buffer.from(header.slice(SIGNATURE_PREFIX.length), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  // A malformed hex string decodes short; timingSafeEqual needs equal lengths.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The configured repository a GitHub repository is: its `url` names `owner/name`, else its key is the name. */
export function configuredRepository(repositories: SymbiontConfig['repositories'], fullName: string, name: string): string | undefined {
  const wanted = fullName.toLowerCase();
  for (const [key, spec] of Object.entries(repositories)) {
    const path = new URL(spec.url).pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '').toLowerCase();
    if (path === wanted) return key;
  }
  return Object.hasOwn(repositories, name) ? name : undefined;
}

/** What a push becomes: a commit event, or the reason it starts nothing. */
export type PushOutcome = { readonly kind: 'commit'; readonly message: CommitMessage } | { readonly kind: 'ignored'; readonly reason: string };

/** Maps a push payload to the commit event it announces (DESIGN.md "Messages"), or why it announces none. */
export function pushToCommitEvent(payload: PushPayload, config: Pick<SymbiontConfig, 'repositories'>, deliveryId: string, now: Date): PushOutcome {
  const repository = configuredRepository(config.repositories, payload.repository.full_name, payload.repository.name);
  if (repository === undefined) return { kind: 'ignored', reason: `repository ${payload.repository.full_name} is not configured in Symbiont` };
  if (!payload.ref.startsWith('refs/heads/')) return { kind: 'ignored', reason: `${payload.ref} is not a branch (tag pushes start nothing)` };
  const branch = payload.ref.slice('refs/heads/'.length);
  if (payload.deleted || ZERO_SHA.test(payload.after)) return { kind: 'ignored', reason: `branch ${branch} of ${repository} was deleted` };
  const sha = payload.after.toLowerCase();
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) throw new InvalidWebhookPayloadError(`push "after" is not a commit sha: ${payload.after}`, { after: payload.after });
  const allowed = config.repositories[repository]!.branches;
  if (allowed && !allowed.includes(branch)) return { kind: 'ignored', reason: `branch ${branch} of ${repository} is not one of its evaluated branches (${allowed.join(', ')})` };
  return {
    kind: 'commit',
    message: { repository, sha, branch, pushedAt: pushedAt(payload.repository.pushed_at, now), source: 'github', deliveryId },
  };
}

function pushedAt(value: number | string | null | undefined, now: Date): string {
  if (typeof value === 'number') return new Date(value * 1000).toISOString();
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return now.toISOString();
}

/** A delivery as the API hands it over: headers (lower-case names) and the raw body bytes. */
export interface WebhookDelivery {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

/** What the webhook answers. */
export interface WebhookAnswer {
  readonly status: 200 | 202;
  readonly outcome: 'pong' | 'queued' | 'ignored';
  readonly reason?: string;
  readonly deliveryId?: string;
  readonly commit?: { readonly repository: string; readonly sha: string; readonly branch: string };
}

export interface GithubWebhookDeps {
  readonly table: Table;
  readonly config: Pick<SymbiontConfig, 'repositories'>;
  readonly queue: CommitQueue;
  /** The shared secret: read once per cold start in AWS (Secrets Manager), from the config locally. */
  readonly secret: () => Promise<string | undefined>;
  readonly now?: () => Date;
}

/** The webhook's work, as the API route calls it. */
export interface GithubWebhook {
  receive(delivery: WebhookDelivery): Promise<WebhookAnswer>;
}

export function createGithubWebhook(deps: GithubWebhookDeps): GithubWebhook {
  return {
    async receive({ headers, body }) {
      const secret = await deps.secret();
      if (!secret) throw new WebhookNotConfiguredError('the GitHub webhook has no secret configured, so no delivery can be verified');
      if (!verifyGithubSignature(secret, body, headers['x-hub-signature-256'])) {
        throw new WebhookSignatureError(
          headers['x-hub-signature-256'] === undefined
            ? 'the delivery has no X-Hub-Signature-256 header: set the webhook secret in GitHub'
            : 'X-Hub-Signature-256 does not match the body: the webhook secret in GitHub differs from Symbiont’s',
        );
      }
      const event = headers['x-github-event'];
      const deliveryId = headers['x-github-delivery'];
      if (event === 'ping') return { status: 200, outcome: 'pong', ...(deliveryId ? { deliveryId } : {}) };
      if (event !== 'push') return { status: 202, outcome: 'ignored', reason: `${event ?? 'an event without X-GitHub-Event'} events start nothing; only push does`, ...(deliveryId ? { deliveryId } : {}) };
      if (!deliveryId) throw new InvalidWebhookPayloadError('a push delivery needs its X-GitHub-Delivery header');

      const payload = parsePush(body);
      const now = deps.now?.() ?? new Date();
      const outcome = pushToCommitEvent(payload, deps.config, deliveryId, now);
      if (outcome.kind === 'ignored') {
        logger.info('webhook push ignored', { deliveryId, reason: outcome.reason });
        return { status: 202, outcome: 'ignored', reason: outcome.reason, deliveryId };
      }
      const claimed = await claimDelivery(
        deps.table,
        { deliveryId, event, receivedAt: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + webhooks.deliveryTtlSeconds },
        now,
      );
      if (!claimed) {
        logger.info('webhook delivery received before; ignored', { deliveryId });
        return { status: 202, outcome: 'ignored', reason: `delivery ${deliveryId} was received before`, deliveryId };
      }
      try {
        await deps.queue.send(outcome.message);
      } catch (error) {
        // Not queued: let GitHub's redelivery of this id count as new.
        await releaseDelivery(deps.table, deliveryId).catch((releaseError: unknown) => logger.error('could not release a webhook delivery', { deliveryId, error: releaseError as Error }));
        throw error;
      }
      const { repository, sha, branch } = outcome.message;
      logger.info('webhook push queued', { deliveryId, repository, sha, branch });
      return { status: 202, outcome: 'queued', deliveryId, commit: { repository, sha, branch } };
    },
  };
}

function parsePush(body: Buffer): PushPayload {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new InvalidWebhookPayloadError('the push delivery is not JSON: set the webhook’s content type to application/json', undefined, { cause: error });
  }
  const parsed = pushPayloadSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidWebhookPayloadError(`the push delivery lacks ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`, { issues: parsed.error.issues });
  }
  return parsed.data;
}
