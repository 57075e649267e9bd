import { z } from 'zod';
import { AlreadyExistsError, CorruptItemError } from './errors.ts';
import { uploadSlotKey } from './keys.ts';
import { ConditionFailed, type Table } from './table.ts';

/**
 * Upload slots (DESIGN.md "Storage"): `POST /datasets/{name}/uploads` hands out a slot id that goes
 * into the landing key `api/<dataset>/<slotId>/<file>`. The slot is recorded at `SLOT#<slotId>` /
 * `SLOT`, beside the links to the uploads made through it (`SLOT#<slotId>` / `UPLOAD#<uploadId>`),
 * so that ingest knows who sent what arrives under the slot and the sender can follow it.
 */

const isoTime = z.iso.datetime({ offset: true });

export const uploadSlotSchema = z.object({
  /** A ULID, minted when the slot is handed out. */
  slotId: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a slot id is a 26-character ULID'),
  dataset: z.string().min(1),
  /** The file name the slot is for: the last part of {@link key}. */
  file: z.string().min(1),
  /** The landing key the presigned PUT writes. */
  key: z.string().min(1),
  /** The caller who asked for the slot: recorded as the sender of what arrives through it. */
  sender: z.string().min(1),
  createdAt: isoTime,
  /** When the presigned PUT URL stops working. */
  expiresAt: isoTime,
});
export type UploadSlot = z.infer<typeof uploadSlotSchema>;

/** Records a slot; a slot id already recorded is an {@link AlreadyExistsError}. */
export async function createUploadSlot(table: Table, slot: UploadSlot): Promise<UploadSlot> {
  const record = uploadSlotSchema.parse(slot);
  const written = await table.put({ ...uploadSlotKey(record.slotId), kind: 'upload-slot', ...record }, { ifNotExists: true });
  if (written instanceof ConditionFailed) throw new AlreadyExistsError(`upload slot ${record.slotId} is already recorded`, { slotId: record.slotId });
  return record;
}

/** The slot, or `undefined` (also for a string that cannot be a slot id). */
export async function getUploadSlot(table: Table, slotId: string): Promise<UploadSlot | undefined> {
  if (!uploadSlotSchema.shape.slotId.safeParse(slotId).success) return undefined;
  const item = await table.get(uploadSlotKey(slotId));
  if (item === undefined) return undefined;
  const parsed = uploadSlotSchema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`stored upload slot ${slotId} does not match its schema`, { issues: parsed.error.issues });
  return parsed.data;
}
