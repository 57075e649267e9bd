import { SymbiontError } from '#shared/errors';

/** Base of the errors the ingest path raises on purpose. */
export class IngestError extends SymbiontError {
  override name = 'IngestError';
}

/**
 * A queue message that is not an ingest notification Symbiont understands. Retrying cannot fix
 * it, but it is not dropped either: it goes to the DLQ, where it can be read and redriven.
 */
export class InvalidIngestMessageError extends IngestError {
  override name = 'InvalidIngestMessageError';
}

/** A local arrival copy without the metadata naming the key it was copied from. */
export class ArrivalMetadataError extends IngestError {
  override name = 'ArrivalMetadataError';
}

/**
 * A Transfer Family upload whose object version cannot be found: the event's ETag matches neither
 * the current object nor any version of its key. Retried, then kept in the DLQ to be looked at.
 */
export class ArrivalNotFoundError extends IngestError {
  override name = 'ArrivalNotFoundError';
}
