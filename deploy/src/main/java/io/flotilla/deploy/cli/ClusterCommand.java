package io.flotilla.deploy.cli;

import io.flotilla.deploy.ClusterStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flotilla cluster ...}: inspect a running cluster. */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = "Inspect a running cluster.",
    subcommands = {ClusterCommand.Status.class})
public final class ClusterCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    new picocli.CommandLine(this).usage(System.err);
    return 2;
  }

  /** {@code flotilla cluster status}. */
  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description =
          "Members, roles, reachability, registered workers and quarantined workers (with the"
              + " reason), as seen by one node's HTTP endpoint.")
  public static final class Status implements Callable<Integer> {

    @Option(
        names = "--url",
        description =
            "Base URL of a node's HTTP endpoint. Default: FLOTILLA_HTTP_URL or"
                + " http://127.0.0.1:8558.")
    String url;

    @Option(names = "--json", description = "Print JSON instead of tables.")
    boolean json;

    @Option(
        names = "--timeout-seconds",
        defaultValue = "5",
        description = "How long to wait for the node (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws InterruptedException {
      String base =
          url != null
              ? url
              : System.getenv().getOrDefault("FLOTILLA_HTTP_URL", "http://127.0.0.1:8558");
      try {
        ClusterStatus status =
            ClusterStatus.fetch(base.replaceAll("/$", ""), Duration.ofSeconds(timeoutSeconds));
        System.out.println(json ? status.toJson() : status.toTable());
        return 0;
      } catch (IOException | IllegalArgumentException e) {
        System.err.println("error: " + e.getMessage());
        return 1;
      }
    }
  }
}
