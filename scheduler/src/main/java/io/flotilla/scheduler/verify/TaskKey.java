package io.flotilla.scheduler.verify;

import java.util.Objects;

/**
 * Names one task of a job: the work of one (stage, replica) slot in one step.
 *
 * @param jobId the job
 * @param step the step, 0-based
 * @param stage pipeline stage k
 * @param replica data-parallel replica d
 */
public record TaskKey(String jobId, long step, int stage, int replica) {
  public TaskKey {
    Objects.requireNonNull(jobId, "jobId");
  }

  @Override
  public String toString() {
    return jobId + "/step " + step + "/stage " + stage + "/replica " + replica;
  }
}
