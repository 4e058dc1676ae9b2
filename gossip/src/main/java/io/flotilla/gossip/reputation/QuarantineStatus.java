package io.flotilla.gossip.reputation;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * A worker's quarantine status, the value of the replicated {@link ReputationRegistry#QUARANTINE}
 * map. The last writer wins: quarantine and release are decisions, not counts.
 *
 * @param quarantined whether the worker is quarantined
 * @param reason why it was quarantined or released
 * @param atEpochMs when the status was set
 * @param invalidBaseline invalid results the worker had when it was last released: only invalid
 *     results beyond this count towards the threshold again
 */
public record QuarantineStatus(
    boolean quarantined, String reason, long atEpochMs, long invalidBaseline)
    implements ControlMessage {

  public QuarantineStatus {
    Objects.requireNonNull(reason, "reason");
    if (invalidBaseline < 0) {
      throw new IllegalArgumentException("invalidBaseline must be >= 0, was " + invalidBaseline);
    }
  }
}
