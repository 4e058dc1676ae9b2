package io.flotilla.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.protocol.job.JobSpecWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla fetch ID --out DIR}: downloads the last checkpoint of one of your team's jobs —
 * one safetensors shard per pipeline stage, each checked against the SHA-256 the job recorded —
 * with the job's spec, so that {@code flotilla model export}/{@code eval} or any safetensors reader
 * can use it.
 */
@Command(
    name = "fetch",
    mixinStandardHelpOptions = true,
    description = {
      "Download a job's last checkpoint (one shard per stage, hash-checked) and its spec.",
      "Exit codes: 0 ok, 1 failure (no such job, no checkpoint yet, a shard that does not hash"
          + " as recorded), 2 bad usage."
    })
public final class FetchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin ApiOptions api;

  @Parameters(index = "0", paramLabel = "ID", description = "The job's id.")
  String id;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      required = true,
      description = "Directory to write stage-K.safetensors, job.yaml and checkpoint.json into.")
  Path out;

  @Override
  public Integer call() throws IOException {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    JobsClient client = new JobsClient(api);
    JsonNode checkpoint;
    JsonNode job;
    try {
      job = client.call("GET", "/jobs/" + id, null);
      checkpoint = client.call("GET", "/jobs/" + id + "/checkpoint", null);
    } catch (JobsClient.ApiException e) {
      err.println("fetching job " + id + " failed: " + e.getMessage());
      return 1;
    }
    Files.createDirectories(out);
    long total = checkpoint.path("bytes").asLong();
    long done = 0;
    for (JsonNode shard : checkpoint.path("shards")) {
      int stage = shard.path("stage").asInt();
      Path file = out.resolve("stage-" + stage + ".safetensors");
      try {
        client.download(shard.path("path").asText(), file);
      } catch (JobsClient.ApiException e) {
        err.println("downloading stage " + stage + " of job " + id + " failed: " + e.getMessage());
        return 1;
      }
      String sha = sha256(file);
      if (!sha.equals(shard.path("sha256").asText())) {
        Files.deleteIfExists(file);
        err.println(
            "stage "
                + stage
                + " of job "
                + id
                + " hashes to "
                + sha
                + ", the job recorded "
                + shard.path("sha256").asText()
                + "; deleted");
        return 1;
      }
      done += Files.size(file);
      stdout.printf(
          java.util.Locale.ROOT,
          "%s  %,d bytes  (%d/%d bytes)%n",
          file,
          Files.size(file),
          done,
          total);
      stdout.flush();
    }
    Files.writeString(
        out.resolve("job.yaml"),
        JobSpecWriter.toYaml(
            JobSpecParser.parse(JobsClient.JSON.writeValueAsString(job.path("spec")))));
    Files.writeString(
        out.resolve("checkpoint.json"),
        JobsClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(checkpoint));
    stdout.println(
        "Checkpoint after step "
            + checkpoint.path("step").asLong()
            + " of job "
            + id
            + " saved to "
            + out.toAbsolutePath());
    return 0;
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(sha.digest());
  }
}
