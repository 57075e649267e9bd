import { table as layout } from '#shared/resources';
import { deliveryKey } from './keys.ts';
import { ConditionFailed, type Table } from './table.ts';

/**
 * GitHub webhook deliveries (DESIGN.md "Storage" `DELIVERY#<id>`): a delivery id is claimed with a
 * conditional write the first time it arrives, so a redelivery (GitHub's "Redeliver", or a retry
 * after a timeout) is recognised and starts nothing. Claims carry the TTL attribute: DynamoDB
 * deletes them in AWS; dynalite has no TTL, so a claim past its expiry counts as absent on read.
 */

/** Attempts at claiming a delivery whose expired claim keeps being taken by another call. */
const MAX_RACE_ATTEMPTS = 5;

export interface DeliveryClaim {
  readonly deliveryId: string;
  readonly event: string;
  readonly receivedAt: string;
  /** Epoch seconds after which the claim no longer counts. */
  readonly expiresAt: number;
}

function isLive(item: Record<string, unknown>, nowSeconds: number): boolean {
  const expiresAt = item[layout.ttlAttribute];
  return typeof expiresAt !== 'number' || expiresAt > nowSeconds;
}

/**
 * Claims a delivery id. `true`: this call is the first to see it (or the earlier claim expired);
 * `false`: it was received before and is still remembered.
 */
export async function claimDelivery(table: Table, claim: DeliveryClaim, now = new Date()): Promise<boolean> {
  const key = deliveryKey(claim.deliveryId);
  const item = { ...key, kind: 'delivery', deliveryId: claim.deliveryId, event: claim.event, receivedAt: claim.receivedAt, [layout.ttlAttribute]: claim.expiresAt };
  const nowSeconds = Math.floor(now.getTime() / 1000);
  for (let attempt = 1; attempt <= MAX_RACE_ATTEMPTS; attempt++) {
    const written = await table.put(item, { ifNotExists: true });
    if (!(written instanceof ConditionFailed)) return true;
    const existing = await table.get(key);
    if (existing === undefined) continue;
    if (isLive(existing, nowSeconds)) return false;
    // Expired but not yet deleted (always so locally): take it over, conditioned on the expiry read.
    const taken = await table.put(item, { where: { [layout.ttlAttribute]: existing[layout.ttlAttribute] as number } });
    if (!(taken instanceof ConditionFailed)) return true;
  }
  return false;
}

/**
 * Gives a claim up (its work could not be queued), so that GitHub's redelivery of the same id is
 * taken as new rather than dropped. Marked expired rather than deleted: the table has no deletes.
 */
export async function releaseDelivery(table: Table, deliveryId: string): Promise<void> {
  await table.update(deliveryKey(deliveryId), { set: { [layout.ttlAttribute]: 0, released: true } });
}
