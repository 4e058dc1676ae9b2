package io.flotilla.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.checkpoint.Checkpoints;
import io.flotilla.engine.optim.LrSchedule;
import io.flotilla.protocol.job.JobSpecParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingTest {
  @TempDir Path dir;

  private static final String JOB =
      """
      name: tiny-addition
      model: {type: gpt, layers: 1, width: 32, heads: 2, context: 9, dropout: 0.0}
      dataset: {type: addition, options: {digits: 2, eval_examples: 64}}
      training:
        steps: 60
        global_batch: 32
        micro_batches: 2
        seed: 3
        optimizer: {lr: 0.003, betas: [0.9, 0.99], weight_decay: 0.0, grad_clip: 1.0}
        schedule: {warmup_steps: 5, min_lr_ratio: 0.1}
      """;

  @Test
  void shortTrainingRunReducesTheLossAndWritesACheckpoint() throws Exception {
    JobConfig job = JobSpecs.toJobConfig(JobSpecParser.parse(JOB));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (CpuBackend backend = new CpuBackend(2)) {
      long[] fakeNanos = {0};
      LocalTrainer.Outcome o =
          new LocalTrainer(
                  backend, job, dir, new PrintStream(log, true), () -> fakeNanos[0] += 1_000_000)
              .run();
      assertThat(o.lastLoss()).isLessThan(o.firstLoss() * 0.75);
      assertThat(o.eval().samples()).isEqualTo(64);
      assertThat(Checkpoints.hasTrainingState(dir)).isTrue();
      assertThat(Checkpoints.loadModel(backend, dir).config().vocab()).isEqualTo(12);
    }
    assertThat(log.toString()).contains("step 60/60").contains("tokens/s").contains("ETA");
  }

  @Test
  void gradientAccumulationEqualsOneLargeBatchUpToRounding() throws Exception {
    double[] losses = new double[2];
    for (int k = 0; k < 2; k++) {
      String yaml =
          JOB.replace("micro_batches: 2", "micro_batches: " + (k == 0 ? 1 : 4))
              .replace("steps: 60", "steps: 3")
              .replace("warmup_steps: 5", "warmup_steps: 2");
      JobConfig job = JobSpecs.toJobConfig(JobSpecParser.parse(yaml));
      try (CpuBackend backend = new CpuBackend(1)) {
        var data = LocalTrainer.openDataset(job);
        var model = LocalTrainer.buildModel(backend, job, data);
        Trainer t = new Trainer(backend, model, data, job.training());
        t.step(0);
        t.step(1);
        losses[k] = t.step(2).loss();
      }
    }
    assertThat(losses[1]).isCloseTo(losses[0], org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void scheduleWarmsUpThenDecays() {
    LrSchedule s = new LrSchedule(1f, 0.1f, 10, 110);
    assertThat(s.lr(0)).isEqualTo(0.1f);
    assertThat(s.lr(9)).isEqualTo(1f);
    assertThat(s.lr(60)).isCloseTo(0.55f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(s.lr(110)).isEqualTo(0.1f);
  }

  @Test
  void aVocabularySmallerThanTheDatasetsIsRejected() {
    JobConfig job =
        JobSpecs.toJobConfig(
            JobSpecParser.parse(
                JOB.replace("context: 9, dropout: 0.0", "context: 9, vocab_size: 11")));
    try (CpuBackend backend = new CpuBackend(1)) {
      var data = LocalTrainer.openDataset(job);
      assertThatThrownBy(() -> LocalTrainer.buildModel(backend, job, data))
          .hasMessageContaining("vocabulary")
          .hasMessageContaining("12");
    }
  }
}
