package io.flotilla.scheduler.job;

import io.flotilla.ledger.LedgerBridge;
import io.flotilla.ledger.PaymentTerms;
import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.task.ReceiptsSigned;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Hands a job's signed receipts to the ledger bridge, one at a time: opens the job's escrow first,
 * registers each worker's signed address once, then submits the receipts. Tells its job manager
 * what was paid to whom, and when the ledger refuses a receipt because the budget is spent. The
 * bridge pays each receipt at most once, so submitting one again is harmless.
 */
final class JobPaymaster extends AbstractBehavior<JobPaymaster.Command> {

  interface Command extends NoSerializationVerificationNeeded {}

  /** Receipts a worker signed. */
  record Pay(ReceiptsSigned signed) implements Command {}

  private record Opened(String failure) implements Command {}

  private record Registered(String workerId, String failure) implements Command {}

  private record Submitted(
      WorkReceipt receipt, LedgerBridge.ReceiptAccepted accepted, String failure)
      implements Command {}

  /** Facts for the job manager. */
  sealed interface Fact extends JobManager.Command, NoSerializationVerificationNeeded {}

  /** {@code receipts} receipts of {@code workerId} were accepted for {@code units}. */
  record Paid(String workerId, String address, int receipts, long units) implements Fact {}

  /** The ledger refused to pay: the job's budget is spent (or its escrow could not open). */
  record Refused(String reason) implements Fact {}

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);

  static Behavior<Command> create(
      String jobId,
      PaymentTerms terms,
      long budget,
      ActorRef<LedgerBridge.Command> ledger,
      ActorRef<JobManager.Command> manager) {
    return Behaviors.setup(ctx -> new JobPaymaster(ctx, jobId, terms, budget, ledger, manager));
  }

  private final String jobId;
  private final ActorRef<LedgerBridge.Command> ledger;
  private final ActorRef<JobManager.Command> manager;
  private final Deque<ReceiptsSigned> queue = new ArrayDeque<>();
  private final Set<String> registered = new HashSet<>();
  private boolean opened;
  private boolean busy;
  private ReceiptsSigned current;
  private Deque<WorkReceipt> pending = new ArrayDeque<>();
  private int accepted;
  private long units;

  private JobPaymaster(
      ActorContext<Command> ctx,
      String jobId,
      PaymentTerms terms,
      long budget,
      ActorRef<LedgerBridge.Command> ledger,
      ActorRef<JobManager.Command> manager) {
    super(ctx);
    this.jobId = jobId;
    this.ledger = ledger;
    this.manager = manager;
    busy = true;
    ctx.askWithStatus(
        LedgerBridge.JobStatus.class,
        ledger,
        ASK_TIMEOUT,
        replyTo -> new LedgerBridge.OpenJob(jobId, terms, budget, replyTo),
        (status, error) -> new Opened(error == null ? null : error.getMessage()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Pay.class, this::onPay)
        .onMessage(Opened.class, this::onOpened)
        .onMessage(Registered.class, this::onRegistered)
        .onMessage(Submitted.class, this::onSubmitted)
        .build();
  }

  private Behavior<Command> onPay(Pay msg) {
    queue.add(msg.signed());
    if (!busy) {
      next();
    }
    return this;
  }

  private Behavior<Command> onOpened(Opened msg) {
    if (msg.failure() != null) {
      getContext().getLog().warn("Job {}: cannot open escrow: {}", jobId, msg.failure());
      manager.tell(new Refused("the ledger cannot open the job's escrow: " + msg.failure()));
      return Behaviors.stopped();
    }
    opened = true;
    busy = false;
    next();
    return this;
  }

  private void next() {
    if (!opened || busy || queue.isEmpty()) {
      return;
    }
    busy = true;
    current = queue.poll();
    pending = new ArrayDeque<>(current.receipts());
    accepted = 0;
    units = 0;
    if (registered.contains(current.workerId())) {
      submitNext();
      return;
    }
    String workerId = current.workerId();
    getContext()
        .askWithStatus(
            LedgerBridge.WorkerRegistered.class,
            ledger,
            ASK_TIMEOUT,
            replyTo -> new LedgerBridge.RegisterWorker(current.registration(), replyTo),
            (ok, error) -> new Registered(workerId, error == null ? null : error.getMessage()));
  }

  private Behavior<Command> onRegistered(Registered msg) {
    if (msg.failure() != null) {
      getContext()
          .getLog()
          .warn("Job {}: worker {} not registered: {}", jobId, msg.workerId(), msg.failure());
      finishBatch();
      return this;
    }
    registered.add(msg.workerId());
    submitNext();
    return this;
  }

  private void submitNext() {
    WorkReceipt r = pending.poll();
    if (r == null) {
      finishBatch();
      return;
    }
    getContext()
        .askWithStatus(
            LedgerBridge.ReceiptAccepted.class,
            ledger,
            ASK_TIMEOUT,
            replyTo -> new LedgerBridge.SubmitReceipt(r, replyTo),
            (ok, error) -> new Submitted(r, ok, error == null ? null : error.getMessage()));
  }

  private Behavior<Command> onSubmitted(Submitted msg) {
    if (msg.failure() == null) {
      accepted++;
      units += msg.accepted().amount();
    } else if (msg.failure().contains("budget")) {
      reportBatch();
      manager.tell(new Refused(msg.failure()));
      return Behaviors.stopped();
    } else if (!msg.failure().contains("replayed")) {
      getContext()
          .getLog()
          .warn("Job {}: receipt {} not paid: {}", jobId, msg.receipt().receiptId(), msg.failure());
    }
    submitNext();
    return this;
  }

  private void finishBatch() {
    reportBatch();
    busy = false;
    next();
  }

  private void reportBatch() {
    if (accepted > 0) {
      manager.tell(new Paid(current.workerId(), current.registration().address(), accepted, units));
    }
    accepted = 0;
    units = 0;
  }
}
