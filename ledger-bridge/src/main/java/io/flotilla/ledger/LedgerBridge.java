package io.flotilla.ledger;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.identity.SignatureVerifier;
import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.identity.WorkerRegistration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Turns receipts for verified work into payments: checks each receipt's signature against the
 * worker's registered address, prices it from the job's terms, reserves it from the job's escrow,
 * and settles accepted receipts in batches of at most {@code batch.max-receipts} or every {@code
 * batch.max-interval} through a {@code groupedWithin} stream that settles one batch at a time
 * (back-pressure). A job whose budget is exhausted is paused and its subscribers are told.
 *
 * <p>Every ledger call blocks and runs on {@code flotilla.ledger.blocking-dispatcher}; results come
 * back through {@code pipeToSelf}. Run one per cluster with {@link LedgerBridgeSingleton}.
 */
public final class LedgerBridge extends AbstractBehavior<LedgerBridge.Command> {

  /** Messages the bridge handles. */
  public sealed interface Command {}

  /** Opens escrow for a job with its payment terms and budget (idempotent per job). */
  public record OpenJob(
      String jobId, PaymentTerms terms, long budget, ActorRef<StatusReply<JobStatus>> replyTo)
      implements Command, ControlMessage {}

  /** Registers a worker's payment address; the registration must be signed by that address. */
  public record RegisterWorker(
      WorkerRegistration registration, ActorRef<StatusReply<WorkerRegistered>> replyTo)
      implements Command, ControlMessage {}

  /** A signed receipt for verified work, to be paid to the address that signed it. */
  public record SubmitReceipt(WorkReceipt receipt, ActorRef<StatusReply<ReceiptAccepted>> replyTo)
      implements Command, ControlMessage {}

  /** Asks for a job's spend. */
  public record GetJob(String jobId, ActorRef<StatusReply<JobStatus>> replyTo)
      implements Command, ControlMessage {}

  /**
   * Ends a job: refunds the rest of its escrow to its funder once all its receipts are settled
   * (otherwise an error reply: try again after the next batch).
   */
  public record CloseJob(String jobId, ActorRef<StatusReply<JobClosed>> replyTo)
      implements Command, ControlMessage {}

  /** Reply to {@link CloseJob}. */
  public record JobClosed(String jobId, long refunded) implements ControlMessage {}

  /** Subscribes to {@link LedgerEvent}s (for example the scheduler, to pause jobs). */
  public record Subscribe(ActorRef<LedgerEvent> subscriber) implements Command, ControlMessage {}

  /** Reply to {@link RegisterWorker}. */
  public record WorkerRegistered(String workerId, String address) implements ControlMessage {}

  /** Reply to an accepted {@link SubmitReceipt}. */
  public record ReceiptAccepted(String receiptId, String payee, long amount)
      implements ControlMessage {}

  /**
   * A job's escrow.
   *
   * @param paused true once its budget is exhausted: it must not be given more work
   */
  public record JobStatus(
      String jobId, long budget, long committed, long settled, long remaining, boolean paused)
      implements ControlMessage {}

  /** What subscribers hear. */
  public sealed interface LedgerEvent extends ControlMessage {}

  /** A job's budget cannot pay a receipt: the job is paused until more budget arrives. */
  public record JobBudgetExhausted(String jobId, long budget, long committed, String receiptId)
      implements LedgerEvent {}

  /** A batch was settled on the backend. */
  public record BatchSettled(String batchId, int payments, long total) implements LedgerEvent {}

  private enum ReconcileTick implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private record Intake(
      SubmitReceipt request,
      Optional<Payment> payment,
      Optional<ReceiptOutcome> outcome,
      String rejection,
      Optional<Ledger.JobAccount> job)
      implements Command, NoSerializationVerificationNeeded {}

  private record Replied<T>(ActorRef<StatusReply<T>> replyTo, StatusReply<T> reply)
      implements Command, NoSerializationVerificationNeeded {}

  private record Settled(List<SettlementBatch> batches, String failure, boolean fromReconcile)
      implements Command, NoSerializationVerificationNeeded {}

  /** The bridge over {@code ledger}, opened by the factory when the bridge starts. */
  public static Behavior<Command> create(LedgerSettings settings, Supplier<Ledger> ledgerFactory) {
    Behavior<Command> bridge =
        Behaviors.setup(
            context ->
                Behaviors.withTimers(
                    timers -> new LedgerBridge(context, timers, settings, ledgerFactory.get())));
    // Log lines about one job or worker carry its id in the MDC (jobId, workerId).
    return Behaviors.withMdc(Command.class, LedgerBridge::mdcOf, bridge);
  }

