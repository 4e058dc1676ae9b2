package io.flotilla.scheduler.job;

import io.flotilla.protocol.ControlMessage;

/**
 * A worker's accumulated work on one job: what the job's summary table and the ledger's receipts
 * are made from.
 *
 * @param steps steps the worker completed
 * @param computeNanos time computing and sending
 * @param idleNanos time waiting for pipeline neighbours
 * @param syncNanos time in gradient synchronisation
 * @param examples examples processed
 */
public record WorkerTotals(
    long steps, long computeNanos, long idleNanos, long syncNanos, long examples)
    implements ControlMessage {

  /** Nothing done yet. */
  public static final WorkerTotals NONE = new WorkerTotals(0, 0, 0, 0, 0);

  /** These totals plus one step's {@code work}. */
  public WorkerTotals plus(StepMetrics.SlotWork work) {
    return new WorkerTotals(
        steps + 1,
        computeNanos + work.computeNanos(),
        idleNanos + work.idleNanos(),
        syncNanos + work.syncNanos(),
        examples + work.examples());
  }

  /** Share of schedule time spent waiting: idle / (compute + idle). */
  public double bubbleShare() {
    long total = computeNanos + idleNanos;
    return total == 0 ? 0 : (double) idleNanos / total;
  }
}
