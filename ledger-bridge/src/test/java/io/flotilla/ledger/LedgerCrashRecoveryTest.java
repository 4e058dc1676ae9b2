package io.flotilla.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.ledger.ethereum.ChainClient;
import io.flotilla.ledger.ethereum.EthereumLedger;
import io.flotilla.ledger.testing.Ganache;
import io.flotilla.ledger.testing.SimulatedCrash;
import io.flotilla.ledger.testing.TestingCrashHook;
import io.flotilla.protocol.identity.WorkerIdentity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kills settlement at each crash point, reopens the ledger from disk (and the chain), reconciles,
 * and checks that every worker was paid exactly what it earned — on both backends.
 */
class LedgerCrashRecoveryTest {

  private static final BigInteger WEI_PER_UNIT = BigInteger.valueOf(1_000_000_000L);
  private static final PaymentTerms TERMS = new PaymentTerms(PaymentTerms.Basis.PER_TASK, 10);

  @TempDir static Path chainDir;
  private static Ganache ganache;
  private static String contract;

  @TempDir Path dir;

  private final String alice = WorkerIdentity.generate().address();
  private final String bob = WorkerIdentity.generate().address();

  @BeforeAll
  static void startChain() throws Exception {
    ganache = Ganache.start(chainDir);
    try (ChainClient chain = chain()) {
      contract = chain.deployEscrow();
    }
  }

  @AfterAll
  static void stopChain() throws Exception {
    ganache.close();
  }

  private static ChainClient chain() {
    return new ChainClient(
        ganache.rpcUrl(), Ganache.ACCOUNT_0_KEY, BigInteger.valueOf(6_000_000), 30_000);
  }

  private Ledger open(String backend, SettlementHook hook) {
    Path book = dir.resolve("book");
    return switch (backend) {
      case "embedded" -> new EmbeddedLedger(book, Clock.systemUTC(), hook);
      case "ethereum" ->
          new EthereumLedger(book, chain(), contract, WEI_PER_UNIT, Clock.systemUTC(), hook);
      default -> throw new IllegalArgumentException(backend);
    };
  }

  private void earn(Ledger ledger, String job) {
    ledger.openJob(job, TERMS, 1000);
    for (int task = 0; task < 3; task++) {
      assertThat(ledger.recordReceipt(new Payment(job + "/t" + task + "/a", job, alice, 10)))
          .isEqualTo(ReceiptOutcome.ACCEPTED);
    }
    for (int task = 3; task < 5; task++) {
      assertThat(ledger.recordReceipt(new Payment(job + "/t" + task + "/b", job, bob, 10)))
          .isEqualTo(ReceiptOutcome.ACCEPTED);
    }
  }

