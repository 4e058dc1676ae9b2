package io.flotilla.ledger;

/** The settlement backend (for example the chain's JSON-RPC endpoint) cannot be reached now. */
public final class LedgerUnavailableException extends RuntimeException {

  /** With a message naming what failed and its cause. */
  public LedgerUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
