package io.flotilla.protocol.task;

import io.flotilla.protocol.ControlMessage;
import java.util.List;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Orders a job manager gives the stage host of a worker: the actor that keeps a worker's stage
 * executors, one per job, and runs their steps. Every worker publishes its host's reference in its
 * registry entry ({@link io.flotilla.protocol.worker.WorkerCapabilities#stageHost}); a job manager
 * sends a planned worker's orders there. Replies are {@link TaskMessage}s: {@link StageReady},
 * {@link StepReport}, {@link CheckpointSaved} or {@link StageFailed}.
 */
public sealed interface StageHostCommand extends ControlMessage {

  /**
   * The actor name of the stage host of {@code workerId} on a node that hosts the stage hosts of
   * several workers (a node with one worker may name its host as it likes).
   */
  static String actorName(String workerId) {
    return "stage-host-"
        + java.net.URLEncoder.encode(workerId, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The job the order is about. */
  String jobId();

  /**
   * Makes the host ready to run {@code assignment} from step {@code resumeStep}. A host that
   * already runs exactly this assignment at that step keeps its executor (a job manager that moved
   * to another scheduler node re-attaches without losing work); otherwise it builds the stage from
   * the spec's seed and, when {@code restoreFrom} is not empty, loads its tensors from those
   * checkpoint shards (all shards of one checkpoint: the stage boundaries may have moved since).
   * Replies {@link StageReady} with the step the executor will run next, or {@link StageFailed}.
   *
   * @param assignment the slot to run
   * @param resumeStep the next step the job manager wants run
   * @param restoreFrom the shards of the checkpoint to load when the executor cannot be kept; empty
   *     to start from the initial weights
   * @param replyTo where the reply goes
   */
  record Prepare(
      StageAssignment assignment,
      long resumeStep,
      List<CheckpointRef> restoreFrom,
      ActorRef<TaskMessage> replyTo)
      implements StageHostCommand {
    public Prepare {
      Objects.requireNonNull(assignment, "assignment");
      Objects.requireNonNull(replyTo, "replyTo");
      restoreFrom = List.copyOf(Objects.requireNonNull(restoreFrom, "restoreFrom"));
      if (resumeStep < 0) {
        throw new IllegalArgumentException("resumeStep must be >= 0, was " + resumeStep);
      }
    }

    @Override
    public String jobId() {
      return assignment.jobId();
    }
  }

  /** Runs one training step; replies {@link StepReport} or {@link StageFailed}. */
  record Execute(RunStep order, ActorRef<TaskMessage> replyTo) implements StageHostCommand {
    public Execute {
      Objects.requireNonNull(order, "order");
      Objects.requireNonNull(replyTo, "replyTo");
    }

    @Override
    public String jobId() {
      return order.jobId();
    }
  }

  /**
   * Writes the stage's training state after step {@code step} and uploads it with an HTTP PUT to
   * {@code uploadUrl} (a one-time address the job manager's scheduler node issued); replies {@link
   * CheckpointSaved} with the shard's SHA-256, or {@link StageFailed}.
   */
  record SaveCheckpoint(String jobId, long step, String uploadUrl, ActorRef<TaskMessage> replyTo)
      implements StageHostCommand {
    public SaveCheckpoint {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(uploadUrl, "uploadUrl");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * Asks the worker to sign receipts for steps of the job it ran (one receipt per step of its slot,
   * {@link #taskId task id} naming step, stage and replica). The worker signs only receipts for its
   * own id and for steps its current stage executor ran, and replies {@link ReceiptsSigned} with
   * those and its signed registration (the address to pay).
   */
  record SignReceipts(
      String jobId,
      java.util.List<io.flotilla.protocol.identity.WorkReceipt> receipts,
      ActorRef<TaskMessage> replyTo)
      implements StageHostCommand {
    public SignReceipts {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(replyTo, "replyTo");
      receipts = List.copyOf(receipts);
    }

    /** The task id of a receipt for step {@code step} (0-based) of slot (stage, replica). */
    public static String taskId(long step, int stage, int replica) {
      return "step-" + step + "/stage-" + stage + "/replica-" + replica;
    }
  }

  /**
   * Measures the data-plane link to {@code peer}: the initiator sends a small and a large probe
   * tensor and waits for each to come back; the other side ({@code initiator = false}) sends back
   * what it receives. The initiator replies {@link LinkMeasured}, or {@link StageFailed} when the
   * peer does not answer within {@code timeoutMillis}; the responder does not reply.
   *
   * @param probeId a fresh id naming this measurement (the tensors' job id)
   * @param peer the other worker's slot (id and data-plane endpoint)
   * @param initiator whether this worker sends first and measures
   */
  record ProbeLink(
      String probeId,
      StageSlot peer,
      boolean initiator,
      long timeoutMillis,
      ActorRef<TaskMessage> replyTo)
      implements StageHostCommand {
    public ProbeLink {
      Objects.requireNonNull(probeId, "probeId");
      Objects.requireNonNull(peer, "peer");
      Objects.requireNonNull(replyTo, "replyTo");
      if (timeoutMillis <= 0) {
        throw new IllegalArgumentException("timeoutMillis must be > 0, was " + timeoutMillis);
      }
    }

    @Override
    public String jobId() {
      return probeId;
    }
  }

  /** Stops the job's executor on this worker and frees what it holds; no reply. */
  record Release(String jobId, String reason) implements StageHostCommand {
    public Release {
      Objects.requireNonNull(jobId, "jobId");
      reason = Objects.requireNonNullElse(reason, "released");
    }
  }
}