  private static Map<String, String> mdcOf(Command command) {
    Map<String, String> mdc = new HashMap<>();
    switch (command) {
      case OpenJob m -> mdc.put("jobId", m.jobId());
      case GetJob m -> mdc.put("jobId", m.jobId());
      case CloseJob m -> mdc.put("jobId", m.jobId());
      case RegisterWorker m -> mdc.put("workerId", m.registration().workerId());
      case SubmitReceipt m -> receiptMdc(m.receipt(), mdc);
      case Intake m -> receiptMdc(m.request().receipt(), mdc);
      default -> {
        // Not about one job or worker.
      }
    }
    return mdc;
  }

  private static void receiptMdc(WorkReceipt receipt, Map<String, String> mdc) {
    if (receipt.jobId() != null) {
      mdc.put("jobId", receipt.jobId());
    }
    if (receipt.workerId() != null) {
      mdc.put("workerId", receipt.workerId());
    }
  }

  private final LedgerSettings settings;
  private final Ledger ledger;
  private final Executor blocking;
  private final BoundedSourceQueue<String> intake;
  private final Set<ActorRef<LedgerEvent>> subscribers = new HashSet<>();
  private boolean reconciling;
  private final LedgerMetrics metrics;

  private LedgerBridge(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      LedgerSettings settings,
      Ledger ledger) {
    super(context);
    this.settings = settings;
    this.ledger = ledger;
    this.metrics = LedgerMetrics.get(context.getSystem());
    this.blocking =
        context
            .getSystem()
            .dispatchers()
            .lookup(DispatcherSelector.fromConfig(LedgerSettings.BLOCKING_DISPATCHER));
    ActorRef<Command> self = context.getSelf();
    Source<String, BoundedSourceQueue<String>> source = Source.queue(settings.queueSize());
    this.intake =
        source
            .groupedWithin(settings.batchMaxReceipts(), settings.batchMaxInterval())
            .mapAsync(1, ids -> CompletableFuture.supplyAsync(() -> settleGroup(ids), blocking))
            .to(Sink.foreach(self::tell))
            .run(Materializer.createMaterializer(context));
    context.getLog().info("ledger bridge started on the {} ledger", ledger.backend());
    timers.startTimerWithFixedDelay(ReconcileTick.INSTANCE, settings.reconcileInterval());
    context.getSelf().tell(ReconcileTick.INSTANCE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(OpenJob.class, this::onOpenJob)
        .onMessage(RegisterWorker.class, this::onRegisterWorker)
        .onMessage(SubmitReceipt.class, this::onSubmitReceipt)
        .onMessage(GetJob.class, this::onGetJob)
        .onMessage(CloseJob.class, this::onCloseJob)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Intake.class, this::onIntake)
        .onMessage(Replied.class, this::onReplied)
        .onMessage(Settled.class, this::onSettled)
        .onMessageEquals(ReconcileTick.INSTANCE, this::onReconcileTick)
        .onSignal(Terminated.class, this::onSubscriberGone)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private <T> void blockingReply(ActorRef<StatusReply<T>> replyTo, Supplier<StatusReply<T>> work) {
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(work, blocking),
            (reply, failure) ->
                new Replied<>(
                    replyTo,
                    failure != null
                        ? StatusReply.<T>error("ledger failed: " + rootMessage(failure))
                        : reply));
  }

  private Behavior<Command> onOpenJob(OpenJob m) {
    blockingReply(
        m.replyTo(),
        () -> {
          if (m.budget() <= 0) {
            return StatusReply.error("budget of job " + m.jobId() + " must be > 0");
          }
          ledger.openJob(m.jobId(), m.terms(), m.budget());
          return StatusReply.success(status(ledger.job(m.jobId()).orElseThrow()));
        });
    return this;
  }

