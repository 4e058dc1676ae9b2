package io.flotilla.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.worker.transport.DataPlaneSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Stage shards resume training exactly and assemble into the whole model. */
@ExtendWith(LogCapturingExtension.class)
class StageCheckpointTest {
  static final PipelineSettings SETTINGS = new PipelineSettings(Duration.ofSeconds(30), 1);
  static final JobSpec SPEC = TestingSpecs.gpt(2, 2, "1f1b", 2, 8, 8, "gradient_sync: allreduce");

  static LocalPipeline start() {
    return LocalPipeline.start(
        "ckpt", SPEC, SETTINGS, DataPlaneSettings.loopback(Duration.ofSeconds(10)));
  }

  @Test
  void resumingFromStageShardsContinuesBitForBit(@TempDir Path dir) throws Exception {
    List<Double> uninterrupted = new ArrayList<>();
    try (LocalPipeline pipeline = start()) {
      for (int step = 0; step < 8; step++) {
        uninterrupted.add(LocalPipeline.loss(pipeline.runStep(step)));
      }
    }

    List<Path> shards = new ArrayList<>();
    try (LocalPipeline pipeline = start()) {
      for (int step = 0; step < 4; step++) {
        pipeline.runStep(step);
      }
      for (int k = 0; k < 2; k++) {
        StageCheckpoint.Shard first = pipeline.executors().get(2 * k).writeCheckpoint(dir);
        StageCheckpoint.Shard second =
            pipeline.executors().get(2 * k + 1).writeCheckpoint(dir.resolve("replica-1"));
        assertThat(second.sha256())
            .as("replicas of stage %d write identical shards", k)
            .isEqualTo(first.sha256());
        shards.add(first.file());
      }
      try (CpuBackend backend = new CpuBackend(1)) {
        Model whole = StageCheckpoint.assemble(backend, SPEC, shards);
        Map<String, Parameter> byName = whole.parameterMap();
        for (StageExecutor e : pipeline.executors()) {
          for (Parameter p : e.parameters()) {
            assertThat(byName.get(p.name()).value().toArray())
                .as("assembled %s", p.name())
                .isEqualTo(p.value().toArray());
          }
        }
      }
    }

    try (LocalPipeline pipeline = start()) {
      for (int i = 0; i < 4; i++) {
        pipeline.executors().get(i).restore(shards.get(i / 2));
      }
      for (int step = 4; step < 8; step++) {
        assertThat(LocalPipeline.loss(pipeline.runStep(step)))
            .as("loss of step %d after resuming", step)
            .isEqualTo(uninterrupted.get(step));
      }
    }
  }

  @Test
  void aShardOfAnotherStageIsRefused(@TempDir Path dir) throws Exception {
    try (LocalPipeline pipeline = start()) {
      Path stage0 = pipeline.executors().get(0).writeCheckpoint(dir).file();
      assertThatThrownBy(() -> pipeline.executors().get(2).restore(stage0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("has no tensor transformer.h.");
    }
  }

  /**
   * A job placed again may cut its layers differently: a one-stage pipeline resumes from the two
   * shards of a two-stage one, each tensor found by name, and continues with the same losses.
   */
  @Test
  void resumingWithOtherStageBoundaries(@TempDir Path dir) throws Exception {
    List<Double> uninterrupted = new ArrayList<>();
    List<Path> shards = new ArrayList<>();
    try (LocalPipeline pipeline = start()) {
      for (int step = 0; step < 6; step++) {
        uninterrupted.add(LocalPipeline.loss(pipeline.runStep(step)));
        if (step == 2) {
          shards.add(pipeline.executors().get(0).writeCheckpoint(dir).file());
          shards.add(pipeline.executors().get(2).writeCheckpoint(dir).file());
        }
      }
    }
    JobSpec oneStage = TestingSpecs.gpt(1, 2, "1f1b", 2, 8, 8, "gradient_sync: allreduce");
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "ckpt-recut", oneStage, SETTINGS, DataPlaneSettings.loopback(Duration.ofSeconds(10)))) {
      for (StageExecutor e : pipeline.executors()) {
        e.restore(shards);
        assertThat(e.nextStep()).isEqualTo(3);
      }
      for (int step = 3; step < 6; step++) {
        double expected = uninterrupted.get(step);
        assertThat(LocalPipeline.loss(pipeline.runStep(step)))
            .as("loss of step %d after resuming on one stage", step)
            .isCloseTo(expected, org.assertj.core.api.Assertions.within(1e-5 * expected));
      }
    }
  }
}
