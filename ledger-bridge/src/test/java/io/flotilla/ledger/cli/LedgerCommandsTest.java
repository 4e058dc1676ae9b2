package io.flotilla.ledger.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.ledger.EmbeddedLedger;
import io.flotilla.ledger.Payment;
import io.flotilla.ledger.PaymentTerms;
import io.flotilla.ledger.testing.Ganache;
import io.flotilla.protocol.identity.WorkerIdentity;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class LedgerCommandsTest {

  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new LedgerCommand());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void balancesStatementAndBatchesReadTheEmbeddedLedger() {
    Path db = dir.resolve("ledger");
    WorkerIdentity alice = WorkerIdentity.generate();
    try (EmbeddedLedger ledger = EmbeddedLedger.open(db)) {
      ledger.openJob("j1", new PaymentTerms(PaymentTerms.Basis.PER_TASK, 7), 100);
      ledger.registerWorker("w-a", alice.address());
      ledger.recordReceipt(new Payment("j1/t1/w-a", "j1", alice.address(), 7));
      ledger.recordReceipt(new Payment("j1/t2/w-a", "j1", alice.address(), 7));
      ledger.settle(ledger.prepareBatch(List.of("j1/t1/w-a", "j1/t2/w-a")).orElseThrow());
    }
    String path = "--ledger-path=" + db;

    Run balances = run("balances", path);
    assertThat(balances.exit()).isZero();
    assertThat(balances.out())
        .containsPattern("worker:" + alice.address() + "\\s+14")
        .containsPattern("escrow:j1\\s+86")
        .contains("journal sum 0");

    Run byId = run("statement", "w-a", path);
    assertThat(byId.exit()).isZero();
    assertThat(byId.out()).contains("receipt j1/t2/w-a").contains("2 payments, 14 units in total");
    assertThat(run("statement", alice.address(), path).out()).contains("14 units in total");
    Run unknown = run("statement", "w-nobody", path);
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("unknown worker 'w-nobody'");

    Run batches = run("batches", path);
    assertThat(batches.exit()).isZero();
    assertThat(batches.out()).contains("SETTLED").contains("1 batches");

    Run missing = run("balances", "--ledger-path=" + dir.resolve("nothing-here"));
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("no ledger database at");
  }

  @Test
  void deployContractAndBenchRunAgainstARealChain() throws Exception {
    Path key = dir.resolve("operator.key");
    Files.writeString(key, Ganache.ACCOUNT_0_KEY);
    try (Ganache ganache = Ganache.start(dir.resolve("chain"))) {
      Run deploy =
          run("deploy-contract", "--rpc-url=" + ganache.rpcUrl(), "--operator-key-file=" + key);
      assertThat(deploy.exit()).as(deploy.err()).isZero();
      assertThat(deploy.out()).containsPattern("export FLOTILLA_ETH_CONTRACT=0x[0-9a-fA-F]{40}");

      Run bench =
          run(
              "bench",
              "--receipts=200",
              "--batch-size=20",
              "--runs=1",
              "--chain-batches=2",
              "--rpc-url=" + ganache.rpcUrl(),
              "--operator-key-file=" + key);
      assertThat(bench.exit()).as(bench.err()).isZero();
      assertThat(bench.out()).contains("receipts/s").contains("batches/min");
    }
    Run noKey =
        run(
            "deploy-contract",
            "--rpc-url=http://127.0.0.1:1",
            "--operator-key-file=" + dir.resolve("absent"));
    assertThat(noKey.exit()).isEqualTo(1);
  }
}
