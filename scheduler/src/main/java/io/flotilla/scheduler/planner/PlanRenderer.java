package io.flotilla.scheduler.planner;

import io.flotilla.scheduler.planner.PlanResult.Placement;
import io.flotilla.scheduler.planner.PlanResult.Plan;
import io.flotilla.scheduler.planner.PlanResult.StagePlan;
import io.flotilla.scheduler.planner.PlanResult.Waiting;
import java.util.Locale;
import java.util.stream.Collectors;

/** The text {@code flotilla plan} prints. */
public final class PlanRenderer {
  private PlanRenderer() {}

  /** A multi-line description of {@code result}, ending with a newline. */
  public static String render(PlanResult result) {
    return switch (result) {
      case Waiting w ->
          "Job " + w.jobName() + " cannot start yet; it waits in the queue.\n" + w.reason() + "\n";
      case Plan p -> renderPlan(p);
    };
  }

  private static String renderPlan(Plan plan) {
    StringBuilder out = new StringBuilder();
    int p = plan.stages().size();
    out.append(
        String.format(
            Locale.ROOT,
            "Plan for job %s: %d stage%s x %d replica%s x redundancy %d = %d workers, %d"
                + " micro-batches per step%n%n",
            plan.jobName(),
            p,
            p == 1 ? "" : "s",
            plan.replicas(),
            plan.replicas() == 1 ? "" : "s",
            plan.redundancy(),
            p * plan.replicas() * plan.redundancy(),
            plan.microBatches()));
    for (StagePlan s : plan.stages()) {
      String layers =
          s.firstLayer() == s.lastLayer()
              ? "layer " + s.firstLayer() + " (" + s.layerNames().get(0) + ")"
              : "layers "
                  + s.firstLayer()
                  + "-"
                  + s.lastLayer()
                  + " ("
                  + s.layerNames().get(0)
                  + " .. "
                  + s.layerNames().get(s.layerNames().size() - 1)
                  + ")";
      out.append(
          String.format(
              Locale.ROOT,
              "stage %d: %s%n  params %s, %.3f GFLOP per micro-batch, %s per worker, %s per"
                  + " micro-batch%n",
              s.index(),
              layers,
              bytes(s.paramBytes()),
              s.trainFlopsPerMicroBatch() / 1e9,
              bytes(s.memoryBytes()),
              seconds(s.slotSeconds())));
      for (Placement w : s.workers()) {
        out.append(
            String.format(
                Locale.ROOT,
                "    replica %d%s -> %s (%.1f GFLOP/s, %s)%n",
                w.replica(),
                plan.redundancy() > 1 ? " copy " + w.copy() : "",
                w.workerId(),
                w.gflops(),
                bytes(w.memoryBytes())));
      }
    }
    out.append(
        String.format(
            Locale.ROOT,
            "%npredicted step time: %s (pipeline %s = %d slots x %s, of which transfer %s;"
                + " all-reduce %s)%n",
            seconds(plan.predictedStepSeconds()),
            seconds(plan.pipelineSeconds()),
            plan.microBatches() + p - 1,
            seconds(plan.slotSeconds()),
            seconds(plan.transferSeconds()),
            seconds(plan.allReduceSeconds())));
    out.append(
        String.format(
            Locale.ROOT,
            "bubble share: %.1f%% ((P-1)/(M+P-1) = %d/%d)%n",
            plan.bubbleShare() * 100,
            p - 1,
            plan.microBatches() + p - 1));
    String workers =
        plan.stages().stream()
            .flatMap(s -> s.workers().stream())
            .map(Placement::workerId)
            .sorted()
            .collect(Collectors.joining(", "));
    out.append("workers: ").append(workers).append('\n');
    return out.toString();
  }

  /** {@code bytes} with a binary unit, e.g. {@code 1.5 GiB}. */
  public static String bytes(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** {@code seconds} in a readable unit. */
  public static String seconds(double seconds) {
    if (seconds >= 1) {
      return String.format(Locale.ROOT, "%.2f s", seconds);
    }
    if (seconds >= 1e-3) {
      return String.format(Locale.ROOT, "%.2f ms", seconds * 1e3);
    }
    return String.format(Locale.ROOT, "%.1f us", seconds * 1e6);
  }
}
