package io.flotilla.ledger;

import java.util.List;

/**
 * Payments settled together, under an id that is recorded durably before the batch is sent and that
 * the backend accepts once at most.
 *
 * @param batchId unique id of the batch
 * @param payments what the batch pays
 */
public record SettlementBatch(String batchId, List<Payment> payments) {

  /** Copies {@code payments}. */
  public SettlementBatch {
    payments = List.copyOf(payments);
  }

  /** Sum of all payments, in units. */
  public long total() {
    return payments.stream().mapToLong(Payment::amount).sum();
  }
}
