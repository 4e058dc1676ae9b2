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
    subcommands = {
      ClusterCommand.Status.class,
      ClusterCommand.Quarantine.class,
      ClusterCommand.Unquarantine.class
    })
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

  /** Shared options and the HTTP call of quarantine and unquarantine. */
  abstract static class ReputationChange implements Callable<Integer> {

    @picocli.CommandLine.Parameters(index = "0", paramLabel = "WORKER", description = "Worker id.")
    String workerId;

    @Option(
        names = "--reason",
        required = true,
        description = "Why; shown in cluster status and kept in the replicated record.")
    String reason;

    @Option(
        names = "--url",
        description =
            "Base URL of a node's HTTP endpoint whose route-providers-read-only is off. Default:"
                + " FLOTILLA_HTTP_URL or http://127.0.0.1:8558.")
    String url;

    @Option(
        names = "--timeout-seconds",
        defaultValue = "15",
        description = "How long to wait for the node (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    abstract String action();

    @Override
    public Integer call() throws InterruptedException {
      if (reason.isBlank()) {
        System.err.println("error: --reason must not be blank");
        return 2;
      }
      String base =
          (url != null
                  ? url
                  : System.getenv().getOrDefault("FLOTILLA_HTTP_URL", "http://127.0.0.1:8558"))
              .replaceAll("/$", "");
      String uri =
          base
              + "/flotilla/reputation/"
              + encode(workerId)
              + "/"
              + action()
              + "?reason="
              + encode(reason);
      Duration timeout = Duration.ofSeconds(timeoutSeconds);
      try {
        java.net.http.HttpResponse<String> response =
            java.net.http.HttpClient.newBuilder()
                .connectTimeout(timeout)
                .build()
                .send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(uri))
                        .timeout(timeout)
                        .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          System.out.println(action() + " " + workerId + ": done (" + reason + ")");
          return 0;
        }
        System.err.println(
            "error: " + base + " answered " + response.statusCode() + ": " + response.body());
        return response.statusCode() == 400 ? 2 : 1;
      } catch (java.net.ConnectException e) {
        System.err.println(
            "error: no Flotilla node answers at "
                + base
                + " (is a node running with its HTTP"
                + " endpoint there? see --url)");
        return 1;
      } catch (IOException | IllegalArgumentException e) {
        System.err.println("error: " + e.getMessage());
        return 1;
      }
    }

    private static String encode(String s) {
      return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8)
          .replace("+", "%20");
    }
  }

  /** {@code flotilla cluster quarantine WORKER --reason R}. */
  @Command(
      name = "quarantine",
      mixinStandardHelpOptions = true,
      description = {
        "Quarantine a worker cluster-wide at once: no more tasks, no more pay.",
        "Needs a node whose pekko.management.http.route-providers-read-only is off."
      })
  public static final class Quarantine extends ReputationChange {
    @Override
    String action() {
      return "quarantine";
    }
  }

  /** {@code flotilla cluster unquarantine WORKER --reason R}. */
  @Command(
      name = "unquarantine",
      mixinStandardHelpOptions = true,
      description = {
        "Release a quarantined worker. Its invalid results so far are forgiven; later ones count",
        "towards the quarantine threshold again. Needs a node whose",
        "pekko.management.http.route-providers-read-only is off."
      })
  public static final class Unquarantine extends ReputationChange {
    @Override
    String action() {
      return "unquarantine";
    }
  }
}
