package io.flotilla.loadtest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When the workers of each job last answered a round of the scheduler's orders, so that the
 * simulated workers can time how long the scheduler takes to send the next order (the dispatch
 * latency). All simulated workers live in this JVM, so their {@link System#nanoTime()} readings
 * compare.
 *
 * <p>A round is one kind of order to every slot of a job (prepare, step s, checkpoint after s); it
 * ends when the last slot's reply is sent. The next order the scheduler sends can only be caused by
 * that last reply: the time from it to the order's arrival is what the scheduler spent (transport
 * both ways, verification, journaling, dispatch).
 */
public final class StepClock {

  /** What the round that preceded an order was. */
  public enum Round {
    PREPARE,
    STEP,
    CHECKPOINT
  }

  /** The end of the round before an order, as a worker receiving the order sees it. */
  public record Preceding(Round round, long endNanos) {}

  private static final class JobRounds {
    Round round;
    long step = -1;
    int replies;
    Round lastRound;
    long lastEndNanos;
  }

  private final Map<String, JobRounds> jobs = new ConcurrentHashMap<>();

  /**
   * Records one slot's reply to a round of {@code jobId}; the round ends with the {@code
   * expected}-th reply.
   */
  public void replied(String jobId, Round round, long step, int expected, long nowNanos) {
    JobRounds r = jobs.computeIfAbsent(jobId, k -> new JobRounds());
    synchronized (r) {
      if (r.round != round || r.step != step) {
        r.round = round;
        r.step = step;
        r.replies = 0;
      }
      if (++r.replies == expected) {
        r.lastRound = round;
        r.lastEndNanos = nowNanos;
        r.round = null;
        r.step = -1;
      }
    }
  }

  /** The round that ended last for {@code jobId}, or null when none did. */
  public Preceding preceding(String jobId) {
    JobRounds r = jobs.get(jobId);
    if (r == null) {
      return null;
    }
    synchronized (r) {
      return r.lastRound == null ? null : new Preceding(r.lastRound, r.lastEndNanos);
    }
  }

  /** Forgets a job that ended. */
  public void forget(String jobId) {
    jobs.remove(jobId);
  }
}
