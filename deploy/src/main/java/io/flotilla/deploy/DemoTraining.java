package io.flotilla.deploy;

import com.typesafe.config.Config;
import io.flotilla.deploy.cli.DemoCommand;
import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.checkpoint.Checkpoints;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.train.Evaluator;
import io.flotilla.engine.train.LocalTrainer;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.LinkMatrix;
import io.flotilla.scheduler.planner.PlanRenderer;
import io.flotilla.scheduler.planner.PlanRequest;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.planner.Planner;
import io.flotilla.worker.WorkerNode;
import io.flotilla.worker.pipeline.EngineJob;
import io.flotilla.worker.pipeline.LocalPipeline;
import io.flotilla.worker.pipeline.PeerDirectory;
import io.flotilla.worker.pipeline.PipelineSettings;
import io.flotilla.worker.pipeline.StageCheckpoint;
import io.flotilla.worker.pipeline.StageExecutor;
import io.flotilla.worker.transport.TensorTransport;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's training phase: plans a job on the live registry with the scheduler's {@link Planner},
 * runs one {@link StageExecutor} per planned (stage, replica) slot on that worker's own data plane
 * — activations, gradients and all-reduce chunks travel over Aeron UDP between the workers' media
 * drivers — and ends with held-out accuracy, where the model was saved and a summary per worker.
 *
 * <p>The phase drives the steps itself, in this process. In a deployed cluster the scheduler's job
 * manager sends the same stage assignments and step orders over the control plane.
 */
public final class DemoTraining implements DemoCommand.DemoPhase {

  private static final int EVAL_BATCH = 256;

  private final JobSpec spec;
  private final long steps;
  private final Path outputDir;

  /**
   * @param spec the job to train
   * @param steps optimizer steps to run (at most the spec's {@code training.steps})
   * @param outputDir where the stage checkpoints and the exported model go
   */
  public DemoTraining(JobSpec spec, long steps, Path outputDir) {
    this.spec = spec;
    this.steps = steps;
    this.outputDir = outputDir;
  }

  @Override
  public String name() {
    return "training " + spec.name();
  }

  @Override
  public int run(LocalCluster cluster, PrintStream out) throws Exception {
    Map<String, WorkerCapabilities> registry = cluster.registry();
    PlanResult result =
        Planner.plan(
            PlanRequest.forSpec(spec, List.copyOf(registry.values()), LinkMatrix.unmeasured()));
    out.println(PlanRenderer.render(result));
    if (!(result instanceof PlanResult.Plan plan)) {
      return 1;
    }
    Map<String, WorkerNode> workersById = new HashMap<>();
    for (WorkerNode w : cluster.workers()) {
      workersById.put(w.workerId(), w);
    }
    String jobId = spec.name() + "-demo";
    List<StageSlot> slots = new ArrayList<>();
    List<TensorTransport> transports = new ArrayList<>();
    for (PlanResult.StagePlan stage : plan.stages()) {
      for (PlanResult.Placement p : stage.workers()) {
        TensorTransport t = workersById.get(p.workerId()).dataPlane();
        transports.add(t);
        slots.add(
            new StageSlot(
                stage.index(), p.replica(), t.workerId(), t.endpoint(), t.udpPeer().streamId()));
      }
    }
    Config config = cluster.workers().get(0).node().system().settings().config();
    PipelineSettings settings = PipelineSettings.create(config);
    int stages = plan.stages().size();
    int replicas = plan.replicas();
    List<StageExecutor> executors = new ArrayList<>();
    List<CpuBackend> backends = new ArrayList<>();
    try {
      for (int i = 0; i < slots.size(); i++) {
        StageSlot slot = slots.get(i);
        PlanResult.StagePlan stage = plan.stages().get(slot.stage());
        StageAssignment assignment =
            new StageAssignment(
                jobId,
                spec,
                slot.stage(),
                stages,
                stage.firstLayer(),
                stage.lastLayer() + 1,
                slot.replica(),
                replicas,
                slots);
        CpuBackend backend = new CpuBackend(1);
        backends.add(backend);
        executors.add(
            new StageExecutor(
                assignment,
                transports.get(i),
                PeerDirectory.udp(),
                backend,
                settings,
                System::nanoTime));
      }
      return train(executors, slots, out);
    } finally {
      executors.forEach(StageExecutor::close);
      backends.forEach(CpuBackend::close);
    }
  }

