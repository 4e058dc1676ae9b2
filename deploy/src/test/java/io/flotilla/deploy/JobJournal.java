package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flotilla.scheduler.job.JobEvent;
import java.util.List;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorSystem;

/** What the cluster tests read back from a job's journal. */
final class JobJournal {
  private JobJournal() {}

  /** Every event journaled for job {@code jobId}, in order, read through {@code system}. */
  static List<Object> events(ActorSystem<?> system, String jobId) throws Exception {
    return DemoIncidents.journal(system, jobId);
  }

  /**
   * The loss of every step the job kept, by step: a run that resumed from step s discards the steps
   * after s that an interrupted run had journaled.
   */
  static TreeMap<Long, Double> keptLosses(List<Object> events) {
    TreeMap<Long, Double> losses = new TreeMap<>();
    for (Object e : events) {
      if (e instanceof JobEvent.JobStarted started) {
        losses.tailMap(started.fromStep(), false).clear();
      } else if (e instanceof JobEvent.StepCompleted c) {
        losses.put(c.metrics().step(), c.metrics().loss());
      }
    }
    return losses;
  }

  /** Asserts that {@code losses} are the {@code steps} losses of single-process training. */
  static void assertReferenceLosses(TreeMap<Long, Double> losses, double[] reference, int steps) {
    assertThat(losses).hasSize(steps);
    losses.forEach(
        (step, loss) ->
            assertThat(loss)
                .as("loss of step %d", step)
                .isCloseTo(
                    reference[(int) (step - 1)],
                    within(1e-5 * Math.abs(reference[(int) (step - 1)]))));
  }
}
