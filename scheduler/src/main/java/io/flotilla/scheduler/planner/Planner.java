package io.flotilla.scheduler.planner;

import io.flotilla.protocol.job.GradientSync;
import io.flotilla.protocol.job.PipelineSchedule;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.PlanResult.Placement;
import io.flotilla.scheduler.planner.PlanResult.Plan;
import io.flotilla.scheduler.planner.PlanResult.StagePlan;
import io.flotilla.scheduler.planner.PlanResult.Waiting;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts a model into pipeline stages and places stage replicas on workers, minimising predicted step
 * time. A pure, deterministic function of its {@link PlanRequest}: the same request, with workers
 * in any order, gives the same plan.
 *
 * <p>The model of a step: each stage's D x r workers run in lockstep, so a stage is as fast as its
 * slowest worker and holds as much as its smallest one. A micro-batch slot on stage k costs its
 * forward and backward compute plus sending activations forward and receiving gradients back over
 * the link to stage k+1. GPipe and 1F1B both need (M + P - 1) slots of the slowest stage; then
 * replicas of each stage all-reduce their gradients, ring-style: 2 (D - 1) / D x stage parameters
 * over the slowest link among them (with DiLoCo, once every H steps). Memory per worker: weights,
 * gradients and two AdamW moments (plus the outer copy and momentum for DiLoCo), the activations
 * stashed for in-flight micro-batches (M for GPipe, at most P - k for 1F1B) and the send and
 * receive buffers.
 *
 * <p>Search: workers are ranked by speed; the fastest P x D x r (or, when their memory does not
 * suffice, the fastest of those with enough memory, or the largest) form P groups of D x r similar
 * workers. For every assignment of groups to stage positions (every permutation up to {@value
 * #MAX_PERMUTED_STAGES} stages; fastest-first and slowest-first beyond), dynamic programming finds
 * the contiguous cut minimising the busiest stage's time within each group's memory.
 *
 * <p>A worker that other jobs' plans use counts at 1 / (n + 1) of its speed ({@link
 * PlanRequest#otherJobs}), so jobs spread over idle workers before they share one.
 *
 * <p>A job placed again keeps its previous cut ({@link PlanRequest#keptCut}) where that cut fits
 * the workers, unless a new cut is predicted to shorten the step by {@link PlanRequest#RECUT_GAIN}
 * or more.
 */
public final class Planner {

  /** Up to this many stages, every assignment of worker groups to stages is tried. */
  public static final int MAX_PERMUTED_STAGES = 6;

  private static final double INF = Double.POSITIVE_INFINITY;

  private Planner() {}

  /** Measured speed of {@code w} in GFLOP/s: its GPU's when it runs CUDA, else its CPU's. */
  public static double gflops(WorkerCapabilities w) {
    if ("cuda".equals(w.backend()) && w.gpu() != null && w.gpu().measuredTflops() > 0) {
      return w.gpu().measuredTflops() * 1000;
    }
    return w.cpuGflops();
  }

  /** The plan for {@code request}, or why it must wait. */
  public static PlanResult plan(PlanRequest request) {
    return new Search(request).run();
  }

  private static final class Search {
    private final PlanRequest req;
    private final int layerCount;
    private final double[] flopsPrefix;
    private final long[] paramPrefix;
    private final long[] stashPrefix;
    private final int p;
    private final int groupSize;
    private final int slots;

    Search(PlanRequest req) {
      this.req = req;
      this.layerCount = req.layers().size();
      this.flopsPrefix = new double[layerCount + 1];
      this.paramPrefix = new long[layerCount + 1];
      this.stashPrefix = new long[layerCount + 1];
      for (int i = 0; i < layerCount; i++) {
        LayerCost l = req.layers().get(i);
        flopsPrefix[i + 1] = flopsPrefix[i] + l.trainFlops();
        paramPrefix[i + 1] = paramPrefix[i] + l.paramBytes();
        stashPrefix[i + 1] = stashPrefix[i] + l.stashBytes();
      }
      this.p = req.stages();
      this.groupSize = req.replicas() * req.redundancy();
      this.slots = req.microBatches() + p - 1;
    }

    PlanResult run() {
      int needed = req.workersNeeded();
      Comparator<WorkerCapabilities> bySpeed =
          Comparator.comparingDouble((WorkerCapabilities w) -> -speed(w))
              .thenComparingLong(w -> -w.memoryBytes())
              .thenComparing(WorkerCapabilities::workerId);
      List<WorkerCapabilities> usable =
          req.workers().stream()
              .filter(w -> gflops(w) > 0 && w.memoryBytes() > 0)
              .sorted(bySpeed)
              .toList();
      if (usable.size() < needed) {
        int missing = needed - usable.size();
        return new Waiting(
            req.jobName(),
            "needs "
                + needed
                + " workers ("
                + shape()
                + "); "
                + usable.size()
                + " usable registered"
                + (req.workers().size() > usable.size()
                    ? " (" + (req.workers().size() - usable.size()) + " report no speed or memory)"
                    : "")
                + ": waiting for "
                + missing
                + " more",
            needed,
            usable.size(),
            missing,
            0);
      }
      long leastMemory = leastMemoryPerWorker();
      List<List<WorkerCapabilities>> candidates = new ArrayList<>();
      candidates.add(usable.subList(0, needed));
      List<WorkerCapabilities> roomy =
          usable.stream().filter(w -> w.memoryBytes() >= leastMemory).toList();
      if (roomy.size() >= needed) {
        candidates.add(roomy.subList(0, needed));
      }
      List<WorkerCapabilities> largest =
          usable.stream()
              .sorted(
                  Comparator.comparingLong((WorkerCapabilities w) -> -w.memoryBytes())
                      .thenComparing(bySpeed))
              .limit(needed)
              .sorted(bySpeed)
              .toList();
      candidates.add(largest);
      Plan best = null;
      List<List<WorkerCapabilities>> tried = new ArrayList<>();
      for (List<WorkerCapabilities> candidate : candidates) {
        if (tried.contains(candidate)) {
          continue;
        }
        tried.add(candidate);
        Plan plan = planOn(candidate);
        if (plan != null
            && (best == null || plan.predictedStepSeconds() < best.predictedStepSeconds())) {
          best = plan;
        }
      }
      if (best != null) {
        return best;
      }
      long have = usable.stream().filter(w -> w.memoryBytes() >= leastMemory).count();
      return new Waiting(
          req.jobName(),
          "needs "
              + needed
              + " workers ("
              + shape()
              + ") with at least "
              + PlanRenderer.bytes(leastMemory)
              + " of memory each (the least any cut of the model into "
              + p
              + " stages needs); "
              + have
              + " of "
              + usable.size()
              + " usable workers have that much",
          needed,
          usable.size(),
          (int) Math.max(0, needed - have),
          leastMemory);
    }

    /** GFLOP/s that {@code w} gives this job: its measured speed, shared with its other jobs. */
    private double speed(WorkerCapabilities w) {
      return gflops(w) / (1 + req.otherJobs().getOrDefault(w.workerId(), 0));
    }

    private String shape() {
      return p + " stages x " + req.replicas() + " replicas x redundancy " + req.redundancy();
    }

    private long memory(int stage, int from, int to) {
      long params = paramPrefix[to] - paramPrefix[from];
      int copies = req.gradientSync() == GradientSync.DILOCO ? 6 : 4;
      int inFlight =
          req.schedule() == PipelineSchedule.GPIPE
              ? req.microBatches()
              : Math.min(req.microBatches(), p - stage);
      long mb = req.microBatchSize();
      long in = from > 0 ? req.layers().get(from - 1).activationBytes() : 0;
      long out = req.layers().get(to - 1).activationBytes();
      return params * copies
          + (stashPrefix[to] - stashPrefix[from]) * mb * inFlight
          + 2 * (in + out) * mb;
    }

    /** The smallest worst-stage memory over all cuts: no plan exists with less per worker. */
    private long leastMemoryPerWorker() {
      long[][] best = new long[p + 1][layerCount + 1];
      for (long[] row : best) {
        java.util.Arrays.fill(row, Long.MAX_VALUE);
      }
      best[0][0] = 0;
      for (int k = 0; k < p; k++) {
        for (int j = k + 1; j <= layerCount - (p - 1 - k); j++) {
          for (int i = k; i < j; i++) {
            if (best[k][i] == Long.MAX_VALUE) {
              continue;
            }
            long m = Math.max(best[k][i], memory(k, i, j));
            if (m < best[k + 1][j]) {
              best[k + 1][j] = m;
            }
          }
        }
      }
      return best[p][layerCount];
    }

    private static Link worst(Link a, Link b) {
      if (a == null) {
        return b;
      }
      return new Link(
          Math.max(a.latencySeconds(), b.latencySeconds()),
          Math.min(a.bytesPerSecond(), b.bytesPerSecond()));
    }

    private Plan planOn(List<WorkerCapabilities> workers) {
      List<List<WorkerCapabilities>> groups = new ArrayList<>();
      double[] speed = new double[p];
      long[] mem = new long[p];
      Link[] ring = new Link[p];
      for (int g = 0; g < p; g++) {
        List<WorkerCapabilities> group = workers.subList(g * groupSize, (g + 1) * groupSize);
        groups.add(group);
        speed[g] = INF;
        mem[g] = Long.MAX_VALUE;
        for (WorkerCapabilities w : group) {
          speed[g] = Math.min(speed[g], speed(w) * 1e9 * req.computeEfficiency());
          mem[g] = Math.min(mem[g], w.memoryBytes());
        }
        for (int a = 0; a < group.size(); a++) {
          for (int b = a + 1; b < group.size(); b++) {
            ring[g] =
                worst(
                    ring[g], req.links().between(group.get(a).workerId(), group.get(b).workerId()));
          }
        }
      }
      Link[][] boundary = new Link[p][p];
      for (int a = 0; a < p; a++) {
        for (int b = 0; b < p; b++) {
          for (int i = 0; a != b && i < groupSize; i++) {
            boundary[a][b] =
                worst(
                    boundary[a][b],
                    req.links()
                        .between(groups.get(a).get(i).workerId(), groups.get(b).get(i).workerId()));
          }
        }
      }
      Plan best = null;
      Plan bestKept = null;
      for (int[] order : orders()) {
        Plan plan = cut(order, groups, speed, mem, ring, boundary, false);
        if (plan != null
            && (best == null || plan.predictedStepSeconds() < best.predictedStepSeconds())) {
          best = plan;
        }
        Plan kept =
            req.keptCut().isEmpty() ? null : cut(order, groups, speed, mem, ring, boundary, true);
        if (kept != null
            && (bestKept == null
                || kept.predictedStepSeconds() < bestKept.predictedStepSeconds())) {
          bestKept = kept;
        }
      }
      if (bestKept != null
          && best.predictedStepSeconds()
              > (1 - PlanRequest.RECUT_GAIN) * bestKept.predictedStepSeconds()) {
        return bestKept;
      }
      return best;
    }

    /** Assignments of groups (ranked fastest first) to stage positions, in a fixed order. */
    private List<int[]> orders() {
      List<int[]> out = new ArrayList<>();
      int[] identity = new int[p];
      for (int i = 0; i < p; i++) {
        identity[i] = i;
      }
      if (p > MAX_PERMUTED_STAGES) {
        out.add(identity);
        int[] reversed = new int[p];
        for (int i = 0; i < p; i++) {
          reversed[i] = p - 1 - i;
        }
        out.add(reversed);
        return out;
      }
      permute(identity, 0, out);
      return out;
    }

    private static void permute(int[] a, int k, List<int[]> out) {
      if (k == a.length) {
        out.add(a.clone());
        return;
      }
      for (int i = k; i < a.length; i++) {
        int[] b = a.clone();
        int t = b[i];
        System.arraycopy(b, k, b, k + 1, i - k);
        b[k] = t;
        permute(b, k + 1, out);
      }
    }

    private double slot(int k, int from, int to, int[] order, double[] speed, Link[][] boundary) {
      double compute =
          (flopsPrefix[to] - flopsPrefix[from]) * req.microBatchSize() / speed[order[k]];
      return compute + transfer(k, to, order, boundary);
    }

    private double transfer(int k, int to, int[] order, Link[][] boundary) {
      if (k == p - 1) {
        return 0;
      }
      double bytes = (double) req.layers().get(to - 1).activationBytes() * req.microBatchSize();
      // Activations go forward and gradients of the same size come back.
      return 2 * boundary[order[k]][order[k + 1]].transferSeconds(bytes);
    }

    private double allReduce(int k, int from, int to, int[] order, Link[] ring) {
      int d = req.replicas();
      if (d == 1) {
        return 0;
      }
      // Copies of one replica run the same all-reduce; the ring spans D workers of the stage.
      Link link = ring[order[k]];
      double params = paramPrefix[to] - paramPrefix[from];
      double seconds =
          2.0 * (d - 1) / d * params / link.bytesPerSecond()
              + 2.0 * (d - 1) * link.latencySeconds();
      return seconds / req.syncIntervalSteps();
    }

    private Plan cut(
        int[] order,
        List<List<WorkerCapabilities>> groups,
        double[] speed,
        long[] mem,
        Link[] ring,
        Link[][] boundary,
        boolean keepCut) {
      double[][] best = new double[p + 1][layerCount + 1];
      int[][] from = new int[p + 1][layerCount + 1];
      for (double[] row : best) {
        java.util.Arrays.fill(row, INF);
      }
      best[0][0] = 0;
      for (int k = 0; k < p; k++) {
        for (int j = k + 1; j <= layerCount - (p - 1 - k); j++) {
          for (int i = k; i < j; i++) {
            if (best[k][i] == INF || memory(k, i, j) > mem[order[k]]) {
              continue;
            }
            if (keepCut && (i != req.keptCut().get(k) || j != req.keptCut().get(k + 1))) {
              continue;
            }
            double busy =
                slot(k, i, j, order, speed, boundary) * slots + allReduce(k, i, j, order, ring);
            double worst = Math.max(best[k][i], busy);
            if (worst < best[k + 1][j]) {
              best[k + 1][j] = worst;
              from[k + 1][j] = i;
            }
          }
        }
      }
      if (best[p][layerCount] == INF) {
        return null;
      }
      int[] starts = new int[p + 1];
      starts[p] = layerCount;
      for (int k = p; k > 0; k--) {
        starts[k - 1] = from[k][starts[k]];
      }
      List<StagePlan> stages = new ArrayList<>();
      double slotMax = 0;
      double transferAtMax = 0;
      double allReduceMax = 0;
      for (int k = 0; k < p; k++) {
        int i = starts[k];
        int j = starts[k + 1];
        double slot = slot(k, i, j, order, speed, boundary);
        if (slot > slotMax) {
          slotMax = slot;
          transferAtMax = transfer(k, j, order, boundary);
        }
        allReduceMax = Math.max(allReduceMax, allReduce(k, i, j, order, ring));
        List<Placement> placements = new ArrayList<>();
        List<WorkerCapabilities> group = groups.get(order[k]);
        for (int w = 0; w < group.size(); w++) {
          WorkerCapabilities worker = group.get(w);
          placements.add(
              new Placement(
                  worker.workerId(),
                  w % req.replicas(),
                  w / req.replicas(),
                  worker.memoryBytes(),
                  gflops(worker)));
        }
        placements.sort(
            Comparator.comparingInt(Placement::replica).thenComparingInt(Placement::copy));
        stages.add(
            new StagePlan(
                k,
                i,
                j - 1,
                req.layers().subList(i, j).stream().map(LayerCost::name).toList(),
                (flopsPrefix[j] - flopsPrefix[i]) * req.microBatchSize(),
                paramPrefix[j] - paramPrefix[i],
                memory(k, i, j),
                slot,
                placements));
      }
      double pipeline = slotMax * slots;
      return new Plan(
          req.jobName(),
          stages,
          pipeline + allReduceMax,
          pipeline,
          slotMax,
          transferAtMax,
          allReduceMax,
          (double) (p - 1) / slots,
          req.microBatches(),
          req.replicas(),
          req.redundancy());
    }
  }
}
