package io.flotilla.gossip.reputation;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * One worker's record as this node's replica holds it.
 *
 * @param workerId the worker
 * @param consecutiveValid valid results since the worker's last invalid one (0 right after an
 *     invalid result); adaptive replication trusts a worker more as this grows
 * @param validResults results that a verifier accepted, in total
 * @param invalidResults results that a verifier rejected, in total
 * @param tasksDone tasks the worker completed, verified or not
 * @param quarantined whether the worker may get no more tasks and no more pay
 * @param quarantineReason why it was quarantined (or, after an unquarantine, why it was released);
 *     empty when its status never changed
 * @param quarantinedAtEpochMs when the quarantine status last changed, 0 when it never did
 */
public record WorkerReputation(
    String workerId,
    long consecutiveValid,
    long validResults,
    long invalidResults,
    long tasksDone,
    boolean quarantined,
    String quarantineReason,
    long quarantinedAtEpochMs)
    implements ControlMessage {

  public WorkerReputation {
    Objects.requireNonNull(workerId, "workerId");
    quarantineReason = quarantineReason == null ? "" : quarantineReason;
  }

  /** The record of a worker nothing is known about yet. */
  public static WorkerReputation unknown(String workerId) {
    return new WorkerReputation(workerId, 0, 0, 0, 0, false, "", 0);
  }
}
