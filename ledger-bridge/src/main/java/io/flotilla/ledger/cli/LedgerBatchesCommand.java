package io.flotilla.ledger.cli;

import io.flotilla.ledger.Ledger;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flotilla ledger batches}: settlement batches, newest first. */
@Command(
    name = "batches",
    mixinStandardHelpOptions = true,
    description = "List settlement batches (PENDING, SENT or SETTLED), newest first.")
public final class LedgerBatchesCommand implements Callable<Integer> {

  @Mixin LedgerOptions options;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Ledger ledger = options.open()) {
      List<Ledger.BatchRecord> batches = ledger.batches();
      out.printf(
          "%-38s %-8s %8s %12s  %-24s %s%n",
          "BATCH", "STATE", "PAYMENTS", "UNITS", "CREATED", "TX");
      for (Ledger.BatchRecord b : batches) {
        out.printf(
            "%-38s %-8s %8d %12d  %-24s %s%n",
            b.batchId(),
            b.state(),
            b.payments(),
            b.total(),
            Instant.ofEpochMilli(b.createdAtMs()),
            b.reference());
      }
      out.printf("%d batches%n", batches.size());
      return 0;
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println(e.getMessage());
      return 2;
    }
  }
}