  private Behavior<Command> onRegisterWorker(RegisterWorker m) {
    WorkerRegistration r = m.registration();
    if (!SignatureVerifier.isValid(r)) {
      getContext()
          .getLog()
          .warn("rejected registration of worker {}: not signed by {}", r.workerId(), r.address());
      m.replyTo()
          .tell(
              StatusReply.error(
                  "registration of worker "
                      + r.workerId()
                      + " rejected: it must be signed by the key of "
                      + r.address()));
      return this;
    }
    String address = r.address().toLowerCase(java.util.Locale.ROOT);
    blockingReply(
        m.replyTo(),
        () -> {
          ledger.registerWorker(r.workerId(), address);
          return StatusReply.success(new WorkerRegistered(r.workerId(), address));
        });
    return this;
  }

  private Behavior<Command> onGetJob(GetJob m) {
    blockingReply(
        m.replyTo(),
        () ->
            ledger
                .job(m.jobId())
                .map(j -> StatusReply.success(status(j)))
                .orElseGet(() -> StatusReply.error("unknown job " + m.jobId())));
    return this;
  }

  private Behavior<Command> onCloseJob(CloseJob m) {
    blockingReply(
        m.replyTo(),
        () -> {
          try {
            return StatusReply.success(new JobClosed(m.jobId(), ledger.closeJob(m.jobId())));
          } catch (IllegalArgumentException | IllegalStateException e) {
            return StatusReply.error(e.getMessage());
          }
        });
    return this;
  }

  private Behavior<Command> onSubscribe(Subscribe m) {
    subscribers.add(m.subscriber());
    getContext().watch(m.subscriber());
    return this;
  }

