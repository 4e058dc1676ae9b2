package io.flotilla.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.identity.WorkerIdentity;
import io.flotilla.protocol.identity.WorkerRegistration;
import io.flotilla.protocol.metrics.NodeMetrics;
import io.flotilla.protocol.testing.SerializationAssertions;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The bridge as a cluster singleton on a one-node cluster with role ledger, embedded ledger. */
@ExtendWith(LogCapturingExtension.class)
class LedgerBridgeTest {

  @TempDir Path dir;
  private ActorTestKit kit;
  private ActorRef<LedgerBridge.Command> bridge;

  private final WorkerIdentity alice = WorkerIdentity.generate();
  private final WorkerIdentity bob = WorkerIdentity.generate();

  @BeforeEach
  void start() {
    kit = ActorTestKit.create("ledger-test", config(dir.resolve("ledger")));
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    TestProbe<Object> waiter = kit.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertThat(cluster.selfMember().status()).isEqualTo(MemberStatus.up());
          return null;
        });
    bridge = LedgerBridgeSingleton.init(kit.system());
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
  }

  static Config config(Path ledgerPath) {
    return ConfigFactory.parseMap(
            Map.of(
                "flotilla.ledger.embedded.path",
                ledgerPath.toString(),
                "flotilla.ledger.batch.max-receipts",
                3,
                "flotilla.ledger.batch.max-interval",
                "200ms",
                "flotilla.ledger.reconcile-interval",
                "1s"))
        .withFallback(
            ConfigFactory.parseString(
                """
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = 127.0.0.1
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.roles = [ledger]
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.cluster.periodic-tasks-initial-delay = 0s
                pekko.cluster.gossip-interval = 100ms
                pekko.cluster.leader-actions-interval = 100ms
                """))
        .withFallback(ConfigFactory.parseResources("application-test.conf"))
        .withFallback(ConfigFactory.load());
  }

  private <T> T ok(java.util.function.Function<ActorRef<StatusReply<T>>, LedgerBridge.Command> m) {
    TestProbe<StatusReply<T>> probe = kit.createTestProbe();
    bridge.tell(m.apply(probe.getRef()));
    StatusReply<T> reply = probe.receiveMessage(Duration.ofSeconds(15));
    assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
    return reply.getValue();
  }

  private <T> String error(
      java.util.function.Function<ActorRef<StatusReply<T>>, LedgerBridge.Command> m) {
    TestProbe<StatusReply<T>> probe = kit.createTestProbe();
    bridge.tell(m.apply(probe.getRef()));
    StatusReply<T> reply = probe.receiveMessage(Duration.ofSeconds(15));
    assertThat(reply.isError()).as("reply %s", reply).isTrue();
    return reply.getError().getMessage();
  }

  private void register(WorkerIdentity id, String workerId) {
    this.<LedgerBridge.WorkerRegistered>ok(
        r -> new LedgerBridge.RegisterWorker(id.registration(workerId), r));
  }

  private LedgerBridge.ReceiptAccepted submit(WorkReceipt receipt) {
    return this.<LedgerBridge.ReceiptAccepted>ok(r -> new LedgerBridge.SubmitReceipt(receipt, r));
  }

  private String reject(WorkReceipt receipt) {
    return this.<LedgerBridge.ReceiptAccepted>error(
        r -> new LedgerBridge.SubmitReceipt(receipt, r));
  }

  private static WorkReceipt receipt(String job, String task, String worker, long megaflops) {
    return WorkReceipt.unsigned(job, task, worker, megaflops, 1_700_000_000_000L);
  }

  @Test
  void paysEachSignerForVerifiedWorkInBatches() {
    TestProbe<LedgerBridge.LedgerEvent> events = kit.createTestProbe();
    bridge.tell(new LedgerBridge.Subscribe(events.getRef()));
    this.<LedgerBridge.JobStatus>ok(
        r ->
            new LedgerBridge.OpenJob(
                "j1", new PaymentTerms(PaymentTerms.Basis.PER_GFLOP, 4), 1000, r));
    register(alice, "w-a");
    register(bob, "w-b");

    for (int t = 0; t < 4; t++) {
      LedgerBridge.ReceiptAccepted accepted =
          submit(alice.sign(receipt("j1", "t" + t, "w-a", 2500)));
      assertThat(accepted.amount()).isEqualTo(10); // 2.5 GFLOP * 4 units
      assertThat(accepted.payee()).isEqualTo(alice.address());
    }
    submit(bob.sign(receipt("j1", "t9", "w-b", 1000)));

    long settledTotal = 0;
    int settledPayments = 0;
    while (settledPayments < 5) {
      LedgerBridge.BatchSettled b =
          (LedgerBridge.BatchSettled) events.receiveMessage(Duration.ofSeconds(15));
      assertThat(b.payments()).isLessThanOrEqualTo(3);
      settledPayments += b.payments();
      settledTotal += b.total();
    }
    assertThat(settledTotal).isEqualTo(44);
    LedgerBridge.JobStatus job =
        this.<LedgerBridge.JobStatus>ok(r -> new LedgerBridge.GetJob("j1", r));
    assertThat(job.settled()).isEqualTo(44);

    MeterRegistry meters = NodeMetrics.get(kit.system()).registry();
    assertThat(meters.get("flotilla.ledger.receipts").tag("outcome", "accepted").counter().count())
        .isEqualTo(5);
    assertThat(meters.get("flotilla.ledger.payments").counter().count()).isEqualTo(5);
    assertThat(meters.get("flotilla.ledger.settled").counter().count()).isEqualTo(44);
    assertThat(meters.get("flotilla.ledger.batches").counter().count()).isGreaterThanOrEqualTo(2);
    kit.createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertThat(
                      meters
                          .get("flotilla.ledger.balance")
                          .tag("account", "worker")
                          .gauge()
                          .value())
                  .isEqualTo(44);
              assertThat(
                      meters
                          .get("flotilla.ledger.balance")
                          .tag("account", "escrow")
                          .gauge()
                          .value())
                  .isEqualTo(956);
              assertThat(meters.get("flotilla.ledger.unsettled.receipts").gauge().value()).isZero();
              return null;
            });
    assertThat(job.remaining()).isEqualTo(956);
    assertThat(job.paused()).isFalse();

    LedgerBridge.JobClosed closed =
        this.<LedgerBridge.JobClosed>ok(r -> new LedgerBridge.CloseJob("j1", r));
    assertThat(closed.refunded()).isEqualTo(956);
    assertThat(reject(alice.sign(receipt("j1", "t-late", "w-a", 1000))))
        .contains("budget exhausted for job j1");
  }

  @Test
  void rejectsAndLogsUnsignedForgedReplayedAndTamperedReceipts() {
    this.<LedgerBridge.JobStatus>ok(
        r ->
            new LedgerBridge.OpenJob(
                "j2", new PaymentTerms(PaymentTerms.Basis.PER_TASK, 5), 100, r));
    register(alice, "w-a");

    WorkReceipt good = alice.sign(receipt("j2", "t1", "w-a", 100));
    assertThat(submit(good).amount()).isEqualTo(5);

    LoggingTestKit.warn("replayed receipt j2/t1/w-a")
        .expect(kit.system(), () -> assertThat(reject(good)).contains("replayed"));
    LoggingTestKit.warn("unsigned receipt")
        .expect(kit.system(), () -> reject(receipt("j2", "t2", "w-a", 100)));
    // bob signs a receipt claiming to be alice's worker: payment would go to bob's address.
    LoggingTestKit.warn("forged receipt j2/t3/w-a")
        .expect(
            kit.system(),
            () ->
                assertThat(reject(bob.sign(receipt("j2", "t3", "w-a", 100))))
                    .contains("signed by " + bob.address()));
    WorkReceipt signed = alice.sign(receipt("j2", "t4", "w-a", 100));
    WorkReceipt tampered =
        new WorkReceipt("j2", "t5", "w-a", 100, signed.completedAtMs(), signed.signature());
    // The warning carries the job and the worker the receipt names, for structured logs.
    LoggingTestKit.warn("forged receipt j2/t5/w-a")
        .withMdc(Map.of("jobId", "j2", "workerId", "w-a"))
        .expect(kit.system(), () -> reject(tampered));
    assertThat(reject(alice.sign(receipt("j2", "t6", "w-unknown", 1))))
        .contains("no registered address");
    assertThat(reject(alice.sign(receipt("j-none", "t7", "w-a", 1)))).contains("unknown job");

    // A registration signed by another key than the address it claims is refused.
    WorkerRegistration stolen =
        new WorkerRegistration("w-x", alice.address(), bob.registration("w-x").signature());
    assertThat(
            this.<LedgerBridge.WorkerRegistered>error(
                r -> new LedgerBridge.RegisterWorker(stolen, r)))
        .contains("must be signed");

    LedgerBridge.JobStatus job =
        this.<LedgerBridge.JobStatus>ok(r -> new LedgerBridge.GetJob("j2", r));
    assertThat(job.committed()).isEqualTo(5);

    MeterRegistry meters = NodeMetrics.get(kit.system()).registry();
    assertThat(meters.get("flotilla.ledger.receipts").tag("outcome", "accepted").counter().count())
        .isEqualTo(1);
    assertThat(meters.get("flotilla.ledger.receipts").tag("outcome", "duplicate").counter().count())
        .isEqualTo(1);
    // unsigned, forged, tampered, unregistered worker, unknown job
    assertThat(meters.get("flotilla.ledger.receipts").tag("outcome", "rejected").counter().count())
        .isEqualTo(5);
  }

  @Test
  void exhaustedBudgetPausesTheJobAndTellsSubscribers() {
    TestProbe<LedgerBridge.LedgerEvent> events = kit.createTestProbe();
    bridge.tell(new LedgerBridge.Subscribe(events.getRef()));
    this.<LedgerBridge.JobStatus>ok(
        r ->
            new LedgerBridge.OpenJob(
                "j3", new PaymentTerms(PaymentTerms.Basis.PER_TASK, 10), 25, r));
    register(alice, "w-a");
    submit(alice.sign(receipt("j3", "t1", "w-a", 1)));
    submit(alice.sign(receipt("j3", "t2", "w-a", 1)));
    assertThat(reject(alice.sign(receipt("j3", "t3", "w-a", 1))))
        .contains("budget exhausted for job j3")
        .contains("paused");
    // The batch settling t1 and t2 may be announced first; skip it.
    List<LedgerBridge.LedgerEvent> seen =
        events.fishForMessage(
            Duration.ofSeconds(15),
            e ->
                e instanceof LedgerBridge.JobBudgetExhausted
                    ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                    : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes
                        .continueAndIgnore());
    LedgerBridge.JobBudgetExhausted exhausted =
        (LedgerBridge.JobBudgetExhausted) seen.get(seen.size() - 1);
    assertThat(exhausted.jobId()).isEqualTo("j3");
    LedgerBridge.JobStatus job =
        this.<LedgerBridge.JobStatus>ok(r -> new LedgerBridge.GetJob("j3", r));
    assertThat(job.paused()).isTrue();
    assertThat(job.committed()).isEqualTo(20);
  }

  @Test
  void acceptedReceiptsSurviveARestartAndAreSettledAfterIt() {
    this.<LedgerBridge.JobStatus>ok(
        r ->
            new LedgerBridge.OpenJob(
                "j4", new PaymentTerms(PaymentTerms.Basis.PER_TASK, 3), 100, r));
    register(alice, "w-a");
    for (int t = 0; t < 7; t++) {
      submit(alice.sign(receipt("j4", "t" + t, "w-a", 1)));
    }
    // Stop at once: some receipts are accepted but not yet batched or settled.
    kit.shutdownTestKit();

    kit = ActorTestKit.create("ledger-test", config(dir.resolve("ledger")));
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    bridge = LedgerBridgeSingleton.init(kit.system());
    TestProbe<Object> waiter = kit.createTestProbe();
    waiter.awaitAssert(
        Duration.ofSeconds(20),
        Duration.ofMillis(200),
        () -> {
          LedgerBridge.JobStatus job =
              this.<LedgerBridge.JobStatus>ok(r -> new LedgerBridge.GetJob("j4", r));
          assertThat(job.settled()).isEqualTo(21);
          return null;
        });
    // The replay protection survived the restart too.
    assertThat(reject(alice.sign(receipt("j4", "t3", "w-a", 1)))).contains("replayed");
  }

  @Test
  void messagesRoundTrip() {
    ActorRef<StatusReply<LedgerBridge.JobStatus>> jobRef =
        kit.<StatusReply<LedgerBridge.JobStatus>>createTestProbe().getRef();
    PaymentTerms terms = new PaymentTerms(PaymentTerms.Basis.PER_GFLOP, 3);
    List<Object> samples =
        List.of(
            terms,
            new LedgerBridge.OpenJob("j", terms, 10, jobRef),
            new LedgerBridge.RegisterWorker(
                alice.registration("w"),
                kit.<StatusReply<LedgerBridge.WorkerRegistered>>createTestProbe().getRef()),
            new LedgerBridge.SubmitReceipt(
                alice.sign(receipt("j", "t", "w", 1)),
                kit.<StatusReply<LedgerBridge.ReceiptAccepted>>createTestProbe().getRef()),
            new LedgerBridge.GetJob("j", jobRef),
            new LedgerBridge.Subscribe(kit.<LedgerBridge.LedgerEvent>createTestProbe().getRef()),
            new LedgerBridge.WorkerRegistered("w", alice.address()),
            new LedgerBridge.ReceiptAccepted("j/t/w", alice.address(), 3),
            new LedgerBridge.JobStatus("j", 10, 3, 2, 7, false),
            new LedgerBridge.JobBudgetExhausted("j", 10, 10, "j/t/w"),
            new LedgerBridge.BatchSettled("b", 2, 5),
            new LedgerBridge.CloseJob(
                "j", kit.<StatusReply<LedgerBridge.JobClosed>>createTestProbe().getRef()),
            new LedgerBridge.JobClosed("j", 7));
    samples.forEach(m -> SerializationAssertions.assertRoundTrips(kit.system(), m));
    SerializationAssertions.assertEveryMessageHasSample(
        kit.system(), samples, c -> c.getName().startsWith("io.flotilla.ledger"));
  }
}
