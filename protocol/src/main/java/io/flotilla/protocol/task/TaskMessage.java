package io.flotilla.protocol.task;

import io.flotilla.protocol.ControlMessage;

/**
 * Messages between a job's scheduler and the workers that execute its pipeline stages: the
 * assignment of a stage replica to a worker, the order to run a training step, and what a worker
 * reports back. Tensors never travel in these messages; a report carries digests of them.
 */
public sealed interface TaskMessage extends ControlMessage
    permits StageAssignment,
        RunStep,
        StepReport,
        StageFailed,
        StageReady,
        CheckpointSaved,
        ReceiptsSigned,
        LinkMeasured {

  /** The job this message belongs to. */
  String jobId();
}
