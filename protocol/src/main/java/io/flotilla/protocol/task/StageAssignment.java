package io.flotilla.protocol.task;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.ModelLayers;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Assigns one (stage, replica) slot of a job's pipeline to a worker: which layers it computes and
 * who its neighbours are. The worker builds the whole model from the spec's seed (so every replica
 * starts identical), keeps layers {@code [firstLayer, endLayer)}, receives activations from the
 * previous stage of its replica and gradients from the next, and all-reduces with the other
 * replicas of its stage.
 *
 * @param jobId the job
 * @param spec the validated job spec
 * @param stage this slot's stage k in {@code 0..stages-1}
 * @param stages P, the number of pipeline stages
 * @param firstLayer first model layer of this stage (inclusive)
 * @param endLayer end model layer of this stage (exclusive)
 * @param replica this slot's replica d in {@code 0..replicas-1}
 * @param replicas D, the number of data-parallel replicas
 * @param slots every (stage, replica) slot of the job, exactly P x D of them
 */
public record StageAssignment(
    String jobId,
    JobSpec spec,
    int stage,
    int stages,
    int firstLayer,
    int endLayer,
    int replica,
    int replicas,
    List<StageSlot> slots)
    implements TaskMessage {

  public StageAssignment {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(spec, "spec");
    slots = List.copyOf(slots);
    if (stages < 1 || stage < 0 || stage >= stages) {
      throw new IllegalArgumentException(
          "stage must be in 0.." + (stages - 1) + " of " + stages + " stages, was " + stage);
    }
    if (replicas < 1 || replica < 0 || replica >= replicas) {
      throw new IllegalArgumentException(
          "replica must be in 0.."
              + (replicas - 1)
              + " of "
              + replicas
              + " replicas, was "
              + replica);
    }
    if (stages != spec.parallelism().pipelineStages()
        || replicas != spec.parallelism().replicas()) {
      throw new IllegalArgumentException(
          "assignment has "
              + stages
              + " stages x "
              + replicas
              + " replicas but the spec asks for "
              + spec.parallelism().pipelineStages()
              + " x "
              + spec.parallelism().replicas());
    }
    int layers = ModelLayers.count(spec.model());
    if (firstLayer < 0 || endLayer > layers || firstLayer >= endLayer) {
      throw new IllegalArgumentException(
          "stage layers ["
              + firstLayer
              + ", "
              + endLayer
              + ") must be a non-empty range inside [0, "
              + layers
              + ")");
    }
    if (stage == 0 && firstLayer != 0) {
      throw new IllegalArgumentException("stage 0 must start at layer 0, starts at " + firstLayer);
    }
    if (stage == stages - 1 && endLayer != layers) {
      throw new IllegalArgumentException(
          "the last stage must end at layer " + layers + ", ends at " + endLayer);
    }
    if (slots.size() != stages * replicas) {
      throw new IllegalArgumentException(
          "need " + stages * replicas + " slots (stages x replicas), got " + slots.size());
    }
    Set<Long> seen = new HashSet<>();
    Set<String> workers = new HashSet<>();
    for (StageSlot s : slots) {
      if (s.stage() >= stages || s.replica() >= replicas) {
        throw new IllegalArgumentException(
            "slot ("
                + s.stage()
                + ", "
                + s.replica()
                + ") is outside "
                + stages
                + " x "
                + replicas);
      }
      if (!seen.add((long) s.stage() * replicas + s.replica())) {
        throw new IllegalArgumentException(
            "slot (" + s.stage() + ", " + s.replica() + ") appears twice");
      }
      if (!workers.add(s.workerId())) {
        throw new IllegalArgumentException(
            "worker " + s.workerId() + " holds more than one slot of job " + jobId);
      }
    }
  }

  /** The slot of {@code (stageIndex, replicaIndex)}. */
  public StageSlot slot(int stageIndex, int replicaIndex) {
    for (StageSlot s : slots) {
      if (s.stage() == stageIndex && s.replica() == replicaIndex) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "no slot (" + stageIndex + ", " + replicaIndex + ") in job " + jobId);
  }

  /** This worker's own slot. */
  public StageSlot self() {
    return slot(stage, replica);
  }

  /** Whether this is the first stage (reads the training inputs). */
  public boolean isFirstStage() {
    return stage == 0;
  }

  /** Whether this is the last stage (reads the targets and computes the loss). */
  public boolean isLastStage() {
    return stage == stages - 1;
  }

  /** The slots of this stage for replicas {@code 0..D-1}: the all-reduce ring, in ring order. */
  public List<StageSlot> replicaRing() {
    List<StageSlot> ring = new ArrayList<>();
    for (int d = 0; d < replicas; d++) {
      ring.add(slot(stage, d));
    }
    return ring;
  }

  /** The slots of this replica for stages {@code 0..P-1}: this worker's pipeline. */
  public List<StageSlot> pipeline() {
    List<StageSlot> line = new ArrayList<>();
    for (int k = 0; k < stages; k++) {
      line.add(slot(k, replica));
    }
    return line;
  }
}
