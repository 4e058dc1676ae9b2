package io.flotilla.gossip;

/** A node could not start; the message says why in words an operator can act on. */
public final class NodeStartException extends RuntimeException {

  /** Creates the exception with an operator-facing message and its cause. */
  public NodeStartException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Creates the exception with an operator-facing message. */
  public NodeStartException(String message) {
    super(message);
  }
}
