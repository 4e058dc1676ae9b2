package io.flotilla.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flotilla jobs}: lists your team's jobs. */
@Command(
    name = "jobs",
    mixinStandardHelpOptions = true,
    description = {"List your team's jobs, oldest first.", "Exit codes: 0 ok, 1 failure."})
public final class JobsCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ApiOptions api;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    JsonNode list;
    try {
      list = new JobsClient(api).call("GET", "/jobs", null);
    } catch (JobsClient.ApiException e) {
      spec.commandLine().getErr().println("listing jobs failed: " + e.getMessage());
      return 1;
    }
    String format = "%-16s %-24s %-10s %-13s %s%n";
    out.printf(Locale.ROOT, format, "ID", "NAME", "STATE", "STEPS", "SUBMITTED");
    for (JsonNode job : list.path("jobs")) {
      out.printf(
          Locale.ROOT,
          format,
          job.path("id").asText(),
          job.path("name").asText(),
          job.path("state").asText(),
          job.path("steps_completed").asInt() + "/" + job.path("total_steps").asInt(),
          job.path("submitted_at").asText());
    }
    out.flush();
    return 0;
  }

  /** One line describing a job's state, for progress output. */
  static String progressLine(JsonNode job) {
    StringBuilder line =
        new StringBuilder(job.path("id").asText())
            .append(' ')
            .append(job.path("state").asText())
            .append(" step ")
            .append(job.path("steps_completed").asInt())
            .append('/')
            .append(job.path("total_steps").asInt());
    if (job.hasNonNull("last_loss")) {
      line.append(String.format(Locale.ROOT, " loss %.4f", job.get("last_loss").asDouble()));
    }
    if (job.hasNonNull("waiting")) {
      line.append(" waiting: ").append(job.get("waiting").path("reason").asText());
    }
    if (job.hasNonNull("failure_reason")) {
      line.append(" failed: ").append(job.get("failure_reason").asText());
    }
    return line.toString();
  }
}
