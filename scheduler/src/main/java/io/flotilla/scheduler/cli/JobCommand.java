package io.flotilla.scheduler.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flotilla job ID}: shows one of your team's jobs: state, plan and spec. */
@Command(
    name = "job",
    mixinStandardHelpOptions = true,
    description = {
      "Show a job: its state, where its stages run, and its spec.",
      "Exit codes: 0 ok, 1 failure (no such job for your team)."
    })
public final class JobCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ApiOptions api;

  @Parameters(index = "0", paramLabel = "ID", description = "The job's id.")
  String id;

  @Option(names = "--json", description = "Print the API's JSON document.")
  boolean json;

  @Override
  public Integer call() throws JsonProcessingException {
    PrintWriter out = spec.commandLine().getOut();
    JsonNode job;
    try {
      job = new JobsClient(api).call("GET", "/jobs/" + id, null);
    } catch (JobsClient.ApiException e) {
      spec.commandLine().getErr().println("reading job " + id + " failed: " + e.getMessage());
      return 1;
    }
    if (json) {
      out.println(JobsClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(job));
      out.flush();
      return 0;
    }
    out.println("job       " + job.path("id").asText() + " (" + job.path("name").asText() + ")");
    out.println("team      " + job.path("team").asText());
    out.println("state     " + job.path("state").asText());
    out.println(
        "steps     " + job.path("steps_completed").asInt() + "/" + job.path("total_steps").asInt());
    out.println("submitted " + job.path("submitted_at").asText());
    if (job.hasNonNull("waiting")) {
      out.println("waiting   " + job.get("waiting").path("reason").asText());
    }
    if (job.hasNonNull("failure_reason")) {
      out.println("failure   " + job.get("failure_reason").asText());
    }
    JsonNode payments = job.path("payments");
    if (payments.isObject()) {
      out.println(
          "spent     "
              + payments.path("spent").asText()
              + " of "
              + payments.path("budget").asText()
              + " "
              + payments.path("currency").asText()
              + " to "
              + payments.path("workers").size()
              + " workers");
    }
    JsonNode plan = job.path("plan");
    if (plan.isObject()) {
      out.printf(
          java.util.Locale.ROOT,
          "plan      %d stages x %d replicas, predicted step %.3f s, bubble %.0f%%%n",
          plan.path("stages").size(),
          plan.path("replicas").asInt(),
          plan.path("predicted_step_seconds").asDouble(),
          plan.path("bubble_share").asDouble() * 100);
      for (JsonNode stage : plan.path("stages")) {
        StringBuilder workers = new StringBuilder();
        for (JsonNode w : stage.path("workers")) {
          workers.append(workers.isEmpty() ? "" : ", ").append(w.path("worker_id").asText());
        }
        out.println(
            "  stage "
                + stage.path("index").asInt()
                + ": layers "
                + stage.path("first_layer").asInt()
                + "-"
                + stage.path("last_layer").asInt()
                + " on "
                + workers);
      }
    }
    out.flush();
    return 0;
  }
}
