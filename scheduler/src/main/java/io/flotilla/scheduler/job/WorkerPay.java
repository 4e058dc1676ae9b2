package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;

/**
 * What the ledger accepted to pay one worker for one job.
 *
 * @param address the address the worker signed its registration with (where it is paid)
 * @param receipts receipts accepted (one per step of its stage replica)
 * @param units ledger units committed to it
 */
public record WorkerPay(String address, long receipts, long units) implements ControlMessage {

  /** These totals plus one accepted batch. */
  public WorkerPay plus(String newAddress, int moreReceipts, long moreUnits) {
    return new WorkerPay(newAddress, receipts + moreReceipts, units + moreUnits);
  }
}
