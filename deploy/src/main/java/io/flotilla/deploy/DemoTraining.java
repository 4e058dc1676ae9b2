package io.flotilla.deploy;

import com.typesafe.config.ConfigFactory;
import io.flotilla.deploy.cli.DemoCommand;
import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.engine.checkpoint.Checkpoints;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.train.Evaluator;
import io.flotilla.engine.train.LocalTrainer;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.job.CheckpointRecord;
import io.flotilla.scheduler.job.JobPayments;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import io.flotilla.scheduler.job.VerificationLogs;
import io.flotilla.scheduler.job.WorkerPay;
import io.flotilla.scheduler.job.WorkerTotals;
import io.flotilla.scheduler.planner.PlanRenderer;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.verify.VerificationLog;
import io.flotilla.worker.pipeline.EngineJob;
import io.flotilla.worker.pipeline.StageCheckpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The demo's training phase: submits the job to the local cluster's scheduler and follows it with a
 * progress bar while the job manager places its stages on the workers and drives every step over
 * the workers' data planes; then takes the final checkpoint from the scheduler's store, evaluates
 * the assembled model on held-out data and prints where it was saved and the work per worker.
 */
public final class DemoTraining implements DemoCommand.DemoPhase {

  private static final int EVAL_BATCH = 256;
  private static final String TEAM = "demo";

  /**
   * What goes wrong on purpose while the demo trains.
   *
   * @param faultyWorkers workers started with a fault (already running); never killed
   * @param spares workers to start once the job is placed, so that the placement holds the faulty
   *     ones and the spares replace what is lost
   * @param churnEverySteps completed steps between two crashes of an honest worker of the plan (a
   *     fresh worker joins after each); 0 for none
   */
  public record Disruptions(List<String> faultyWorkers, List<String> spares, long churnEverySteps) {
    /** Nothing goes wrong. */
    public static final Disruptions NONE = new Disruptions(List.of(), List.of(), 0);

    public Disruptions {
      faultyWorkers = List.copyOf(faultyWorkers);
      spares = List.copyOf(spares);
    }

    /** Whether anything goes wrong. */
    public boolean any() {
      return !faultyWorkers.isEmpty() || !spares.isEmpty() || churnEverySteps > 0;
    }
  }

  private final JobSpec spec;
  private final Path outputDir;
  private final Disruptions disruptions;

  /**
   * @param spec the job to train
   * @param steps optimizer steps to run (the spec's {@code training.steps} is set to it, so the
   *     learning-rate schedule ends with the run)
   * @param outputDir where the stage checkpoints and the exported model go
   */
  public DemoTraining(JobSpec spec, long steps, Path outputDir) {
    this(spec, steps, outputDir, Disruptions.NONE);
  }

  /**
   * As {@link #DemoTraining(JobSpec, long, Path)}, with {@code disruptions} while it trains and a
   * report of them at the end ({@link DemoIncidents}).
   */
  public DemoTraining(JobSpec spec, long steps, Path outputDir, Disruptions disruptions) {
    this.spec = steps == spec.training().steps() ? spec : spec.withSteps(steps);
    this.outputDir = outputDir;
    this.disruptions = disruptions;
  }

  @Override
  public String name() {
    return "training " + spec.name();
  }

