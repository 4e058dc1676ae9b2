package io.flotilla.scheduler.planner;

import io.flotilla.protocol.job.GradientSync;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.PipelineSchedule;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the planner needs, and nothing else: the planner is a pure function of this.
 *
 * @param jobName for the rendering only
 * @param layers per-example cost of each layer, in pipeline order
 * @param workers candidate workers (order does not matter)
 * @param links measured links between workers
 * @param stages P, pipeline stages
 * @param replicas D, data-parallel replicas
 * @param redundancy r, workers computing each stage replica
 * @param microBatches M, micro-batches per replica per step
 * @param microBatchSize examples per micro-batch
 * @param schedule pipeline schedule (decides how many micro-batches a stage stashes)
 * @param gradientSync all-reduce every step, or DiLoCo every {@code syncIntervalSteps}
 * @param syncIntervalSteps steps between synchronisations (1 for all-reduce)
 * @param computeEfficiency share of a worker's measured GFLOP/s that training reaches, in (0, 1]
 * @param keptCut the first layer of each stage of the job's previous plan, then the layer count (P
 *     + 1 numbers), or empty: when the job is placed again, the planner keeps that cut unless it no
 *     longer fits the workers or another cut is predicted to be much faster (see {@link
 *     #RECUT_GAIN})
 * @param otherJobs worker id -&gt; how many other jobs' plans use it now (absent: none); the
 *     planner counts a worker shared by n other jobs at 1 / (n + 1) of its speed, so jobs spread
 *     over idle workers before they share one
 */
public record PlanRequest(
    String jobName,
    List<LayerCost> layers,
    List<WorkerCapabilities> workers,
    LinkMatrix links,
    int stages,
    int replicas,
    int redundancy,
    int microBatches,
    int microBatchSize,
    PipelineSchedule schedule,
    GradientSync gradientSync,
    int syncIntervalSteps,
    double computeEfficiency,
    List<Integer> keptCut,
    Map<String, Integer> otherJobs) {

  /**
   * A job placed again changes its layer cut only for a predicted step time at least this share
   * shorter: a new cut moves every stage's parameters and changes the order of floating-point sums,
   * so a resumed run would no longer reproduce the steps it would have taken.
   */
  public static final double RECUT_GAIN = 0.2;

  /** Training reaches about half of the sgemm peak a worker measures. */
  public static final double DEFAULT_COMPUTE_EFFICIENCY = 0.5;

  public PlanRequest {
    Objects.requireNonNull(jobName, "jobName");
    layers = List.copyOf(layers);
    workers = List.copyOf(workers);
    Objects.requireNonNull(links, "links");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(gradientSync, "gradientSync");
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("a model needs at least one layer");
    }
    if (stages < 1 || stages > layers.size()) {
      throw new IllegalArgumentException(
          "stages must be in 1.."
              + layers.size()
              + " (one layer per stage at most); was "
              + stages);
    }
    if (replicas < 1 || redundancy < 1 || microBatches < 1 || microBatchSize < 1) {
      throw new IllegalArgumentException(
          "replicas, redundancy, microBatches and microBatchSize must be >= 1");
    }
    if (syncIntervalSteps < 1) {
      throw new IllegalArgumentException("syncIntervalSteps must be >= 1");
    }
    if (!(computeEfficiency > 0 && computeEfficiency <= 1)) {
      throw new IllegalArgumentException("computeEfficiency must be in (0, 1]");
    }
    keptCut = List.copyOf(keptCut);
    otherJobs = Map.copyOf(otherJobs);
    if (!keptCut.isEmpty() && !validCut(keptCut, stages, layers.size())) {
      throw new IllegalArgumentException(
          "keptCut must be "
              + (stages + 1)
              + " increasing layer indices from 0 to "
              + layers.size()
              + "; was "
              + keptCut);
    }
  }

  /** A request without a cut to keep. */
  public PlanRequest(
      String jobName,
      List<LayerCost> layers,
      List<WorkerCapabilities> workers,
      LinkMatrix links,
      int stages,
      int replicas,
      int redundancy,
      int microBatches,
      int microBatchSize,
      PipelineSchedule schedule,
      GradientSync gradientSync,
      int syncIntervalSteps,
      double computeEfficiency) {
    this(
        jobName,
        layers,
        workers,
        links,
        stages,
        replicas,
        redundancy,
        microBatches,
        microBatchSize,
        schedule,
        gradientSync,
        syncIntervalSteps,
        computeEfficiency,
        List.of(),
        Map.of());
  }

  private static boolean validCut(List<Integer> cut, int stages, int layerCount) {
    if (cut.size() != stages + 1 || cut.get(0) != 0 || cut.get(stages) != layerCount) {
      return false;
    }
    for (int k = 0; k < stages; k++) {
      if (cut.get(k) >= cut.get(k + 1)) {
        return false;
      }
    }
    return true;
  }

  /**
   * This request, keeping the layer cut of {@code previous} (a plan of the same job) when it is
   * valid for this request's stages and layers; otherwise this request unchanged.
   */
  public PlanRequest keepingCutOf(PlanResult.Plan previous) {
    if (previous == null) {
      return this;
    }
    List<Integer> cut = new java.util.ArrayList<>();
    for (PlanResult.StagePlan s : previous.stages()) {
      cut.add(s.firstLayer());
    }
    cut.add(previous.stages().get(previous.stages().size() - 1).lastLayer() + 1);
    if (!validCut(cut, stages, layers.size())) {
      return this;
    }
    return with(cut, otherJobs);
  }

  /**
   * This request, with {@code otherJobs} (worker id -&gt; other jobs whose plans use it) counted
   * against each worker's speed.
   */
  public PlanRequest sharing(Map<String, Integer> otherJobs) {
    return with(keptCut, otherJobs);
  }

  private PlanRequest with(List<Integer> cut, Map<String, Integer> shared) {
    return new PlanRequest(
        jobName,
        layers,
        workers,
        links,
        stages,
        replicas,
        redundancy,
        microBatches,
        microBatchSize,
        schedule,
        gradientSync,
        syncIntervalSteps,
        computeEfficiency,
        cut,
        shared);
  }

  /** The request for {@code spec}, with layer costs estimated from the model's sizes. */
  public static PlanRequest forSpec(
      JobSpec spec, List<WorkerCapabilities> workers, LinkMatrix links) {
    return forSpec(spec, ModelCostEstimator.estimate(spec.model()), workers, links);
  }

  /** The request for {@code spec} with measured layer costs. */
  public static PlanRequest forSpec(
      JobSpec spec, List<LayerCost> layers, List<WorkerCapabilities> workers, LinkMatrix links) {
    boolean diloco = spec.parallelism().gradientSync() == GradientSync.DILOCO;
    return new PlanRequest(
        spec.name(),
        layers,
        workers,
        links,
        spec.parallelism().pipelineStages(),
        spec.parallelism().replicas(),
        spec.verification().plannedFactor(),
        spec.training().microBatches(),
        spec.microBatchSize(),
        spec.parallelism().schedule(),
        spec.parallelism().gradientSync(),
        diloco ? spec.parallelism().diloco().innerSteps() : 1,
        DEFAULT_COMPUTE_EFFICIENCY);
  }

  /** Workers the plan needs: P x D x r. */
  public int workersNeeded() {
    return stages * replicas * redundancy;
  }
}
