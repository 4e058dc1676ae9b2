package io.flotilla.ledger;

/** What the ledger did with a priced receipt. */
public enum ReceiptOutcome {
  /** Stored durably; it will be settled. */
  ACCEPTED,
  /** A receipt with the same id was recorded before: a replay, not paid again. */
  DUPLICATE,
  /** The job is not known to the ledger (no escrow). */
  UNKNOWN_JOB,
  /** Paying it would exceed the job's escrow; the job is now paused. */
  BUDGET_EXHAUSTED
}
