package io.flotilla.scheduler.verify;

import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.job.RedundancyMode;
import io.flotilla.protocol.job.VerificationSpec;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Decides, per task, how many workers compute it: BOINC-style adaptive replication.
 *
 * <p>With {@code redundancy: adaptive} a task placed on a worker with {@code n} consecutive valid
 * results is replicated (run by {@code factor} workers at once, a shadow beside it) with
 * probability
 *
 * <pre>
 *   p(n) = 1                                  when n &lt; N
 *   p(n) = max(p_min, N / n)                  when n &gt;= N
 * </pre>
 *
 * where {@code N} is {@code trust-after-valid} and {@code p_min} {@code
 * min-replication-probability}. One invalid result sets {@code n} to 0, so the worker's next {@code
 * N} tasks are all replicated again. A task that is not replicated is spot-checked (re-executed on
 * another worker afterwards) with the job's {@code spot_check_rate}. A fixed factor {@code r}
 * replicates every task {@code r} times; {@code redundancy: none} only spot-checks. Quarantined
 * workers get no tasks.
 *
 * <p>Every draw is a pure function of the seed, the task and the worker, so a scheduler that
 * replays a job (after a restart, or in a test) makes the same decisions in any order.
 */
public final class AdaptiveReplication {

  /** How a task is run. */
  public enum Kind {
    /** On one worker, unchecked. */
    SINGLE,
    /** On {@code factor} workers at once; their results are verified against each other. */
    REPLICATED,
    /** On one worker, then once more on another to check it. */
    SPOT_CHECKED,
    /** Not at all on this worker: it is quarantined. */
    REFUSED
  }

  /**
   * The decision for one task.
   *
   * @param kind how the task is run
   * @param executions how many workers compute it (0 when refused)
   * @param replicationProbability the probability of replication that applied to the worker
   */
  public record Decision(Kind kind, int executions, double replicationProbability) {}

  private final VerificationSpec spec;
  private final VerificationSettings settings;
  private final long seed;

  /**
   * Creates the policy of one job.
   *
   * @param spec the job's verification section
   * @param settings the scheduler's verification settings
   * @param seed seed of every draw; the same seed gives the same decisions
   */
  public AdaptiveReplication(VerificationSpec spec, VerificationSettings settings, long seed) {
    this.spec = spec;
    this.settings = settings;
    this.seed = seed;
  }

  /** The probability that the next task of a worker with this record is replicated. */
  public double replicationProbability(WorkerReputation reputation) {
    return switch (spec.redundancy()) {
      case NONE -> 0.0;
      case FIXED -> 1.0;
      case ADAPTIVE -> adaptiveProbability(reputation.consecutiveValid());
    };
  }

  private double adaptiveProbability(long consecutiveValid) {
    int trustAfter = settings.trustAfterValid();
    if (consecutiveValid < trustAfter) {
      return 1.0;
    }
    return Math.max(settings.minReplicationProbability(), (double) trustAfter / consecutiveValid);
  }

  /**
   * Workers that compute a task of a worker with this record, on average: {@code 1 + p (r - 1) + (1
   * - p) s} for replication probability {@code p}, factor {@code r} and spot-check rate {@code s}.
   * The verification overhead is this over 1.
   */
  public double expectedExecutions(WorkerReputation reputation) {
    if (reputation.quarantined()) {
      return 0;
    }
    double p = replicationProbability(reputation);
    int factor = Math.max(2, spec.factor());
    return 1 + p * (factor - 1) + (1 - p) * spec.spotCheckRate();
  }

  /** Decides how {@code task}, placed on the worker with this record, is run. */
  public Decision decide(WorkerReputation reputation, TaskKey task) {
    if (reputation.quarantined()) {
      return new Decision(Kind.REFUSED, 0, 0);
    }
    double p = replicationProbability(reputation);
    if (spec.redundancy() == RedundancyMode.FIXED) {
      return new Decision(Kind.REPLICATED, spec.factor(), p);
    }
    if (p > 0 && draw(reputation.workerId(), task, 1) < p) {
      return new Decision(Kind.REPLICATED, Math.max(2, spec.factor()), p);
    }
    if (spec.spotCheckRate() > 0 && draw(reputation.workerId(), task, 2) < spec.spotCheckRate()) {
      return new Decision(Kind.SPOT_CHECKED, 2, p);
    }
    return new Decision(Kind.SINGLE, 1, p);
  }

  /** A uniform draw in [0, 1) determined by the seed, the worker, the task and {@code salt}. */
  private double draw(String workerId, TaskKey task, int salt) {
    long h = 0xcbf29ce484222325L;
    h = fnv(h, task.jobId());
    h = fnv(h, workerId);
    h = (h ^ task.step()) * 0x100000001b3L;
    h = (h ^ task.stage()) * 0x100000001b3L;
    h = (h ^ task.replica()) * 0x100000001b3L;
    h = (h ^ salt) * 0x100000001b3L;
    return new SplittableRandom(seed ^ h).nextDouble();
  }

  private static long fnv(long h, String s) {
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    // a separator, so ("ab", "c") and ("a", "bc") differ
    return (h ^ 0xff) * 0x100000001b3L;
  }
}
