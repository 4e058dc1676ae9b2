package io.flotilla.scheduler.job;

import io.flotilla.protocol.serialization.KryoRegistrar;
import io.flotilla.protocol.serialization.KryoRegistrations;
import io.flotilla.scheduler.planner.PlanResult;

/**
 * Registers the scheduler's messages, journal events and states (ids 2000-2999). Events and states
 * live in the job journal: never reuse or renumber an id.
 */
public final class SchedulerKryoRegistrar implements KryoRegistrar {

  @Override
  public void register(KryoRegistrations r) {
    r.add(2000, PlanResult.Plan.class);
    r.add(2001, PlanResult.Waiting.class);
    r.add(2002, PlanResult.StagePlan.class);
    r.add(2003, PlanResult.Placement.class);

    r.add(2010, JobView.class);
    r.add(2011, JobView.Phase.class);

    r.add(2020, JobEvent.JobSubmitted.class);
    r.add(2021, JobEvent.JobQueued.class);
    r.add(2022, JobEvent.JobPlanned.class);
    r.add(2023, JobEvent.JobStarted.class);
    r.add(2024, JobEvent.StepCompleted.class);
    r.add(2025, JobEvent.JobCompleted.class);
    r.add(2026, JobEvent.JobFailed.class);
    r.add(2027, JobEvent.JobCancelled.class);
    r.add(2028, JobEvent.CheckpointSaved.class);
    r.add(2029, JobEvent.JobInterrupted.class);
    r.add(2030, StepMetrics.class);
    r.add(2031, StepMetrics.SlotWork.class);
    r.add(2032, CheckpointRecord.class);
    r.add(2033, CheckpointRecord.Shard.class);
    r.add(2034, WorkerTotals.class);
    r.add(2035, JobEvent.WorkPaid.class);
    r.add(2036, JobEvent.JobPaused.class);
    r.add(2037, WorkerPay.class);

    r.add(2040, JobManager.Submit.class);
    r.add(2041, JobManager.Get.class);
    r.add(2042, JobManager.Cancel.class);

    r.add(2050, JobIndex.Add.class);
    r.add(2051, JobIndex.GetJobIds.class);
    r.add(2052, JobIndex.JobListed.class);
    r.add(2053, JobIndex.JobIds.class);
    r.add(2054, JobIndex.AddAll.class);
    r.add(2055, JobIndex.JobsListed.class);
    r.add(2056, JobIndex.Contains.class);
    r.add(2057, JobIndex.Listed.class);
  }
}