  private int train(List<StageExecutor> executors, List<StageSlot> slots, PrintStream out)
      throws Exception {
    long total = Math.min(steps, spec.training().steps());
    Map<String, long[]> perWorker = new HashMap<>(); // computeNanos, idleNanos, steps
    long t0 = System.nanoTime();
    long tokens = 0;
    double loss = Double.NaN;
    for (long step = 0; step < total; step++) {
      List<StepReport> reports = LocalPipeline.runStep(executors, step);
      loss = LocalPipeline.loss(reports);
      for (StepReport r : reports) {
        if (r.stage() == 0) {
          tokens += r.tokens();
        }
        long[] sums = perWorker.computeIfAbsent(r.workerId(), k -> new long[3]);
        sums[0] += r.computeNanos();
        sums[1] += r.idleNanos();
        sums[2]++;
      }
      out.print("\r" + progress(step + 1, total, loss, tokens, System.nanoTime() - t0));
      out.flush();
    }
    out.println();

    Files.createDirectories(outputDir);
    List<Path> shards = new ArrayList<>();
    for (StageExecutor e : executors) { // stage-major, so the shards come in stage order
      if (e.assignment().replica() == 0) {
        shards.add(e.writeCheckpoint(outputDir).file());
      }
    }
    try (CpuBackend backend = new CpuBackend(Runtime.getRuntime().availableProcessors())) {
      Model model = StageCheckpoint.assemble(backend, spec, shards);
      Path export = outputDir.resolve("model");
      Checkpoints.exportModel(model, export);
      Evaluator.Result eval =
          Evaluator.evaluate(
              backend, model, LocalTrainer.openDataset(EngineJob.forReplica(spec)), EVAL_BATCH);
      out.printf(
          Locale.ROOT,
          "%nTrained %d steps in %s: final training loss %.4f.%n",
          total,
          LocalTrainer.duration((System.nanoTime() - t0) / 1e9),
          loss);
      if (Double.isNaN(eval.accuracy())) {
        out.printf(Locale.ROOT, "Held-out loss %.4f on %d samples.%n", eval.loss(), eval.samples());
      } else {
        out.printf(
            Locale.ROOT,
            "Held-out exact-match accuracy %.1f%% on %d samples (loss %.4f).%n",
            100 * eval.accuracy(),
            eval.samples(),
            eval.loss());
      }
      out.println("Model saved to " + export.toAbsolutePath() + " (Hugging Face GPT-2 layout);");
      out.println("stage checkpoints in " + outputDir.toAbsolutePath() + ".");
    }
    out.println();
    out.println(summary(slots, perWorker));
    return 0;
  }

  static String progress(long done, long total, double loss, long tokens, long elapsedNanos) {
    int width = 24;
    int filled = (int) (width * done / Math.max(1, total));
    double seconds = elapsedNanos / 1e9;
    double tokensPerSecond = seconds > 0 ? tokens / seconds : 0;
    long etaNanos = done == 0 ? 0 : elapsedNanos / done * (total - done);
    return String.format(
        Locale.ROOT,
        "step %d/%d [%s%s] loss %.4f | %,.0f tok/s | ETA %s   ",
        done,
        total,
        "=".repeat(filled),
        " ".repeat(width - filled),
        loss,
        tokensPerSecond,
        LocalTrainer.duration(etaNanos / 1e9));
  }

  private static String summary(List<StageSlot> slots, Map<String, long[]> perWorker) {
    StringBuilder table = new StringBuilder("Work per worker\n");
    table.append(
        String.format(
            Locale.ROOT,
            "%-10s %5s %7s %6s %10s %8s %7s%n",
            "WORKER",
            "STAGE",
            "REPLICA",
            "STEPS",
            "COMPUTE",
            "IDLE",
            "BUBBLE"));
    for (StageSlot slot : slots) {
      long[] sums = perWorker.getOrDefault(slot.workerId(), new long[3]);
      double busy = sums[0] / 1e9;
      double idle = sums[1] / 1e9;
      table.append(
          String.format(
              Locale.ROOT,
              "%-10s %5d %7d %6d %9.1fs %7.1fs %6.1f%%%n",
              slot.workerId(),
              slot.stage(),
              slot.replica(),
              sums[2],
              busy,
              idle,
              busy + idle == 0 ? 0 : 100 * idle / (busy + idle)));
    }
    return table.toString();
  }
}
