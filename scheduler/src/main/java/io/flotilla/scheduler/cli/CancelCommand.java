package io.flotilla.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flotilla cancel ID}: cancels one of your team's jobs. */
@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = {
      "Cancel one of your team's jobs.",
      "Exit codes: 0 cancelled, 1 failure (no such job for your team, or it already ended)."
    })
public final class CancelCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ApiOptions api;

  @Parameters(index = "0", paramLabel = "ID", description = "The job's id.")
  String id;

  @Override
  public Integer call() {
    JsonNode job;
    try {
      job = new JobsClient(api).call("DELETE", "/jobs/" + id, null);
    } catch (JobsClient.ApiException e) {
      spec.commandLine().getErr().println("cancelling " + id + " failed: " + e.getMessage());
      return 1;
    }
    spec.commandLine().getOut().println(job.path("id").asText() + " " + job.path("state").asText());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
