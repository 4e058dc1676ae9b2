package io.flotilla.worker.task;

import io.flotilla.protocol.task.CheckpointRef;
import io.flotilla.worker.pipeline.StageCheckpoint;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Moves checkpoint shards between a worker and the scheduler node that keeps them, over HTTP: a PUT
 * of the file to the one-time upload address a job manager issued, and a GET of a shard whose
 * SHA-256 must match what the job manager recorded.
 */
final class CheckpointTransfer {
  private final HttpClient client;
  private final Duration timeout;

  CheckpointTransfer(Duration timeout) {
    this.timeout = timeout;
    this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** Uploads {@code file} to {@code url}; fails naming the address and the server's answer. */
  void upload(Path file, String url) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(timeout)
            .header("Content-Type", "application/octet-stream")
            .PUT(HttpRequest.BodyPublishers.ofFile(file))
            .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) {
      throw new IOException(
          "checkpoint upload to "
              + url
              + " failed: HTTP "
              + response.statusCode()
              + " "
              + response.body().strip());
    }
  }

  /**
   * Downloads the shard {@code ref} into {@code dir} and checks its SHA-256.
   *
   * @throws IOException when it cannot be fetched or its bytes hash otherwise (the file is deleted)
   */
  Path download(CheckpointRef ref, Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path file = Files.createTempFile(dir, "restore-", ".safetensors");
    HttpRequest request = HttpRequest.newBuilder(URI.create(ref.url())).timeout(timeout).build();
    HttpResponse<Path> response =
        client.send(
            request,
            HttpResponse.BodyHandlers.ofFile(
                file,
                java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING));
    if (response.statusCode() != 200) {
      Files.deleteIfExists(file);
      throw new IOException(
          "checkpoint download from " + ref.url() + " failed: HTTP " + response.statusCode());
    }
    String sha = StageCheckpoint.sha256(file);
    if (!sha.equals(ref.sha256())) {
      Files.deleteIfExists(file);
      throw new IOException(
          "checkpoint from "
              + ref.url()
              + " hashes to "
              + sha
              + ", expected "
              + ref.sha256()
              + "; not used");
    }
    return file;
  }
}
