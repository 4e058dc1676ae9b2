package io.flotilla.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.ledger.ethereum.ChainClient;
import io.flotilla.ledger.ethereum.EscrowContract;
import io.flotilla.ledger.testing.Ganache;
import io.flotilla.protocol.identity.WorkReceipt;
import io.flotilla.protocol.identity.WorkerIdentity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.abi.datatypes.generated.Uint256;

/** The singleton bridge configured for the Ethereum backend pays signers on a real chain. */
@ExtendWith(LogCapturingExtension.class)
class EthereumBridgeTest {

  @TempDir Path dir;

  @Test
  void bridgeSettlesSignedReceiptsOnTheChain() throws Exception {
    try (Ganache ganache = Ganache.start(dir.resolve("chain"))) {
      String contract;
      try (ChainClient chain =
          new ChainClient(
              ganache.rpcUrl(), Ganache.ACCOUNT_0_KEY, BigInteger.valueOf(6_000_000), 30_000)) {
        contract = chain.deployEscrow();
      }
      Config config =
          ConfigFactory.parseMap(
                  Map.of(
                      "flotilla.ledger.backend",
                      "ethereum",
                      "flotilla.ledger.ethereum.rpc-url",
                      ganache.rpcUrl(),
                      "flotilla.ledger.ethereum.operator-key",
                      Ganache.ACCOUNT_0_KEY,
                      "flotilla.ledger.ethereum.contract-address",
                      contract,
                      "flotilla.ledger.ethereum.book-path",
                      dir.resolve("book").toString()))
              .withFallback(LedgerBridgeTest.config(dir.resolve("unused")));
      ActorTestKit kit = ActorTestKit.create("ledger-eth-test", config);
      try {
        Cluster cluster = Cluster.get(kit.system());
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
        ActorRef<LedgerBridge.Command> bridge = LedgerBridgeSingleton.init(kit.system());
        TestProbe<LedgerBridge.LedgerEvent> events = kit.createTestProbe();
        bridge.tell(new LedgerBridge.Subscribe(events.getRef()));

        TestProbe<StatusReply<LedgerBridge.JobStatus>> jobs = kit.createTestProbe();
        bridge.tell(
            new LedgerBridge.OpenJob(
                "eth-job", new PaymentTerms(PaymentTerms.Basis.PER_TASK, 5), 100, jobs.getRef()));
        assertThat(jobs.receiveMessage(Duration.ofSeconds(30)).isSuccess()).isTrue();

        WorkerIdentity worker = WorkerIdentity.generate();
        TestProbe<StatusReply<LedgerBridge.WorkerRegistered>> reg = kit.createTestProbe();
        bridge.tell(new LedgerBridge.RegisterWorker(worker.registration("w-eth"), reg.getRef()));
        assertThat(reg.receiveMessage(Duration.ofSeconds(15)).isSuccess()).isTrue();

        TestProbe<StatusReply<LedgerBridge.ReceiptAccepted>> receipts = kit.createTestProbe();
        for (int t = 0; t < 3; t++) {
          bridge.tell(
              new LedgerBridge.SubmitReceipt(
                  worker.sign(WorkReceipt.unsigned("eth-job", "t" + t, "w-eth", 1, 0L)),
                  receipts.getRef()));
          assertThat(receipts.receiveMessage(Duration.ofSeconds(15)).isSuccess()).isTrue();
        }
        long settledTotal = 0;
        while (settledTotal < 15) {
          settledTotal +=
              events
                  .expectMessageClass(LedgerBridge.BatchSettled.class, Duration.ofSeconds(30))
                  .total();
        }
        assertThat(settledTotal).isEqualTo(15);

        try (ChainClient chain =
            new ChainClient(
                ganache.rpcUrl(), Ganache.ACCOUNT_0_KEY, BigInteger.valueOf(6_000_000), 30_000)) {
          BigInteger credited =
              ((Uint256) chain.call(contract, EscrowContract.balanceOf(worker.address())).get(0))
                  .getValue();
          assertThat(credited).isEqualTo(BigInteger.valueOf(15L * 1_000_000_000L));
        }
      } finally {
        kit.shutdownTestKit();
      }
    }
  }
}
