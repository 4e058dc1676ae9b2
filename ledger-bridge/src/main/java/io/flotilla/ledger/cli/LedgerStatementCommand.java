package io.flotilla.ledger.cli;

import io.flotilla.ledger.Ledger;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flotilla ledger statement WORKER}: every payment to one worker. */
@Command(
    name = "statement",
    mixinStandardHelpOptions = true,
    description = "Show every payment to one worker, by worker id or 0x address.")
public final class LedgerStatementCommand implements Callable<Integer> {

  @Mixin LedgerOptions options;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "WORKER", description = "worker id or 0x address")
  String worker;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Ledger ledger = options.open()) {
      String address;
      if (worker.matches("0x[0-9a-fA-F]{40}")) {
        address = worker.toLowerCase(java.util.Locale.ROOT);
      } else {
        var registered = ledger.workerAddress(worker);
        if (registered.isEmpty()) {
          spec.commandLine()
              .getErr()
              .println(
                  "unknown worker '" + worker + "': give a registered worker id or a 0x address");
          return 2;
        }
        address = registered.get();
      }
      List<Ledger.JournalEntry> entries = ledger.statement(Ledger.workerAccount(address));
      out.println("statement of " + address);
      out.printf("%8s  %-38s %10s  %s%n", "ENTRY", "BATCH", "UNITS", "FOR");
      long total = 0;
      for (Ledger.JournalEntry e : entries) {
        out.printf("%8d  %-38s %10d  %s%n", e.entryId(), e.batchId(), e.amount(), e.memo());
        total += e.amount();
      }
      out.printf("%d payments, %d units in total%n", entries.size(), total);
      return 0;
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println(e.getMessage());
      return 2;
    }
  }
}
