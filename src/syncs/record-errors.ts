/**
 * The codes a failed record can carry (in `GET …/failed-records`, a run's sample of failed
 * records, and `sync_failed_records.error`): one table in docs/errors.md ("Per-record error
 * codes"), kept in step by src/errors.test.ts. A sync that needs another adds it here and there.
 */
export const RECORD_ERROR_CODES = [
  /** The provider's record did not have the shape the model maps (a malformed record). */
  'invalid_record',
  /** The database refused the mapped record. */
  'store_failed',
  /** The sync yielded a record of a model it does not declare (a bug in the sync). */
  'unknown_model',
  /** The provider answered an error for this record alone (after the sync's retries). */
  'provider_error',
] as const;

export type RecordErrorCode = (typeof RECORD_ERROR_CODES)[number];

export interface RecordError {
  code: RecordErrorCode;
  message: string;
}
