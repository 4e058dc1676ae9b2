package io.flotilla.scheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Predicate;

/** A small client of the jobs API for the CLI commands. */
final class JobsClient {

  /** A failed call: what to print and the exit code. */
  static final class ApiException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final transient JsonNode body;

    ApiException(String message, int status, JsonNode body) {
      super(message);
      this.status = status;
      this.body = body;
    }

    /** HTTP status, 0 when the API did not answer. */
    int status() {
      return status;
    }

    /** The error document, or null. */
    JsonNode body() {
      return body;
    }
  }

  static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String url;
  private final String token;

  JobsClient(ApiOptions options) {
    this.url = options.url();
    this.token = options.token();
  }

  JsonNode call(String method, String path, String body) throws ApiException {
    return call(method, path, body, java.util.Map.of());
  }

  /** Like {@link #call(String, String, String)}, with {@code headers} added to the request. */
  JsonNode call(String method, String path, String body, java.util.Map<String, String> headers)
      throws ApiException {
    HttpRequest.Builder builder =
        request(path)
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/yaml")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(builder::header);
    HttpRequest request = builder.build();
    HttpResponse<String> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException("interrupted", 0, null);
    }
    JsonNode json = parse(response.body());
    if (response.statusCode() / 100 != 2) {
      String message =
          json != null && json.hasNonNull("error")
              ? json.get("error").asText()
              : "HTTP " + response.statusCode();
      throw new ApiException(message, response.statusCode(), json);
    }
    return json;
  }

  /** Downloads {@code path} into {@code file}; fails with the API's error otherwise. */
  void download(String path, java.nio.file.Path file) throws ApiException {
    HttpRequest request = request(path).timeout(Duration.ofMinutes(30)).GET().build();
    HttpResponse<java.nio.file.Path> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofFile(file));
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException("interrupted", 0, null);
    }
    if (response.statusCode() != 200) {
      String body;
      try {
        body = java.nio.file.Files.readString(file);
        java.nio.file.Files.deleteIfExists(file);
      } catch (IOException e) {
        body = "";
      }
      JsonNode json = parse(body);
      throw new ApiException(
          json != null && json.hasNonNull("error")
              ? json.get("error").asText()
              : "HTTP " + response.statusCode(),
          response.statusCode(),
          json);
    }
  }

  /**
   * Reads the job's server-sent state events, handing each to {@code onState} until it returns
   * false or the stream ends; returns the last state.
   */
  JsonNode follow(String jobId, Predicate<JsonNode> onState) throws ApiException {
    HttpRequest request = request("/jobs/" + jobId + "/events").GET().build();
    HttpResponse<InputStream> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException("interrupted", 0, null);
    }
    JsonNode last = null;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      if (response.statusCode() != 200) {
        JsonNode json = parse(lines.lines().reduce("", String::concat));
        throw new ApiException(
            json != null && json.hasNonNull("error")
                ? json.get("error").asText()
                : "HTTP " + response.statusCode(),
            response.statusCode(),
            json);
      }
      String line;
      while ((line = lines.readLine()) != null) {
        if (line.startsWith("data:")) {
          last = parse(line.substring(5).trim());
          if (last != null && !onState.test(last)) {
            break;
          }
        }
      }
    } catch (IOException e) {
      throw new ApiException("the event stream broke: " + e.getMessage(), 0, null);
    }
    return last;
  }

  private HttpRequest.Builder request(String path) throws ApiException {
    HttpRequest.Builder builder;
    try {
      builder = HttpRequest.newBuilder(URI.create(url + path));
    } catch (IllegalArgumentException e) {
      throw new ApiException("invalid --url " + url + ": " + e.getMessage(), 0, null);
    }
    if (token != null && !token.isEmpty()) {
      builder.header("Authorization", "Bearer " + token);
    }
    return builder;
  }

  private ApiException unreachable(IOException e) {
    String why = e instanceof ConnectException ? "connection refused" : String.valueOf(e);
    return new ApiException(
        "no Flotilla scheduler answers at "
            + url
            + " ("
            + why
            + "); pass --url or set FLOTILLA_URL",
        0,
        null);
  }

  private static JsonNode parse(String text) {
    try {
      return text == null || text.isBlank() ? null : JSON.readTree(text);
    } catch (IOException e) {
      return null;
    }
  }
}
