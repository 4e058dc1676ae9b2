package io.flotilla.scheduler.planner;

import io.flotilla.protocol.job.GradientSync;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.PipelineSchedule;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.util.List;
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
    double computeEfficiency) {

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
