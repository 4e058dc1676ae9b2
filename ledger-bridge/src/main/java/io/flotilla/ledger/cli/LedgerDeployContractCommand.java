package io.flotilla.ledger.cli;

import io.flotilla.ledger.LedgerUnavailableException;
import io.flotilla.ledger.ethereum.ChainClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flotilla ledger deploy-contract}: deploys FlotillaEscrow with the operator key. */
@Command(
    name = "deploy-contract",
    mixinStandardHelpOptions = true,
    description =
        "Deploy the FlotillaEscrow contract; the operator key becomes the only account allowed to"
            + " settle batches. Prints the contract address for FLOTILLA_ETH_CONTRACT.")
public final class LedgerDeployContractCommand implements Callable<Integer> {

  @Mixin ChainOptions chain;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (ChainClient client = chain.connect()) {
      err.println("deploying FlotillaEscrow from " + client.operatorAddress() + " ...");
      String address = client.deployEscrow();
      out.println("FlotillaEscrow deployed at " + address);
      out.println("export FLOTILLA_ETH_CONTRACT=" + address);
      return 0;
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      return 2;
    } catch (IOException | LedgerUnavailableException | IllegalStateException e) {
      err.println("deployment failed: " + e.getMessage());
      return 1;
    }
  }
}
