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
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Hands a job's signed receipts to the ledger bridge, one at a time: opens the job's escrow first,
 * registers each worker's signed address once, then submits the receipts. Tells its job manager
 * what was paid to whom, and when the ledger refuses a receipt because the budget is spent. The
 * bridge pays each receipt at most once, so submitting one again is harmless. A ledger that does
 * not answer in time (its singleton moving to another node, say) is asked again with a growing
 * pause, never given up on: receipts wait in order until it answers.
 */
final class JobPaymaster extends AbstractBehavior<JobPaymaster.Command> {

  interface Command extends NoSerializationVerificationNeeded {}

  /**
   * Receipts a worker signed.
   *
   * @param reclaim true for receipts of all the work a worker did for the job, asked for again by a
   *     job manager that recovered: some may have been paid before without the job knowing, and the
   *     batch's report says how many the ledger had recorded already
   */
  record Pay(ReceiptsSigned signed, boolean reclaim) implements Command {}

  /** {@code timedOut}: the ledger did not answer; the request is to be made again. */
  private record Opened(String failure, boolean timedOut) implements Command {}

  private record Registered(String workerId, String failure, boolean timedOut) implements Command {}

  private record Submitted(
      WorkReceipt receipt, LedgerBridge.ReceiptAccepted accepted, String failure, boolean timedOut)
      implements Command {}

  /** Time to ask the ledger again. */
  private enum Retry implements Command {
    OPEN,
    REGISTER,
    SUBMIT
  }

  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  private static final Duration LAST_RETRY = Duration.ofSeconds(15);

  /** Facts for the job manager. */
  sealed interface Fact extends JobManager.Command, NoSerializationVerificationNeeded {}

  /** {@code receipts} receipts of {@code workerId} were accepted for {@code units}. */
  record Paid(String workerId, String address, int receipts, long units) implements Fact {}

  /**
   * A reclaimed batch of {@code workerId}: {@code accepted} receipts newly accepted for {@code
   * units}, {@code replayed} the ledger had accepted before, worth {@code replayedUnits}.
   */
  record Reclaimed(
      String workerId, String address, int accepted, long units, int replayed, long replayedUnits)
      implements Fact {}

