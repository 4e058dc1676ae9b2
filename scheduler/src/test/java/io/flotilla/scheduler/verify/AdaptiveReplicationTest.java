package io.flotilla.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.protocol.job.RedundancyMode;
import io.flotilla.protocol.job.VerificationSpec;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AdaptiveReplicationTest {

  private static final VerificationSettings SETTINGS = new VerificationSettings(10, 0.02, 3);
  private static final VerificationSpec ADAPTIVE =
      new VerificationSpec(RedundancyMode.ADAPTIVE, 2, 1e-4, 0.05);

  static WorkerReputation record(String worker, long consecutiveValid) {
    return new WorkerReputation(
        worker, consecutiveValid, consecutiveValid, 0, consecutiveValid, false, "", 0);
  }

  static TaskKey task(long step) {
    return new TaskKey("job-1", step, 0, 0);
  }

  @Test
  void anUnprovenWorkerIsAlwaysReplicatedAndAProvenOneLessAndLess() {
    AdaptiveReplication policy = new AdaptiveReplication(ADAPTIVE, SETTINGS, 1);
    assertThat(policy.replicationProbability(record("w", 0))).isEqualTo(1.0);
    assertThat(policy.replicationProbability(record("w", 9))).isEqualTo(1.0);
    assertThat(policy.replicationProbability(record("w", 10))).isEqualTo(1.0);
    assertThat(policy.replicationProbability(record("w", 20))).isEqualTo(0.5);
    assertThat(policy.replicationProbability(record("w", 100))).isEqualTo(0.1);
    assertThat(policy.replicationProbability(record("w", 1_000_000))).isEqualTo(0.02);
    for (long step = 0; step < 200; step++) {
      AdaptiveReplication.Decision d = policy.decide(record("w", 3), task(step));
      assertThat(d.kind()).isEqualTo(AdaptiveReplication.Kind.REPLICATED);
      assertThat(d.executions()).isEqualTo(2);
    }
  }

  @Test
  void oneInvalidResultResetsTheRecordToFullReplication() {
    AdaptiveReplication policy = new AdaptiveReplication(ADAPTIVE, SETTINGS, 1);
    WorkerReputation proven = record("w", 500);
    WorkerReputation caught = new WorkerReputation("w", 0, 500, 1, 501, false, "", 0);
    assertThat(policy.replicationProbability(proven)).isLessThan(0.1);
    assertThat(policy.replicationProbability(caught)).isEqualTo(1.0);
  }

  @Test
  void quarantinedWorkersAreRefusedAndFixedFactorsAlwaysReplicate() {
    WorkerReputation quarantined =
        new WorkerReputation("q", 0, 3, 3, 6, true, "3 invalid results", 1);
    AdaptiveReplication adaptive = new AdaptiveReplication(ADAPTIVE, SETTINGS, 1);
    assertThat(adaptive.decide(quarantined, task(0)))
        .isEqualTo(new AdaptiveReplication.Decision(AdaptiveReplication.Kind.REFUSED, 0, 0));
    assertThat(adaptive.expectedExecutions(quarantined)).isZero();

    AdaptiveReplication fixed =
        new AdaptiveReplication(
            new VerificationSpec(RedundancyMode.FIXED, 3, 1e-4, 0.0), SETTINGS, 1);
    for (long step = 0; step < 100; step++) {
      assertThat(fixed.decide(record("w", 10_000), task(step)))
          .isEqualTo(new AdaptiveReplication.Decision(AdaptiveReplication.Kind.REPLICATED, 3, 1.0));
    }
    assertThat(fixed.expectedExecutions(record("w", 0))).isEqualTo(3.0);
  }

  @Test
  void withoutRedundancyOnlySpotChecksAtTheSpecsRate() {
    AdaptiveReplication none =
        new AdaptiveReplication(
            new VerificationSpec(RedundancyMode.NONE, 1, 1e-4, 0.2), SETTINGS, 9);
    Map<AdaptiveReplication.Kind, Integer> counts = count(none, record("w", 0), 20_000);
    assertThat(counts.getOrDefault(AdaptiveReplication.Kind.REPLICATED, 0)).isZero();
    assertThat(counts.get(AdaptiveReplication.Kind.SPOT_CHECKED) / 20_000.0)
        .isCloseTo(0.2, within(0.02));
  }

  /** Property: the probability never rises with a longer record, and stays within [p_min, 1]. */
  @Test
  void property_probabilityIsMonotoneAndBounded() {
    AdaptiveReplication policy = new AdaptiveReplication(ADAPTIVE, SETTINGS, 1);
    double previous = 1.0;
    for (long n = 0; n < 5_000; n++) {
      double p = policy.replicationProbability(record("w", n));
      assertThat(p).isBetween(0.02, 1.0).isLessThanOrEqualTo(previous);
      previous = p;
    }
  }

  /** Property: the observed replication share matches p(n), and spot checks cover the rest. */
  @Test
  void property_observedSharesMatchTheFormula() {
    AdaptiveReplication policy = new AdaptiveReplication(ADAPTIVE, SETTINGS, 123);
    Random random = new Random(5);
    for (int trial = 0; trial < 5; trial++) {
      long n = 10 + random.nextInt(200);
      WorkerReputation rep = record("w" + trial, n);
      int tasks = 20_000;
      Map<AdaptiveReplication.Kind, Integer> counts = count(policy, rep, tasks);
      double p = policy.replicationProbability(rep);
      assertThat(counts.getOrDefault(AdaptiveReplication.Kind.REPLICATED, 0) / (double) tasks)
          .as("n=%d", n)
          .isCloseTo(p, within(0.02));
      assertThat(counts.getOrDefault(AdaptiveReplication.Kind.SPOT_CHECKED, 0) / (double) tasks)
          .isCloseTo((1 - p) * 0.05, within(0.01));
    }
  }

  /** Property: the same seed gives the same decisions, in any order; another seed does not. */
  @Test
  void property_decisionsAreReproducibleFromTheSeed() {
    AdaptiveReplication a = new AdaptiveReplication(ADAPTIVE, SETTINGS, 77);
    AdaptiveReplication b = new AdaptiveReplication(ADAPTIVE, SETTINGS, 77);
    AdaptiveReplication c = new AdaptiveReplication(ADAPTIVE, SETTINGS, 78);
    WorkerReputation rep = record("w", 40);
    int differences = 0;
    for (long step = 999; step >= 0; step--) {
      AdaptiveReplication.Decision first = a.decide(rep, task(step));
      assertThat(b.decide(rep, task(step))).isEqualTo(first);
      assertThat(a.decide(rep, task(step))).isEqualTo(first);
      if (!c.decide(rep, task(step)).equals(first)) {
        differences++;
      }
    }
    assertThat(differences).isPositive();
  }

  @Test
  void expectedOverheadOfAProvenWorkerIsSmall() {
    AdaptiveReplication policy = new AdaptiveReplication(ADAPTIVE, SETTINGS, 1);
    // n = 100: p = 0.1, 1 + 0.1 + 0.9 * 0.05 = 1.145
    assertThat(policy.expectedExecutions(record("w", 100))).isCloseTo(1.145, within(1e-9));
    assertThat(policy.expectedExecutions(record("w", 0))).isEqualTo(2.0);
  }

  @Test
  void settingsAreReadFromReferenceConfAndValidated() {
    VerificationSettings s = VerificationSettings.create(ConfigFactory.load());
    assertThat(s).isEqualTo(new VerificationSettings(10, 0.02, 3));
    assertThatThrownBy(() -> new VerificationSettings(0, 0.1, 3))
        .hasMessageContaining("trust-after-valid must be >= 1");
    assertThatThrownBy(() -> new VerificationSettings(10, 1.5, 3))
        .hasMessageContaining("min-replication-probability must be in 0..1");
    assertThatThrownBy(() -> new VerificationSettings(10, 0.1, 1))
        .hasMessageContaining("max-executions must be >= 2");
  }

  private static Map<AdaptiveReplication.Kind, Integer> count(
      AdaptiveReplication policy, WorkerReputation rep, int tasks) {
    Map<AdaptiveReplication.Kind, Integer> counts = new EnumMap<>(AdaptiveReplication.Kind.class);
    for (int step = 0; step < tasks; step++) {
      counts.merge(policy.decide(rep, task(step)).kind(), 1, Integer::sum);
    }
    return counts;
  }
}
