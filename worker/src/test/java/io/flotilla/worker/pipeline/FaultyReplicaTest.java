package io.flotilla.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.worker.fault.FaultInjector;
import io.flotilla.worker.fault.FaultMode;
import io.flotilla.worker.fault.FaultSettings;
import io.flotilla.worker.transport.DataPlaneSettings;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A replica whose worker corrupts its results (noise, flip-signs, scale, zeros) really ends the
 * step with other parameters than its honest replicas, so its parameter digest is the odd one out
 * that the scheduler's replica vote rejects; what it sent to its replicas (its share of the
 * all-reduce) is untouched, so the honest replicas still agree with each other and with an
 * all-honest run.
 */
@ExtendWith(LogCapturingExtension.class)
class FaultyReplicaTest {
  static final PipelineSettings SETTINGS = new PipelineSettings(Duration.ofSeconds(60), 1);
  static final JobSpec SPEC = TestingSpecs.gpt(1, 3, "gpipe", 2, 6, 10, "gradient_sync: allreduce");
  static final int FAULTY = 2;

  @ParameterizedTest
  @EnumSource(
      value = FaultMode.class,
      names = {"NOISE", "FLIP_SIGNS", "SCALE", "ZEROS"})
  void aFaultyReplicaReportsParametersItsReplicasDoNotHold(FaultMode mode) {
    List<StepReport> honest = run("honest", slot -> FaultInjector.none());
    List<StepReport> faulty =
        run(
            "faulty",
            slot ->
                slot == FAULTY
                    ? FaultInjector.create(FaultSettings.none().withMode(mode))
                    : FaultInjector.none());
    for (int d = 0; d < 3; d++) {
      assertThat(honest.get(d).parameterDigest())
          .as("honest replica %d", d)
          .isEqualTo(honest.get(0).parameterDigest());
    }
    assertThat(faulty.get(0).parameterDigest())
        .as("the honest replicas agree with each other and with the honest run")
        .isEqualTo(faulty.get(1).parameterDigest())
        .isEqualTo(honest.get(0).parameterDigest());
    assertThat(faulty.get(FAULTY).parameterDigest())
        .as("the %s replica", mode.cliName())
        .isNotEqualTo(faulty.get(0).parameterDigest());
    assertThat(faulty.get(FAULTY).gradientDigest())
        .as("its gradient before the update is the all-reduced one")
        .isEqualTo(faulty.get(0).gradientDigest());
  }

  @Test
  void aDelayingReplicaHoldsEachStepOnceAndStaysCorrect() {
    List<Duration> sleeps = new java.util.concurrent.CopyOnWriteArrayList<>();
    FaultInjector delay =
        new FaultInjector(
            FaultSettings.none().withMode(FaultMode.DELAY),
            status -> {
              throw new AssertionError("halted with " + status);
            },
            sleeps::add);
    List<StepReport> reports =
        run("delayed", slot -> slot == FAULTY ? delay : FaultInjector.none());
    assertThat(sleeps).containsExactly(Duration.ofSeconds(5));
    assertThat(reports.get(FAULTY).parameterDigest()).isEqualTo(reports.get(0).parameterDigest());
  }

  private static List<StepReport> run(
      String jobId, java.util.function.IntFunction<FaultInjector> faults) {
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            jobId, SPEC, SETTINGS, DataPlaneSettings.loopback(Duration.ofSeconds(5)), faults)) {
      return pipeline.runStep(0);
    }
  }
}
