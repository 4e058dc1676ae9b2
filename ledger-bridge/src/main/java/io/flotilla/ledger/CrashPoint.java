package io.flotilla.ledger;

/** The moments of a settlement at which a crash leaves different durable states behind. */
public enum CrashPoint {
  /** The batch is recorded as pending; nothing was sent. */
  BEFORE_SEND,
  /** The batch was sent; its confirmation was not seen. */
  AFTER_SEND_BEFORE_RECEIPT,
  /** The backend confirmed the batch; the local book does not show it as settled yet. */
  AFTER_RECEIPT_BEFORE_RECORDING
}
