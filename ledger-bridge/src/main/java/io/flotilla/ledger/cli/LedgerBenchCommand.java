package io.flotilla.ledger.cli;

import io.flotilla.ledger.EmbeddedLedger;
import io.flotilla.ledger.Ledger;
import io.flotilla.ledger.Payment;
import io.flotilla.ledger.PaymentTerms;
import io.flotilla.ledger.ReceiptOutcome;
import io.flotilla.ledger.SettlementBatch;
import io.flotilla.ledger.SettlementHook;
import io.flotilla.ledger.ethereum.ChainClient;
import io.flotilla.ledger.ethereum.EthereumLedger;
import io.flotilla.protocol.identity.WorkerIdentity;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla ledger bench}: settlement throughput. Embedded: receipts per second stored,
 * batched and settled on a fresh H2 ledger (one warm-up run, then the median of several). With
 * {@code --rpc-url}: settlement batches per minute on that chain (a fresh escrow is deployed).
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Measure settlement throughput: receipts/s on the embedded ledger, batches/min on a chain.")
public final class LedgerBenchCommand implements Callable<Integer> {

  @Option(
      names = "--receipts",
      defaultValue = "20000",
      description = "receipts per run (default: ${DEFAULT-VALUE})")
  int receipts;

  @Option(
      names = "--batch-size",
      defaultValue = "100",
      description = "receipts per batch (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(
      names = "--runs",
      defaultValue = "3",
      description = "measured runs after one warm-up (default: ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--workers",
      defaultValue = "50",
      description = "distinct payees (default: ${DEFAULT-VALUE})")
  int workers;

  @Option(
      names = "--chain-batches",
      defaultValue = "30",
      description = "batches settled on the chain (default: ${DEFAULT-VALUE})")
  int chainBatches;

  @Mixin ChainOptions chain;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (receipts < 1 || batchSize < 1 || runs < 1 || workers < 1 || chainBatches < 1) {
      err.println("--receipts, --batch-size, --runs, --workers and --chain-batches must be >= 1");
      return 2;
    }
    List<String> payees = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      payees.add(WorkerIdentity.generate().address());
    }
    double[] rates = new double[runs];
    for (int run = -1; run < runs; run++) {
      Path dir = Files.createTempDirectory("flotilla-ledger-bench");
      try (Ledger ledger =
          new EmbeddedLedger(dir.resolve("ledger"), Clock.systemUTC(), SettlementHook.NONE)) {
        double rate = receiptsPerSecond(ledger, payees, receipts, err);
        err.printf("%s: %.0f receipts/s%n", run < 0 ? "warm-up" : "run " + (run + 1), rate);
        if (run >= 0) {
          rates[run] = rate;
        }
      } finally {
        deleteTree(dir);
      }
    }
    Arrays.sort(rates);
    out.printf(
        "embedded ledger: median %.0f receipts/s into batches of %d (%d receipts, %d runs, min %.0f, max %.0f)%n",
        rates[runs / 2], batchSize, receipts, runs, rates[0], rates[runs - 1]);
    if (chain.rpcUrl != null && !chain.rpcUrl.isBlank()) {
      Path dir = Files.createTempDirectory("flotilla-ledger-bench");
      try (ChainClient client = chain.connect()) {
        String contract = client.deployEscrow();
        try (EthereumLedger ledger =
            new EthereumLedger(
                dir.resolve("book"),
                client,
                contract,
                BigInteger.ONE,
                Clock.systemUTC(),
                SettlementHook.NONE)) {
          int total = chainBatches * batchSize;
          ledger.openJob("bench", new PaymentTerms(PaymentTerms.Basis.PER_TASK, 1), total);
          long start = System.nanoTime();
          for (int b = 0; b < chainBatches; b++) {
            settleOneBatch(ledger, payees, b * batchSize, batchSize);
            err.printf("\rchain: %d/%d batches", b + 1, chainBatches);
            err.flush();
          }
          double minutes = (System.nanoTime() - start) / 60e9;
          err.println();
          out.printf(
              "ethereum ledger: %.1f batches/min of %d payments (%.0f payments/s) at %s%n",
              chainBatches / minutes, batchSize, total / (minutes * 60), chain.rpcUrl);
        }
      } finally {
        deleteTree(dir);
      }
    }
    return 0;
  }

  private double receiptsPerSecond(Ledger ledger, List<String> payees, int n, PrintWriter err) {
    ledger.openJob("bench", new PaymentTerms(PaymentTerms.Basis.PER_TASK, 1), n);
    long start = System.nanoTime();
    for (int done = 0; done < n; done += batchSize) {
      settleOneBatch(ledger, payees, done, Math.min(batchSize, n - done));
    }
    return n / ((System.nanoTime() - start) / 1e9);
  }

  private static void settleOneBatch(Ledger ledger, List<String> payees, int first, int count) {
    List<String> ids = new ArrayList<>(count);
    for (int i = first; i < first + count; i++) {
      String id = "bench/t" + i + "/w" + (i % payees.size());
      if (ledger.recordReceipt(new Payment(id, "bench", payees.get(i % payees.size()), 1))
          != ReceiptOutcome.ACCEPTED) {
        throw new IllegalStateException("benchmark receipt " + id + " was not accepted");
      }
      ids.add(id);
    }
    SettlementBatch batch = ledger.prepareBatch(ids).orElseThrow();
    ledger.settle(batch);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
