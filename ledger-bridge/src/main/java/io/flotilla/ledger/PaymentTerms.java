package io.flotilla.ledger;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.identity.WorkReceipt;

/**
 * How a job pays for work, in ledger units (the smallest unit of account; on Ethereum one unit is
 * {@code flotilla.ledger.ethereum.wei-per-unit} wei).
 *
 * @param basis what a receipt is priced by
 * @param unitsPerBasis units paid per GFLOP ({@link Basis#PER_GFLOP}) or per task ({@link
 *     Basis#PER_TASK})
 */
public record PaymentTerms(Basis basis, long unitsPerBasis) implements ControlMessage {

  /** What a receipt is priced by. */
  public enum Basis {
    /** {@code unitsPerBasis} per 10^9 floating-point operations, rounded down to whole units. */
    PER_GFLOP,
    /** {@code unitsPerBasis} per verified task, whatever its size. */
    PER_TASK
  }

  /** Validates the terms. */
  public PaymentTerms {
    if (basis == null) {
      throw new IllegalArgumentException("payment basis is required: PER_GFLOP or PER_TASK");
    }
    if (unitsPerBasis <= 0) {
      throw new IllegalArgumentException(
          "units per " + basis + " must be > 0, was " + unitsPerBasis);
    }
  }

  /** The amount owed for {@code receipt}, in units; exact integer arithmetic. */
  public long price(WorkReceipt receipt) {
    return switch (basis) {
      case PER_TASK -> unitsPerBasis;
      case PER_GFLOP -> Math.multiplyExact(receipt.megaflops(), unitsPerBasis) / 1000L;
    };
  }
}