  private void assertPaidExactlyOnce(Ledger ledger, String job) {
    Map<String, Long> balances = ledger.balances();
    assertThat(balances.get(Ledger.workerAccount(alice))).isEqualTo(30L);
    assertThat(balances.get(Ledger.workerAccount(bob))).isEqualTo(20L);
    assertThat(balances.get(Ledger.escrowAccount(job))).isEqualTo(950L);
    assertThat(balances.values().stream().mapToLong(Long::longValue).sum())
        .as("double entry: the journal sums to zero")
        .isZero();
    assertThat(ledger.batches()).allMatch(b -> b.state().equals("SETTLED"));
    assertThat(ledger.unsettledReceipts()).isZero();
    assertThat(ledger.job(job).orElseThrow().settled()).isEqualTo(50L);
    if (ledger instanceof EthereumLedger eth) {
      assertThat(eth.creditedWei(alice)).isEqualTo(WEI_PER_UNIT.multiply(BigInteger.valueOf(30)));
      assertThat(eth.creditedWei(bob)).isEqualTo(WEI_PER_UNIT.multiply(BigInteger.valueOf(20)));
      assertThat(eth.escrowWei(job)).isEqualTo(WEI_PER_UNIT.multiply(BigInteger.valueOf(950)));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(CrashPoint.class)
  void embeddedRecoversFromCrashAt(CrashPoint point) {
    crashAndRecover("embedded", point);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(CrashPoint.class)
  void ethereumRecoversFromCrashAt(CrashPoint point) {
    crashAndRecover("ethereum", point);
  }

  private void crashAndRecover(String backend, CrashPoint point) {
    String job = "job-" + backend + "-" + point;
    TestingCrashHook hook = new TestingCrashHook(point);
    Ledger first = open(backend, hook);
    earn(first, job);
    SettlementBatch batch =
        first
            .prepareBatch(List.of(job + "/t0/a", job + "/t1/a", job + "/t2/a", job + "/t3/b"))
            .orElseThrow();
    assertThatThrownBy(() -> first.settle(batch)).isInstanceOf(SimulatedCrash.class);
    assertThat(hook.timesReached()).isEqualTo(1);
    first.close();

    try (Ledger restarted = open(backend, SettlementHook.NONE)) {
      List<SettlementBatch> reconciled = restarted.reconcile();
      assertThat(reconciled).extracting(SettlementBatch::batchId).contains(batch.batchId());
      assertPaidExactlyOnce(restarted, job);
      // Settling the same batch again (a duplicate delivery) pays nothing more.
      restarted.settle(batch);
      assertThat(restarted.reconcile()).isEmpty();
      assertPaidExactlyOnce(restarted, job);
    }
  }

  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"embedded", "ethereum"})
  void closingAJobRefundsTheRestToItsFunderOnce(String backend) {
    String job = "job-closed-" + backend;
    try (Ledger ledger = open(backend, SettlementHook.NONE)) {
      earn(ledger, job);
      assertThatThrownBy(() -> ledger.closeJob(job)).hasMessageContaining("not settled yet");
      ledger.reconcile();
      assertThat(ledger.closeJob(job)).isEqualTo(950);
      assertThat(ledger.closeJob(job)).isZero();
      Map<String, Long> balances = ledger.balances();
      assertThat(balances.get(Ledger.escrowAccount(job))).isZero();
      assertThat(balances.get(Ledger.funderAccount(job))).isEqualTo(-50L);
      assertThat(balances.get(Ledger.workerAccount(alice))).isEqualTo(30L);
      assertThat(ledger.recordReceipt(new Payment(job + "/late/a", job, alice, 1)))
          .isEqualTo(ReceiptOutcome.BUDGET_EXHAUSTED);
      if (ledger instanceof EthereumLedger eth) {
        assertThat(eth.escrowWei(job)).isZero();
      }
    }
  }

  @Test
  void contractRejectsABatchIdItHasSeen() {
    String job = "job-replayed-batch";
    try (Ledger ledger = open("ethereum", SettlementHook.NONE);
        ChainClient chain = chain()) {
      earn(ledger, job);
      ledger.reconcile();
      assertPaidExactlyOnce(ledger, job);
      String batchId = ledger.batches().get(0).batchId();
      String tx =
          chain.send(
              contract,
              io.flotilla.ledger.ethereum.EscrowContract.settle(
                  batchId, List.of(job), List.of(alice), List.of(WEI_PER_UNIT)),
              BigInteger.ZERO);
      assertThat(chain.await(tx).isStatusOK()).isFalse();
      assertPaidExactlyOnce(ledger, job);
    } catch (IllegalStateException rejectedAtSubmission) {
      // Some nodes refuse a reverting transaction at submission instead of mining it.
      assertThat(rejectedAtSubmission).hasMessageContaining("BatchAlreadySettled");
    }
  }

  @Test
  void receiptsAccumulateWhileChainIsDownAndSettleWhenItReturns() throws Exception {
    String job = "job-outage";
    Path book = dir.resolve("book");
    try (Ledger ledger =
        new EthereumLedger(
            book, chain(), contract, WEI_PER_UNIT, Clock.systemUTC(), SettlementHook.NONE)) {
      ledger.openJob(job, TERMS, 1000);
      ganache.stop();
      try {
        for (int task = 0; task < 3; task++) {
          ledger.recordReceipt(new Payment(job + "/t" + task + "/a", job, alice, 10));
        }
        for (int task = 3; task < 5; task++) {
          ledger.recordReceipt(new Payment(job + "/t" + task + "/b", job, bob, 10));
        }
        assertThatThrownBy(ledger::reconcile).isInstanceOf(LedgerUnavailableException.class);
        assertThat(ledger.unsettledReceipts()).isEqualTo(5);
        assertThat(ledger.batches()).allMatch(b -> b.state().equals("PENDING"));
      } finally {
        ganache.launch();
      }
      ledger.reconcile();
      assertPaidExactlyOnce(ledger, job);
    }
  }
}
