package io.flotilla.ledger.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flotilla ledger}: inspect the ledger, deploy the escrow contract, measure settlement. */
@Command(
    name = "ledger",
    mixinStandardHelpOptions = true,
    description =
        "Balances, statements and settlement batches of the ledger; escrow contract deployment.",
    subcommands = {
      LedgerBalancesCommand.class,
      LedgerStatementCommand.class,
      LedgerBatchesCommand.class,
      LedgerDeployContractCommand.class,
      LedgerBenchCommand.class
    })
public final class LedgerCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 2;
  }

  /** Runs {@code flotilla ledger ...} on its own. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new LedgerCommand()).execute(args));
  }
}
