package io.flotilla.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.LocalTrainer;
import io.flotilla.engine.train.Trainer;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.worker.transport.DataPlaneSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Synchronous P x D pipeline training, every slot with its own transport over loopback UDP, gives
 * the same losses as training the same global batch in one process with the engine's {@link
 * Trainer}: 50 steps, relative difference at most 1e-5, with dropout, clipping and a warm-up
 * schedule on, for both schedules.
 */
@ExtendWith(LogCapturingExtension.class)
class PipelineCorrectnessTest {
  static final int STEPS = 50;
  static final PipelineSettings SETTINGS = new PipelineSettings(Duration.ofSeconds(30), 1);

  @ParameterizedTest(name = "P={0} D={1} {2} M={3}")
  @CsvSource({
    "1, 2, gpipe, 2",
    "1, 2, 1f1b, 2",
    "2, 1, gpipe, 4",
    "2, 1, 1f1b, 4",
    "2, 2, gpipe, 4",
    "2, 2, 1f1b, 4",
    "4, 1, 1f1b, 3"
  })
  void pipelineMatchesSingleProcessTraining(int p, int d, String schedule, int m) throws Exception {
    JobSpec spec =
        TestingSpecs.gpt(p, d, schedule, m, d * m * 2, STEPS, "gradient_sync: allreduce");
    double[] reference = referenceLosses(spec);

    List<Double> losses = new ArrayList<>();
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "corr-" + p + d + schedule,
            spec,
            SETTINGS,
            DataPlaneSettings.loopback(Duration.ofSeconds(10)))) {
      for (int step = 0; step < STEPS; step++) {
        List<StepReport> reports = pipeline.runStep(step);
        losses.add(LocalPipeline.loss(reports));
        for (int k = 0; k < p; k++) {
          int stage = k;
          Set<String> params =
              reports.stream()
                  .filter(r -> r.stage() == stage)
                  .map(StepReport::parameterDigest)
                  .collect(Collectors.toSet());
          Set<String> grads =
              reports.stream()
                  .filter(r -> r.stage() == stage)
                  .map(StepReport::gradientDigest)
                  .collect(Collectors.toSet());
          assertThat(params).as("parameter digests of stage %d's replicas", k).hasSize(1);
          assertThat(grads).as("gradient digests of stage %d's replicas", k).hasSize(1);
        }
        assertThat(reports.stream().map(StepReport::gradNorm).distinct().count())
            .as("every slot clips with the same global norm")
            .isEqualTo(1);
      }
    }
    for (int step = 0; step < STEPS; step++) {
      assertThat(losses.get(step))
          .as("loss of step %d", step)
          .isCloseTo(reference[step], within(1e-5 * Math.abs(reference[step])));
    }
    assertThat(losses.get(STEPS - 1)).as("the model learns").isLessThan(losses.get(0));
  }

  /**
   * The planner cuts by measured cost, so a stage may hold the embeddings alone, or the head alone:
   * the tied embedding then lives on stages that compute nothing else, and training must still be
   * the single-process training.
   */
  @ParameterizedTest(name = "cut {0} D={1}")
  @CsvSource({"0 1 4, 1", "0 1 4, 3", "0 3 4, 2", "0 1 3 4, 2"})
  void unevenCutsMatchSingleProcessTraining(String cut, int d) throws Exception {
    int[] boundaries =
        java.util.Arrays.stream(cut.split(" ")).mapToInt(Integer::parseInt).toArray();
    int p = boundaries.length - 1;
    int m = 4;
    JobSpec spec = TestingSpecs.gpt(p, d, "1f1b", m, d * m * 2, STEPS, "gradient_sync: allreduce");
    double[] reference = referenceLosses(spec);
    List<Double> losses = new ArrayList<>();
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "cut-" + cut.replace(' ', '-') + "-" + d,
            spec,
            SETTINGS,
            DataPlaneSettings.loopback(Duration.ofSeconds(10)),
            boundaries)) {
      for (int step = 0; step < STEPS; step++) {
        losses.add(LocalPipeline.loss(pipeline.runStep(step)));
      }
    }
    for (int step = 0; step < STEPS; step++) {
      assertThat(losses.get(step))
          .as("loss of step %d", step)
          .isCloseTo(reference[step], within(1e-5 * Math.abs(reference[step])));
    }
  }

  /** One process, the same global batch as D x M micro-batches, the same seed. */
  static double[] referenceLosses(JobSpec spec) throws Exception {
    JobConfig job = EngineJob.singleProcess(spec);
    try (CpuBackend backend = new CpuBackend(1)) {
      Dataset data = LocalTrainer.openDataset(job);
      Model model = LocalTrainer.buildModel(backend, job, data);
      Trainer trainer = new Trainer(backend, model, data, job.training());
      double[] losses = new double[STEPS];
      for (int step = 0; step < STEPS; step++) {
        losses[step] = trainer.step(step).loss();
      }
      return losses;
    }
  }
}
