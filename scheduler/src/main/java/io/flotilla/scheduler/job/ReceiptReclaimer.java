package io.flotilla.scheduler.job;

import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.PlanResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Asks the workers of a job that ended for receipts of all the work they did for it, once. A job
 * manager that recovers a completed paid job whose last receipts were lost with its predecessor
 * runs one: the step driver that would ask is gone with the job's end. It finds the workers' stage
 * hosts through the receptionist, sends each the receipts of its slots for every step, and stops
 * when all were asked or after {@code timeout}; the signed receipts go to {@code replyTo}.
 */
final class ReceiptReclaimer {

  private ReceiptReclaimer() {}

  private record Listed(Receptionist.Listing listing)
      implements NoSerializationVerificationNeeded {}

  private enum GiveUp implements NoSerializationVerificationNeeded {
    INSTANCE
  }

  static Behavior<Object> create(
      JobView state,
      Map<String, WorkerCapabilities> workers,
      ActorRef<TaskMessage> replyTo,
      Duration timeout) {
    return Behaviors.setup(
        ctx -> {
          String jobId = state.jobId();
          Map<String, List<WorkReceipt>> unsigned = unsigned(state, workers);
          if (unsigned.isEmpty()) {
            return Behaviors.stopped();
          }
          StageHosts.subscribe(
              ctx.getSystem(), ctx.messageAdapter(Receptionist.Listing.class, Listed::new));
          StageHosts hosts = new StageHosts(Cluster.get(ctx.getSystem()).selfMember().address());
          return Behaviors.withTimers(
              timers -> {
                timers.startSingleTimer(GiveUp.INSTANCE, timeout);
                return Behaviors.receive(Object.class)
                    .onMessage(
                        Listed.class,
                        msg -> {
                          StageHosts listed = hosts.update(msg.listing());
                          for (var it = unsigned.entrySet().iterator(); it.hasNext(); ) {
                            var e = it.next();
                            ActorRef<StageHostCommand> host =
                                listed.of(e.getKey(), workers.get(e.getKey()).nodeAddress());
                            if (host != null) {
                              host.tell(
                                  new StageHostCommand.SignReceipts(jobId, e.getValue(), replyTo));
                              it.remove();
                            }
                          }
                          return unsigned.isEmpty() ? Behaviors.stopped() : Behaviors.same();
                        })
                    .onMessage(
                        GiveUp.class,
                        m -> {
                          ctx.getLog()
                              .warn(
                                  "Job {}: cannot reach {} to reclaim their receipts",
                                  jobId,
                                  unsigned.keySet());
                          return Behaviors.stopped();
                        })
                    .build();
              });
        });
  }

  /** Per worker still in the registry, the receipts of every step of each of its slots. */
  static Map<String, List<WorkReceipt>> unsigned(
      JobView state, Map<String, WorkerCapabilities> workers) {
    Map<String, List<WorkReceipt>> result = new LinkedHashMap<>();
    PlanResult.Plan plan = state.plan();
    if (plan == null) {
      return result;
    }
    long now = System.currentTimeMillis();
    int microBatches = state.spec().training().microBatches();
    for (PlanResult.StagePlan stage : plan.stages()) {
      long megaflops = JobPayments.megaflopsPerStep(stage, microBatches);
      for (PlanResult.Placement p : stage.workers()) {
        if (!workers.containsKey(p.workerId())) {
          continue;
        }
        List<WorkReceipt> receipts = result.computeIfAbsent(p.workerId(), k -> new ArrayList<>());
        for (long s = 0; s < state.stepsCompleted(); s++) {
          receipts.add(
              WorkReceipt.unsigned(
                  state.jobId(),
                  StageHostCommand.SignReceipts.taskId(s, stage.index(), p.replica()),
                  p.workerId(),
                  megaflops,
                  now));
        }
      }
    }
    return result;
  }
}