  @Override
  public int run(LocalCluster cluster, PrintStream out) throws Exception {
    Jobs jobs = cluster.scheduler().jobs();
    JobView view = jobs.submit(TEAM, spec).toCompletableFuture().get(30, TimeUnit.SECONDS);
    String id = view.jobId();
    out.println("Submitted job " + id + " (" + spec.training().steps() + " steps)");
    long t0 = System.nanoTime();
    boolean planShown = false;
    WorkerChurn churn =
        disruptions.churnEverySteps() > 0
            ? new WorkerChurn(
                cluster, disruptions.churnEverySteps(), Set.copyOf(disruptions.faultyWorkers()))
            : null;
    Set<String> placed = null;
    while (!view.phase().isTerminal()) {
      TimeUnit.MILLISECONDS.sleep(250); // a progress bar's refresh, not a wait for a condition
      view = jobs.get(id).toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (!planShown && view.plan() != null) {
        out.println(PlanRenderer.render(view.plan()));
        planShown = true;
        for (String spare : disruptions.spares()) {
          cluster.addWorker(spare, ConfigFactory.empty());
          out.println(spare + " joins as a spare.");
        }
      }
      if (disruptions.any() && view.plan() != null) {
        Set<String> now = placedWorkers(view);
        if (placed != null && !now.equals(placed)) {
          Set<String> gone = new TreeSet<>(placed);
          gone.removeAll(now);
          Set<String> added = new TreeSet<>(now);
          added.removeAll(placed);
          event(
              out, "placed again (restart " + view.restarts() + "): out " + gone + ", in " + added);
        }
        placed = now;
      }
      if (churn != null) {
        long total = view.spec().training().steps();
        churn.observe(view).ifPresent(kill -> event(out, killed(kill, total)));
      }
      if (view.phase() == JobView.Phase.QUEUED && view.waiting() != null) {
        out.print("\rqueued: " + view.waiting().reason() + "   ");
      } else if (view.phase() == JobView.Phase.RUNNING) {
        out.print("\r" + progress(view, System.nanoTime() - t0));
      }
      out.flush();
    }
    if (view.phase() == JobView.Phase.COMPLETED) {
      // The last steps may finish between two refreshes: the bar ends full.
      out.print("\r" + progress(view, System.nanoTime() - t0));
    }
    out.println();
    if (view.phase() != JobView.Phase.COMPLETED) {
      out.println(
          "Job "
              + id
              + " "
              + view.phase().name().toLowerCase(Locale.ROOT)
              + (view.failureReason() == null ? "" : ": " + view.failureReason()));
      if (disruptions.any()) {
        Files.createDirectories(outputDir);
        out.println(incidents(cluster, id, churn).render());
      }
      return 1;
    }
    List<Path> shards = copyCheckpoint(jobs, view);
    try (CpuBackend backend = new CpuBackend(Runtime.getRuntime().availableProcessors())) {
      Model model = StageCheckpoint.assemble(backend, spec, shards);
      Path export = outputDir.resolve("model");
      Checkpoints.exportModel(model, export);
      Evaluator.Result eval =
          Evaluator.evaluate(
              backend, model, LocalTrainer.openDataset(EngineJob.forReplica(spec)), EVAL_BATCH);
      out.printf(
          Locale.ROOT,
          "%nTrained %d steps in %s: final training loss %.4f%s.%n",
          view.stepsCompleted(),
          LocalTrainer.duration((System.nanoTime() - t0) / 1e9),
          view.lastLoss(),
          view.restarts() == 0 ? "" : " (" + view.restarts() + " restarts)");
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
    out.println(summary(view));
    if (JobPayments.paid(spec)) {
      out.println(payments(jobs, awaitPayments(jobs, view)));
    }
    if (disruptions.any()) {
      out.println(incidents(cluster, id, churn).render());
    }
    return 0;
  }

  /**
   * Gathers what went wrong: the job's journal, its verification log (copied into the output
   * directory, because the cluster's own directory goes when it stops) and the reputations.
   */
  private DemoIncidents incidents(LocalCluster cluster, String id, WorkerChurn churn)
      throws Exception {
    var system = cluster.scheduler().node().system();
    VerificationLogs.get(system).writer().flush().get(30, TimeUnit.SECONDS);
    Path log = cluster.scheduler().jobs().checkpoints().verificationLog(id);
    Path copy = outputDir.resolve("verification.jsonl");
    List<VerificationLog.Entry> verdicts = List.of();
    if (Files.exists(log)) {
      Files.copy(log, copy, StandardCopyOption.REPLACE_EXISTING);
      verdicts = VerificationLog.read(copy);
    }
    return new DemoIncidents(
        DemoIncidents.journal(system, id),
        verdicts,
        DemoIncidents.reputations(system, cluster.scheduler().node().reputation()),
        churn == null ? List.of() : churn.kills(),
        disruptions.faultyWorkers(),
        copy.toString());
  }

  private static String killed(WorkerChurn.Kill kill, long totalSteps) {
    return String.format(
        Locale.ROOT,
        "step %d/%d: killed %s (stage %d, replica %d) without warning; %s joins",
        kill.step(),
        totalSteps,
        kill.workerId(),
        kill.stage(),
        kill.replica(),
        kill.replacement());
  }

  /** Prints {@code line} on a line of its own, above the progress bar. */
  private static void event(PrintStream out, String line) {
    out.print("\r" + " ".repeat(100) + "\r");
    out.println(line);
  }

  private static Set<String> placedWorkers(JobView view) {
    Set<String> ids = new TreeSet<>();
    view.plan().stages().forEach(s -> s.workers().forEach(p -> ids.add(p.workerId())));
    return ids;
  }

  /**
   * The job once the ledger accepted a receipt for every step of every stage replica (receipts are
   * signed and submitted after the last checkpoint, so they may trail the job's completion), or as
   * it stands after a minute.
   */
  private static JobView awaitPayments(Jobs jobs, JobView view) throws Exception {
    long expected =
        view.stepsCompleted() * view.plan().stages().size() * (long) view.plan().replicas();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (paidReceipts(view) < expected && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(200); // polling the ledger's progress for the summary
      view = jobs.get(view.jobId()).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    return view;
  }

  private static long paidReceipts(JobView view) {
    return view.payments().values().stream().mapToLong(WorkerPay::receipts).sum();
  }

  private static String payments(Jobs jobs, JobView view) {
    long unitsPerCurrency = jobs.settings().unitsPerCurrency();
    String currency = view.spec().payment().currency();
    StringBuilder table = new StringBuilder("Payments (embedded ledger)\n");
    table.append(
        String.format(
            Locale.ROOT, "%-10s %-42s %8s %14s%n", "WORKER", "ADDRESS", "RECEIPTS", "AMOUNT"));
    new java.util.TreeMap<>(view.payments())
        .forEach(
            (id, p) ->
                table.append(
                    String.format(
                        Locale.ROOT,
                        "%-10s %-42s %8d %14s%n",
                        id,
                        p.address(),
                        p.receipts(),
                        JobPayments.inCurrency(p.units(), unitsPerCurrency).toPlainString()
                            + " "
                            + currency)));
    table.append(
        String.format(
            Locale.ROOT,
            "total %s of a %s %s budget%n",
            JobPayments.inCurrency(view.spentUnits(), unitsPerCurrency).toPlainString(),
            view.spec().payment().budget().toPlainString(),
            currency));
    return table.toString();
  }

  /** Copies the final checkpoint's shards from the scheduler's store into the output directory. */
  private List<Path> copyCheckpoint(Jobs jobs, JobView view) throws IOException {
    Files.createDirectories(outputDir);
    List<Path> shards = new ArrayList<>();
    for (CheckpointRecord.Shard shard : view.checkpoint().shards()) {
      Path stored =
          jobs.checkpoints()
              .shard(view.jobId(), shard.sha256())
              .orElseThrow(() -> new IOException("the scheduler lost shard " + shard.sha256()));
      Path target = outputDir.resolve(StageCheckpoint.fileName(shard.stage()));
      Files.copy(stored, target, StandardCopyOption.REPLACE_EXISTING);
      shards.add(target);
    }
    return shards;
  }

  static String progress(JobView view, long elapsedNanos) {
    long done = view.stepsCompleted();
    long total = view.spec().training().steps();
    int width = 24;
    int filled = (int) (width * done / Math.max(1, total));
    double rate = done == 0 ? 0 : elapsedNanos / (double) done;
    return String.format(
        Locale.ROOT,
        "step %d/%d [%s%s] loss %.4f | %,.0f tok/s | ETA %s   ",
        done,
        total,
        "=".repeat(filled),
        " ".repeat(width - filled),
        view.lastLoss() == null ? Double.NaN : view.lastLoss(),
        view.tokensPerSecond(),
        LocalTrainer.duration(rate * (total - done) / 1e9));
  }

  private static String summary(JobView view) {
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
    for (PlanResult.StagePlan stage : view.plan().stages()) {
      for (PlanResult.Placement p : stage.workers()) {
        WorkerTotals w = view.workers().getOrDefault(p.workerId(), WorkerTotals.NONE);
        table.append(
            String.format(
                Locale.ROOT,
                "%-10s %5d %7d %6d %9.1fs %7.1fs %6.1f%%%n",
                p.workerId(),
                stage.index(),
                p.replica(),
                w.steps(),
                w.computeNanos() / 1e9,
                w.idleNanos() / 1e9,
                100 * w.bubbleShare()));
      }
    }
    return table.toString();
  }
}
