package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * How the job is split across workers.
 *
 * @param pipelineStages P: contiguous slices of the model's layers, each on its own workers
 * @param replicas D: data-parallel copies of the whole pipeline
 * @param schedule order of micro-batches through the pipeline
 * @param gradientSync how replicas of a stage combine their work
 * @param diloco DiLoCo settings; meaningful only when {@code gradientSync} is {@link
 *     GradientSync#DILOCO}, else {@link DilocoSpec#DEFAULT}
 */
public record ParallelismSpec(
    int pipelineStages,
    int replicas,
    PipelineSchedule schedule,
    GradientSync gradientSync,
    DilocoSpec diloco)
    implements ControlMessage {
  public ParallelismSpec {
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(gradientSync, "gradientSync");
    Objects.requireNonNull(diloco, "diloco");
  }
}