  /** The ledger refused to pay: the job's budget is spent (or its escrow could not open). */
  record Refused(String reason) implements Fact {}

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);

  static Behavior<Command> create(
      String jobId,
      PaymentTerms terms,
      long budget,
      ActorRef<LedgerBridge.Command> ledger,
      ActorRef<JobManager.Command> manager) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new JobPaymaster(ctx, timers, jobId, terms, budget, ledger, manager)));
  }

  private final TimerScheduler<Command> timers;
  private final String jobId;
  private final PaymentTerms terms;
  private final long budget;
  private final ActorRef<LedgerBridge.Command> ledger;
  private final ActorRef<JobManager.Command> manager;
  private final Deque<Pay> queue = new ArrayDeque<>();
  private final Set<String> registered = new HashSet<>();
  private boolean opened;
  private boolean busy;
  private ReceiptsSigned current;
  private Deque<WorkReceipt> pending = new ArrayDeque<>();
  private boolean reclaim;
  private int accepted;
  private long units;
  private int replayed;
  private long replayedUnits;
  private int timeouts;

  /** Receipts of the batch whose submission timed out: the ledger may have recorded them. */
  private final Set<String> timedOut = new HashSet<>();

  private JobPaymaster(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String jobId,
      PaymentTerms terms,
      long budget,
      ActorRef<LedgerBridge.Command> ledger,
      ActorRef<JobManager.Command> manager) {
    super(ctx);
    this.timers = timers;
    this.jobId = jobId;
    this.terms = terms;
    this.budget = budget;
    this.ledger = ledger;
    this.manager = manager;
    busy = true;
    open();
  }

  private void open() {
    getContext()
        .askWithStatus(
            LedgerBridge.JobStatus.class,
            ledger,
            ASK_TIMEOUT,
            replyTo -> new LedgerBridge.OpenJob(jobId, terms, budget, replyTo),
            (status, error) -> new Opened(message(error), error instanceof TimeoutException));
  }

  private static String message(Throwable error) {
    return error == null ? null : error.getMessage();
  }

  /** The ledger did not answer {@code what}: asks again after a pause that grows to 15 s. */
  private Behavior<Command> retryLater(Retry what, String failure) {
    timeouts++;
    if (timeouts == 1 || timeouts % 10 == 0) {
      getContext()
          .getLog()
          .warn(
              "Job {}: the ledger did not answer ({} times in a row), asking again: {}",
              jobId,
              timeouts,
              failure);
    }
    long millis =
        Math.min(LAST_RETRY.toMillis(), FIRST_RETRY.toMillis() << Math.min(timeouts - 1, 4));
    timers.startSingleTimer(what, Duration.ofMillis(millis));
    return this;
  }

  private Behavior<Command> onRetry(Retry what) {
    switch (what) {
      case OPEN -> open();
      case REGISTER -> register();
      case SUBMIT -> submitNext();
    }
    return this;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Pay.class, this::onPay)
        .onMessage(Opened.class, this::onOpened)
        .onMessage(Registered.class, this::onRegistered)
        .onMessage(Submitted.class, this::onSubmitted)
        .onMessage(Retry.class, this::onRetry)
        .build();
  }

  private Behavior<Command> onPay(Pay msg) {
    queue.add(msg);
    if (!busy) {
      next();
    }
    return this;
  }

  private Behavior<Command> onOpened(Opened msg) {
    if (msg.timedOut()) {
      return retryLater(Retry.OPEN, msg.failure());
    }
    timeouts = 0;
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
    Pay pay = queue.poll();
    current = pay.signed();
    reclaim = pay.reclaim();
    pending = new ArrayDeque<>(current.receipts());
    accepted = 0;
    units = 0;
    replayed = 0;
    replayedUnits = 0;
    timedOut.clear();
    if (registered.contains(current.workerId())) {
      submitNext();
      return;
    }
    register();
  }

  private void register() {
    String workerId = current.workerId();
    var registration = current.registration();
    getContext()
        .askWithStatus(
            LedgerBridge.WorkerRegistered.class,
            ledger,
            ASK_TIMEOUT,
            replyTo -> new LedgerBridge.RegisterWorker(registration, replyTo),
            (ok, error) ->
                new Registered(workerId, message(error), error instanceof TimeoutException));
  }

  private Behavior<Command> onRegistered(Registered msg) {
    if (msg.timedOut()) {
      return retryLater(Retry.REGISTER, msg.failure());
    }
    timeouts = 0;
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
            (ok, error) -> new Submitted(r, ok, message(error), error instanceof TimeoutException));
  }

  private Behavior<Command> onSubmitted(Submitted msg) {
    if (msg.timedOut()) {
      // The ledger may have recorded it: asked again, it then answers "replayed".
      timedOut.add(msg.receipt().receiptId());
      pending.addFirst(msg.receipt());
      return retryLater(Retry.SUBMIT, msg.failure());
    }
    timeouts = 0;
    if (msg.failure() == null) {
      accepted++;
      units += msg.accepted().amount();
    } else if (msg.failure().contains("budget")) {
      reportBatch();
      manager.tell(new Refused(msg.failure()));
      return Behaviors.stopped();
    } else if (msg.failure().contains("replayed")
        && timedOut.remove(msg.receipt().receiptId())
        && !reclaim) {
      // Recorded by the submission whose answer timed out: new to the job.
      accepted++;
      units += terms.price(msg.receipt());
    } else if (msg.failure().contains("replayed")) {
      replayed++;
      replayedUnits += terms.price(msg.receipt());
    } else {
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
    String address = current.registration().address();
    if (reclaim && accepted + replayed > 0) {
      manager.tell(
          new Reclaimed(current.workerId(), address, accepted, units, replayed, replayedUnits));
    } else if (!reclaim && accepted > 0) {
      manager.tell(new Paid(current.workerId(), address, accepted, units));
    }
    accepted = 0;
    units = 0;
    replayed = 0;
    replayedUnits = 0;
  }
}
