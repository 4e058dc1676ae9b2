package io.flotilla.worker.collective;

import io.flotilla.worker.transport.DataPlanePeer;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * The D replicas of one pipeline stage that reduce gradients together, in ring order, and which of
 * them this process is.
 *
 * @param jobId the job
 * @param stage the pipeline stage
 * @param members the replicas in ring order (every replica must use the same order)
 * @param rank this process's index in {@code members}
 */
public record ReplicaGroup(String jobId, int stage, List<DataPlanePeer> members, int rank) {
  /** Most replicas a group may have. */
  public static final int MAX_REPLICAS = 256;

  public ReplicaGroup {
    Objects.requireNonNull(jobId, "jobId");
    members = List.copyOf(members);
    if (members.isEmpty() || members.size() > MAX_REPLICAS) {
      throw new IllegalArgumentException(
          "a replica group needs 1.." + MAX_REPLICAS + " members, had " + members.size());
    }
    if (rank < 0 || rank >= members.size()) {
      throw new IllegalArgumentException(
          "rank must be in 0.." + (members.size() - 1) + ", was " + rank);
    }
    var ids = new HashSet<String>();
    for (DataPlanePeer member : members) {
      if (!ids.add(member.workerId())) {
        throw new IllegalArgumentException("worker " + member.workerId() + " appears twice");
      }
    }
  }

  /** Number of replicas D. */
  public int size() {
    return members.size();
  }

  /** This replica. */
  public DataPlanePeer self() {
    return members.get(rank);
  }

  /** The replica this one sends to in the ring. */
  public DataPlanePeer next() {
    return members.get((rank + 1) % members.size());
  }

  /** The replica this one receives from in the ring. */
  public DataPlanePeer previous() {
    return members.get((rank + members.size() - 1) % members.size());
  }

  /** A copy of this group as seen by another rank. */
  public ReplicaGroup atRank(int otherRank) {
    return new ReplicaGroup(jobId, stage, members, otherRank);
  }
}