  private Behavior<Command> onSubmitReceipt(SubmitReceipt m) {
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(() -> check(m), blocking),
            (intake, failure) ->
                failure != null
                    ? new Intake(
                        m,
                        Optional.empty(),
                        Optional.empty(),
                        "ledger failed: " + rootMessage(failure),
                        Optional.empty())
                    : intake);
    return this;
  }

  /** Verifies, prices and records one receipt; runs on the blocking dispatcher. */
  private Intake check(SubmitReceipt m) {
    WorkReceipt receipt = m.receipt();
    if (!receipt.isSigned()) {
      return rejected(m, "unsigned receipt " + receipt.receiptId() + " rejected");
    }
    Optional<String> signer = SignatureVerifier.signerOf(receipt);
    if (signer.isEmpty()) {
      return rejected(m, "receipt " + receipt.receiptId() + " rejected: malformed signature");
    }
    Optional<String> registered = ledger.workerAddress(receipt.workerId());
    if (registered.isEmpty()) {
      return rejected(
          m,
          "receipt "
              + receipt.receiptId()
              + " rejected: worker "
              + receipt.workerId()
              + " has no registered address");
    }
    if (!registered.get().equalsIgnoreCase(signer.get())) {
      return rejected(
          m,
          "forged receipt "
              + receipt.receiptId()
              + " rejected: signed by "
              + signer.get()
              + ", but worker "
              + receipt.workerId()
              + " is registered as "
              + registered.get());
    }
    Optional<Ledger.JobAccount> job = ledger.job(receipt.jobId());
    if (job.isEmpty()) {
      return rejected(
          m, "receipt " + receipt.receiptId() + " rejected: unknown job " + receipt.jobId());
    }
    long amount;
    try {
      amount = job.get().terms().price(receipt);
    } catch (ArithmeticException overflow) {
      return rejected(m, "receipt " + receipt.receiptId() + " rejected: amount overflows");
    }
    Payment payment = new Payment(receipt.receiptId(), receipt.jobId(), signer.get(), amount);
    ReceiptOutcome outcome = ledger.recordReceipt(payment);
    return new Intake(
        m, Optional.of(payment), Optional.of(outcome), "", ledger.job(receipt.jobId()));
  }

  private static Intake rejected(SubmitReceipt m, String why) {
    return new Intake(m, Optional.empty(), Optional.empty(), why, Optional.empty());
  }

  private Behavior<Command> onIntake(Intake m) {
    ActorRef<StatusReply<ReceiptAccepted>> replyTo = m.request().replyTo();
    if (m.outcome().isEmpty()) {
      metrics.receipt(LedgerMetrics.Receipt.REJECTED);
      getContext().getLog().warn("{}", m.rejection());
      replyTo.tell(StatusReply.error(m.rejection()));
      return this;
    }
    Payment payment = m.payment().orElseThrow();
    String id = payment.receiptId();
    metrics.receipt(LedgerMetrics.Receipt.valueOf(m.outcome().get().name()));
    switch (m.outcome().get()) {
      case ACCEPTED -> {
        replyTo.tell(
            StatusReply.success(new ReceiptAccepted(id, payment.payee(), payment.amount())));
        QueueOfferResult offered = intake.offer(id);
        if (offered != QueueOfferResult.enqueued()) {
          // Stored durably already; the next reconciliation batches it.
          getContext()
              .getLog()
              .debug("settlement queue full; receipt {} waits for reconciliation", id);
        }
      }
      case DUPLICATE -> {
        String why = "replayed receipt " + id + " rejected: it was recorded before";
        getContext().getLog().warn("{}", why);
        replyTo.tell(StatusReply.error(why));
      }
      case UNKNOWN_JOB -> replyTo.tell(StatusReply.error("unknown job " + payment.jobId()));
      case BUDGET_EXHAUSTED -> {
        Ledger.JobAccount job = m.job().orElseThrow();
        String why =
            "budget exhausted for job "
                + job.jobId()
                + ": budget "
                + job.budget()
                + ", committed "
                + job.committed()
                + ", receipt "
                + id
                + " needs "
                + payment.amount()
                + "; the job is paused";
        getContext().getLog().warn("{}", why);
        replyTo.tell(StatusReply.error(why));
        JobBudgetExhausted event =
            new JobBudgetExhausted(job.jobId(), job.budget(), job.committed(), id);
        subscribers.forEach(s -> s.tell(event));
      }
    }
    return this;
  }

  private Behavior<Command> onReplied(Replied<?> m) {
    deliver(m);
    return this;
  }

  private static <T> void deliver(Replied<T> m) {
    m.replyTo().tell(m.reply());
  }

  private Settled settleGroup(List<String> receiptIds) {
    try {
      Optional<SettlementBatch> batch = ledger.prepareBatch(receiptIds);
      if (batch.isEmpty()) {
        return new Settled(List.of(), "", false);
      }
      boolean settledNow = ledger.settle(batch.get());
      refreshBalances();
      return new Settled(settledNow ? List.of(batch.get()) : List.of(), "", false);
    } catch (RuntimeException e) {
      return new Settled(List.of(), rootMessage(e), false);
    }
  }

  private Behavior<Command> onReconcileTick() {
    if (!reconciling) {
      reconciling = true;
      getContext()
          .pipeToSelf(
              CompletableFuture.supplyAsync(
                  () -> {
                    List<SettlementBatch> settled = ledger.reconcile();
                    refreshBalances();
                    return settled;
                  },
                  blocking),
              (batches, failure) ->
                  failure != null
                      ? new Settled(List.of(), rootMessage(failure), true)
                      : new Settled(batches, "", true));
    }
    return this;
  }

  private Behavior<Command> onSettled(Settled m) {
    if (m.fromReconcile()) {
      reconciling = false;
    }
    if (!m.failure().isEmpty()) {
      metrics.settlementFailed();
      getContext()
          .getLog()
          .warn(
              "settlement postponed ({}); receipts stay stored and are retried every {}",
              m.failure(),
              settings.reconcileInterval());
    }
    List<BatchSettled> events = new ArrayList<>();
    for (SettlementBatch b : m.batches()) {
      metrics.settled(b);
      events.add(new BatchSettled(b.batchId(), b.payments().size(), b.total()));
      getContext()
          .getLog()
          .info(
              "settled batch {}: {} payments, {} units",
              b.batchId(),
              b.payments().size(),
              b.total());
    }
    events.forEach(e -> subscribers.forEach(s -> s.tell(e)));
    return this;
  }

  private Behavior<Command> onSubscriberGone(Terminated t) {
    subscribers.remove(t.getRef());
    return this;
  }

  /** Reads the ledger's balances into the gauges; runs on the blocking dispatcher. */
  private void refreshBalances() {
    try {
      metrics.balances(ledger.balances(), ledger.unsettledReceipts());
    } catch (RuntimeException e) {
      // Metrics never fail a settlement; the next reconciliation reads them again.
      org.slf4j.LoggerFactory.getLogger(LedgerBridge.class)
          .debug("cannot read the ledger's balances for metrics: {}", e.toString());
    }
  }

  private Behavior<Command> onPostStop() {
    metrics.stopped();
    ledger.close();
    return this;
  }

  private static JobStatus status(Ledger.JobAccount j) {
    return new JobStatus(
        j.jobId(), j.budget(), j.committed(), j.settled(), j.remaining(), j.paused());
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
