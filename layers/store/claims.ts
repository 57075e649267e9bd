import { z } from 'zod';
import { CorruptItemError } from './errors.ts';
import { messageKey } from './keys.ts';
import { ConditionFailed, type Table } from './table.ts';

/**
 * Message claims: the first delivery of a message records `MSG#<messageId>` with a conditional
 * write; a redelivery finds it and changes nothing. A claim remembers what the first delivery
 * was about to create (the upload id), so a delivery that crashed between claiming and finishing
 * is completed by the redelivery instead of being dropped.
 */

export const messageClaimSchema = z.object({
  messageId: z.string().min(1),
  claimedAt: z.string(),
  /** The upload the first delivery records. */
  uploadId: z.string().optional(),
});
export type MessageClaim = z.infer<typeof messageClaimSchema>;

/** Claims a message; `false` when it was claimed before (a redelivery). */
export async function claimMessage(table: Table, messageId: string, details: { uploadId?: string; at?: string } = {}): Promise<boolean> {
  const claim: MessageClaim = { messageId, claimedAt: details.at ?? new Date().toISOString(), uploadId: details.uploadId };
  const written = await table.put({ ...messageKey(messageId), kind: 'message', ...claim }, { ifNotExists: true });
  return !(written instanceof ConditionFailed);
}

/** The claim of a message, or `undefined` when it was never delivered. */
export async function getMessageClaim(table: Table, messageId: string): Promise<MessageClaim | undefined> {
  const item = await table.get(messageKey(messageId));
  if (item === undefined) return undefined;
  const parsed = messageClaimSchema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`stored claim of message ${messageId} does not match its schema`, { issues: parsed.error.issues });
  return parsed.data;
}
