package io.flotilla.protocol.serialization;

import io.flotilla.protocol.task.CheckpointRef;
import io.flotilla.protocol.task.CheckpointSaved;
import io.flotilla.protocol.task.RunStep;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageFailed;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.task.StageReady;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.protocol.task.StepReport;

/** Registers the stage-execution messages of {@code io.flotilla.protocol.task}: ids 500-699. */
public final class TaskKryoRegistrar implements KryoRegistrar {

  @Override
  public void register(KryoRegistrations r) {
    r.add(500, StageAssignment.class);
    r.add(501, StageSlot.class);
    r.add(502, RunStep.class);
    r.add(503, StepReport.class);
    r.add(504, StageFailed.class);
    r.add(505, StageReady.class);
    r.add(506, CheckpointSaved.class);
    r.add(507, CheckpointRef.class);
    r.add(510, StageHostCommand.Prepare.class);
    r.add(511, StageHostCommand.Execute.class);
    r.add(512, StageHostCommand.SaveCheckpoint.class);
    r.add(513, StageHostCommand.Release.class);
    r.add(514, StageHostCommand.SignReceipts.class);
    r.add(515, io.flotilla.protocol.task.ReceiptsSigned.class);
    r.add(516, StageHostCommand.ProbeLink.class);
    r.add(517, io.flotilla.protocol.task.LinkMeasured.class);
    r.add(518, io.flotilla.protocol.task.StepMode.class);
  }
}
