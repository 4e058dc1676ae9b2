package io.flotilla.ledger.cli;

import io.flotilla.ledger.Ledger;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flotilla ledger balances}: every account's balance, workers first. */
@Command(
    name = "balances",
    mixinStandardHelpOptions = true,
    description = "Show the balance of every worker, job escrow and funder account.")
public final class LedgerBalancesCommand implements Callable<Integer> {

  @Mixin LedgerOptions options;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Ledger ledger = options.open()) {
      Map<String, Long> balances = ledger.balances();
      out.printf("%-60s %15s%n", "ACCOUNT", "UNITS");
      balances.entrySet().stream()
          .sorted(
              (a, b) -> {
                int kind =
                    Boolean.compare(
                        !a.getKey().startsWith("worker:"), !b.getKey().startsWith("worker:"));
                return kind != 0 ? kind : a.getKey().compareTo(b.getKey());
              })
          .forEach(e -> out.printf("%-60s %15d%n", e.getKey(), e.getValue()));
      out.printf(
          "%d accounts; journal sum %d (always 0 in double entry); %d receipts not settled yet%n",
          balances.size(),
          balances.values().stream().mapToLong(Long::longValue).sum(),
          ledger.unsettledReceipts());
      return 0;
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println(e.getMessage());
      return 2;
    }
  }
}
