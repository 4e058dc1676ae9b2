package io.flotilla.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.RunStep;
import io.flotilla.protocol.task.StageFailed;
import io.flotilla.worker.transport.DataPlaneSettings;
import io.flotilla.worker.transport.TensorDtype;
import io.flotilla.worker.transport.TensorHeader;
import io.flotilla.worker.transport.TensorKind;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A stage whose peer is silent or sends garbage fails with an error naming that peer. */
@ExtendWith(LogCapturingExtension.class)
class StageFailureTest {
  static final PipelineSettings SHORT = new PipelineSettings(Duration.ofMillis(800), 1);
  static final JobSpec SPEC = TestingSpecs.gpt(2, 1, "gpipe", 2, 4, 10, "gradient_sync: allreduce");

  @Test
  void silentNeighbourFailsTheStepWithinTheTimeoutNamingIt() {
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "silent", SPEC, SHORT, DataPlaneSettings.loopback(Duration.ofSeconds(5)))) {
      StageExecutor first = pipeline.executors().get(0);
      // Stage 1 never runs: stage 0 sends its activations, then waits for a gradient.
      assertThatThrownBy(() -> first.runStep(0))
          .isInstanceOf(StageExecutionException.class)
          .hasMessageContaining("job silent step 0 stage 0 replica 0")
          .hasMessageContaining("waiting for gradient of micro-batch 1 from stage 1")
          .hasMessageContaining("no tensor from peer " + LocalPipeline.slotWorkerId("silent", 1, 0))
          .hasMessageContaining("within 800 ms");
      assertThat(first.nextStep()).isZero();
      assertThatThrownBy(() -> first.runStep(0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("failed at step 0");
      StageFailed failed =
          first.failed(0, new CompletionException(new StageExecutionException(0, "boom", null)));
      assertThat(failed.reason()).isEqualTo("boom");
      assertThat(failed.workerId()).isEqualTo(LocalPipeline.slotWorkerId("silent", 0, 0));
      assertThat(first.run(new RunStep("silent", 0)).join())
          .isInstanceOfSatisfying(
              StageFailed.class,
              f -> assertThat(f.reason()).contains("failed at step 0", "no tensor from peer"));
      assertThat(first.run(new RunStep("another-job", 0)).join())
          .isInstanceOfSatisfying(
              StageFailed.class,
              f -> assertThat(f.reason()).contains("runs job silent, not job another-job"));
    }
  }

  @Test
  void neighbourThatGoesAwayFailsTheStepNamingIt() throws Exception {
    PipelineSettings patient = new PipelineSettings(Duration.ofSeconds(60), 1);
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "gone", SPEC, patient, DataPlaneSettings.loopback(Duration.ofSeconds(5)))) {
      pipeline.runStep(0);
      StageExecutor second = pipeline.executors().get(1);
      CompletableFuture<?> waiting = second.runStepAsync(1);
      // Stage 0's worker disappears while stage 1 waits for its first activation of step 1.
      pipeline.transport(0).close();
      assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(StageExecutionException.class)
          .hasMessageContaining("job gone step 1 stage 1 replica 0")
          .hasMessageContaining("peer " + LocalPipeline.slotWorkerId("gone", 0, 0) + " went away");
    }
  }

  @Test
  void anExecutorClosedWhileItWaitsDoesNotAbortItsNeighbours() throws Exception {
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "closed", SPEC, SHORT, DataPlaneSettings.loopback(Duration.ofSeconds(5)))) {
      StageExecutor second = pipeline.executors().get(1);
      CompletableFuture<?> waiting = second.runStepAsync(0);
      // Its host releases the job while stage 1 waits for its first activation: the job is being
      // rebuilt, so stage 0 must not learn of it as an abort that would fail its next run.
      second.close();
      assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS))
          .hasMessageContaining("interrupted");
      assertThatThrownBy(() -> pipeline.executors().get(0).runStep(0))
          .isInstanceOf(StageExecutionException.class)
          .hasMessageContaining("no tensor from peer " + LocalPipeline.slotWorkerId("closed", 1, 0))
          .hasMessageNotContaining("aborted");
    }
  }

  @Test
  void malformedActivationIsRejectedNamingTheSender() throws Exception {
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "garbage", SPEC, SHORT, DataPlaneSettings.loopback(Duration.ofSeconds(5)))) {
      StageExecutor second = pipeline.executors().get(1);
      CompletableFuture<?> run = second.runStepAsync(0);
      // Pretend to be stage 0 and send an activation of the wrong shape.
      ByteBuffer payload = ByteBuffer.allocateDirect(4 * 3 * 5);
      pipeline
          .transport(0)
          .send(
              pipeline.transport(1).udpPeer(),
              new TensorHeader(
                  "garbage",
                  0,
                  0,
                  0,
                  TensorKind.ACTIVATION,
                  TensorDtype.FLOAT32,
                  new long[] {3, 5}),
              payload)
          .get(5, TimeUnit.SECONDS);
      assertThatThrownBy(() -> run.get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(StageExecutionException.class)
          .hasMessageContaining(
              "activation of micro-batch 0 from peer "
                  + LocalPipeline.slotWorkerId("garbage", 0, 0))
          .hasMessageContaining("has shape [3, 5]");
    }
  }
}
