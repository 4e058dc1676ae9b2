package io.flotilla.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.protocol.job.InvalidJobSpecException;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.protocol.job.SpecError;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla submit JOB.yaml}: validates a job spec, submits it to the scheduler's jobs API
 * and prints the new job's id; with {@code --follow}, prints its progress until it ends.
 */
@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description = {
      "Submit a job spec to the scheduler and print the job's id.",
      "Exit codes: 0 submitted (with --follow: completed), 1 failure, 2 invalid spec or usage."
    })
public final class SubmitCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ApiOptions api;

  @Parameters(index = "0", paramLabel = "JOB.yaml", description = "The job spec (YAML or JSON).")
  Path jobFile;

  @Option(
      names = "--idempotency-key",
      paramLabel = "KEY",
      description =
          "Submitting again with the same key (after a timeout, from a retrying script) returns"
              + " the job the first submission created instead of creating another.")
  String idempotencyKey;

  @Option(
      names = "--follow",
      description = "Stay attached and print the job's state changes until it ends.")
  boolean follow;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String text;
    try {
      text = Files.readString(jobFile);
    } catch (IOException e) {
      err.println("cannot read " + jobFile + ": " + e);
      return 2;
    }
    try {
      JobSpecParser.parse(text);
    } catch (InvalidJobSpecException e) {
      err.println(jobFile + ": invalid job spec");
      for (SpecError error : e.errors()) {
        err.println("  " + error);
      }
      return 2;
    }
    JobsClient client = new JobsClient(api);
    JsonNode job;
    try {
      job =
          client.call(
              "POST",
              "/jobs",
              text,
              idempotencyKey == null
                  ? java.util.Map.of()
                  : java.util.Map.of("Idempotency-Key", idempotencyKey));
    } catch (JobsClient.ApiException e) {
      err.println("submit failed: " + e.getMessage());
      if (e.body() != null && e.body().has("errors")) {
        e.body()
            .get("errors")
            .forEach(
                x ->
                    err.println(
                        "  " + x.path("path").asText() + ": " + x.path("message").asText()));
      }
      return e.status() == 400 ? 2 : 1;
    }
    String id = job.get("id").asText();
    out.println(id);
    out.flush();
    if (!follow) {
      return 0;
    }
    try {
      JsonNode last =
          client.follow(
              id,
              state -> {
                err.println(JobsCommand.progressLine(state));
                err.flush();
                return true;
              });
      String state = last == null ? "unknown" : last.path("state").asText();
      out.println(id + " " + state.toLowerCase(Locale.ROOT));
      out.flush();
      return "completed".equals(state) ? 0 : 1;
    } catch (JobsClient.ApiException e) {
      err.println("following " + id + " failed: " + e.getMessage());
      return 1;
    }
  }
}
