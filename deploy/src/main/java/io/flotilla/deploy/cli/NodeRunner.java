package io.flotilla.deploy.cli;

import io.flotilla.gossip.FlotillaNode;
import io.flotilla.gossip.NodeStartException;
import io.flotilla.ledger.LedgerBridgeSingleton;
import io.flotilla.protocol.NodeRole;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * Starts a node, reports how to reach it, and blocks until it terminates (Ctrl-C leaves). A node
 * with the {@code ledger} role also hosts the ledger bridge singleton that pays workers.
 */
final class NodeRunner {

  private NodeRunner() {}

  static int run(String what, Supplier<FlotillaNode> start, PrintStream out, PrintStream err) {
    FlotillaNode node;
    try {
      node = start.get();
    } catch (NodeStartException e) {
      err.println("error: " + e.getMessage());
      return 1;
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      err.println("error: " + e.getMessage());
      return 2;
    }
    if (node.settings().roles().contains(NodeRole.LEDGER)) {
      try {
        LedgerBridgeSingleton.init(node.system());
      } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
        err.println("error: ledger: " + e.getMessage());
        node.close();
        return 2;
      }
    }
    out.println(
        what
            + " node "
            + node.address()
            + " started"
            + node.httpUri().map(u -> "; status: " + u + "/cluster/members").orElse("")
            + ". Ctrl-C leaves the cluster and stops.");
    out.flush();
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
