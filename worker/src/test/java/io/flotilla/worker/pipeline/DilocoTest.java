package io.flotilla.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.data.Batch;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.nn.CrossEntropyLoss;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.optim.AdamW;
import io.flotilla.engine.optim.LrSchedule;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * DiLoCo over a 2 x 2 pipeline matches a single-process simulation of DiLoCo (D independent
 * replicas with their own AdamW, averaged deltas, Nesterov outer step) within 1e-5, and replicas
 * agree bit for bit right after each synchronisation and differ between them.
 */
@ExtendWith(LogCapturingExtension.class)
class DilocoTest {
  static final int STEPS = 12;
  static final int H = 4;
  static final float OUTER_LR = 0.7f;
  static final float OUTER_MOMENTUM = 0.9f;

  @Test
  void dilocoPipelineMatchesASingleProcessSimulation() throws Exception {
    JobSpec spec =
        TestingSpecs.gpt(
            2,
            2,
            "1f1b",
            2,
            8,
            STEPS,
            "gradient_sync: diloco\n  diloco:\n    inner_steps: "
                + H
                + "\n    outer_lr: "
                + OUTER_LR
                + "\n    outer_momentum: "
                + OUTER_MOMENTUM);
    double[][] reference = simulate(spec);
    try (LocalPipeline pipeline =
        LocalPipeline.start(
            "diloco",
            spec,
            new PipelineSettings(Duration.ofSeconds(30), 1),
            DataPlaneSettings.loopback(Duration.ofSeconds(10)))) {
      for (int step = 0; step < STEPS; step++) {
        List<StepReport> reports = pipeline.runStep(step);
        for (StepReport r : reports) {
          if (r.hasLoss()) {
            assertThat(r.loss())
                .as("replica %d loss at step %d", r.replica(), step)
                .isCloseTo(
                    reference[r.replica()][step],
                    within(1e-5 * Math.abs(reference[r.replica()][step])));
          }
        }
        Set<String> stage0 =
            reports.stream()
                .filter(r -> r.stage() == 0)
                .map(StepReport::parameterDigest)
                .collect(Collectors.toSet());
        boolean synced = (step + 1) % H == 0;
        assertThat(stage0)
            .as("replicas of stage 0 after step %d (synchronised: %s)", step, synced)
            .hasSize(synced ? 1 : 2);
      }
    }
  }

  /** Per replica, its losses under DiLoCo computed in one process. */
  static double[][] simulate(JobSpec spec) throws Exception {
    int d = spec.parallelism().replicas();
    int m = spec.training().microBatches();
    int mb = spec.microBatchSize();
    JobConfig job = EngineJob.forReplica(spec);
    long seed = job.training().seed();
    LrSchedule schedule = EngineJob.schedule(job);
    double[][] losses = new double[d][STEPS];
    try (CpuBackend backend = new CpuBackend(1)) {
      Dataset data = LocalTrainer.openDataset(job);
      List<Model> models = new ArrayList<>();
      List<AdamW> optimizers = new ArrayList<>();
      for (int r = 0; r < d; r++) {
        Model model = LocalTrainer.buildModel(backend, job, data);
        models.add(model);
        optimizers.add(new AdamW(backend, model.parameters(), job.training().optimizer()));
      }
      Model anchorModel = LocalTrainer.buildModel(backend, job, data);
      List<Parameter> anchors = anchorModel.parameters();
      List<float[]> momenta = new ArrayList<>();
      for (Parameter p : anchors) {
        momenta.add(new float[p.size()]);
      }
      CrossEntropyLoss loss = new CrossEntropyLoss(backend);
      Batch batch = new Batch();
      for (int step = 0; step < STEPS; step++) {
        for (int r = 0; r < d; r++) {
          Model model = models.get(r);
          model.zeroGrad();
          double sum = 0;
          for (int k = 0; k < m; k++) {
            data.fillTrain(seed, step, Dataset.shardOffset(r, k, m, mb), mb, batch);
            var logits =
                model.forward(
                    batch.inputs(),
                    new ForwardContext(true, Trainer.passSeed(seed, step, r * m + k)));
            int count = Math.max(1, CrossEntropyLoss.countTargets(batch.targets()));
            sum += loss.forwardBackward(logits, batch.targets(), 1f / (count * m)) / count;
            model.backward(loss.grad());
          }
          losses[r][step] = sum / m;
          optimizers.get(r).clipGradients();
          optimizers.get(r).step(schedule.lr(step));
        }
        if ((step + 1) % H == 0) {
          for (int i = 0; i < anchors.size(); i++) {
            float[] a = anchors.get(i).value().data();
            float[] mom = momenta.get(i);
            for (int j = 0; j < anchors.get(i).size(); j++) {
              float delta = 0;
              for (int r = 0; r < d; r++) {
                delta += a[j] - models.get(r).parameters().get(i).value().data()[j];
              }
              float g = delta * (1f / d);
              mom[j] = OUTER_MOMENTUM * mom[j] + g;
              a[j] -= OUTER_LR * (g + OUTER_MOMENTUM * mom[j]);
            }
            for (int r = 0; r < d; r++) {
              System.arraycopy(a, 0, models.get(r).parameters().get(i).value().data(), 0, a.length);
            }
          }
        }
      }
    }
    return losses;
  }
}
