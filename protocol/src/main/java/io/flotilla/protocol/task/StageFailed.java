package io.flotilla.protocol.task;

import java.util.Objects;

/**
 * A stage replica could not complete a step: a peer went away or timed out, a tensor arrived
 * corrupted, or the computation failed. The reason names the peer or the cause.
 *
 * @param jobId the job
 * @param step the step that failed
 * @param stage pipeline stage of the reporting worker
 * @param replica replica of the reporting worker
 * @param workerId the reporting worker
 * @param reason what went wrong, naming the peer where one is to blame
 */
public record StageFailed(
    String jobId, long step, int stage, int replica, String workerId, String reason)
    implements TaskMessage {
  public StageFailed {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(workerId, "workerId");
    reason = Objects.requireNonNullElse(reason, "unknown failure");
  }
}
