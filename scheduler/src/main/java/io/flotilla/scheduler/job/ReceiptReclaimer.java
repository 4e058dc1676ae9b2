package io.flotilla.scheduler.job;

import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.task.StageHostCommand;
import io.flotilla.protocol.task.TaskMessage;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.PlanResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Asks the workers of a job that ended for receipts of all the work they did for it, each once. A
 * job manager that recovers a completed paid job whose last receipts were lost with its predecessor
 * does: the step driver that would ask is gone with the job's end. Each worker of the plan is sent
 * the receipts of its slots for every step, at the stage host its registry entry names, as soon as
 * the registry holds it (a scheduler node that just started hears of the workers one by one); the
 * signed receipts go to the manager.
 */
final class ReceiptReclaimer {

  private ReceiptReclaimer() {}

  /**
   * Asks the workers of {@code state}'s plan that {@code workers} holds and {@code asked} does not
   * yet; adds them to {@code asked}. Returns whether every worker of the plan has been asked.
   */
  static boolean reclaim(
      JobView state,
      Map<String, WorkerCapabilities> workers,
      ActorRef<TaskMessage> replyTo,
      java.util.Set<String> asked) {
    Map<String, WorkerCapabilities> notAsked = new java.util.HashMap<>(workers);
    notAsked.keySet().removeAll(asked);
    for (var e : unsigned(state, notAsked).entrySet()) {
      ActorRef<StageHostCommand> host = workers.get(e.getKey()).stageHost();
      host.tell(new StageHostCommand.SignReceipts(state.jobId(), e.getValue(), replyTo));
      asked.add(e.getKey());
    }
    return state.plan() == null || asked.containsAll(state.plan().workerIds());
  }

  /** Per worker in the registry with a stage host, the receipts of every step of its slots. */
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
        WorkerCapabilities caps = workers.get(p.workerId());
        if (caps == null || caps.stageHost() == null) {
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
