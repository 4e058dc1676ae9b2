package io.flotilla.deploy.cli;

import io.flotilla.gossip.FlotillaNode;
import io.flotilla.protocol.NodeRole;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code flotilla seed}: a node others join through. */
@Command(
    name = "seed",
    mixinStandardHelpOptions = true,
    description = {
      "Run a seed node: others join the cluster through it.",
      "Without --seed it forms a new cluster; with --seed it joins the other seeds."
    })
public final class SeedCommand implements Callable<Integer> {

  @Mixin NodeOptions options;

  @Override
  public Integer call() {
    return NodeRunner.run(
        "Seed", () -> FlotillaNode.start(options.toConfig(NodeRole.SEED)), System.out, System.err);
  }
}
