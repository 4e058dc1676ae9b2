package io.flotilla.scheduler.cli;

import picocli.CommandLine.Option;

/** Where the jobs API is and the bearer token to use: {@code --url}, {@code --token}. */
public final class ApiOptions {

  /** The API's URL when neither {@code --url} nor FLOTILLA_URL says otherwise. */
  public static final String DEFAULT_URL = "http://127.0.0.1:8080";

  @Option(
      names = "--url",
      paramLabel = "URL",
      description = "The scheduler's jobs API (default: $FLOTILLA_URL or " + DEFAULT_URL + ").")
  String url;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description = "Bearer token of your team (default: $FLOTILLA_TOKEN).")
  String token;

  /** The API's base URL without a trailing slash. */
  String url() {
    String u = url != null ? url : System.getenv().getOrDefault("FLOTILLA_URL", DEFAULT_URL);
    return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
  }

  /** The token, or null when none is given. */
  String token() {
    return token != null ? token : System.getenv("FLOTILLA_TOKEN");
  }
}
