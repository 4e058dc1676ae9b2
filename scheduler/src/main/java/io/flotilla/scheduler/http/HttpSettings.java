package io.flotilla.scheduler.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.HashMap;
import java.util.Map;

/**
 * The jobs API's settings, read once from {@code flotilla.scheduler.http}.
 *
 * @param enabled whether the scheduler node serves the API
 * @param host interface to bind
 * @param port port to bind (0: a free one)
 * @param maxBodyBytes largest request body accepted
 * @param teamsByToken bearer token to team
 */
public record HttpSettings(
    boolean enabled, String host, int port, long maxBodyBytes, Map<String, String> teamsByToken) {

  public HttpSettings {
    teamsByToken = Map.copyOf(teamsByToken);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("flotilla.scheduler.http.port must be in 0..65535");
    }
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("flotilla.scheduler.http.max-body-bytes must be >= 1");
    }
  }

  /** Reads the settings from a resolved config. */
  public static HttpSettings create(Config config) {
    Config http = config.getConfig("flotilla.scheduler.http");
    Map<String, String> tokens = new HashMap<>();
    for (Map.Entry<String, ConfigValue> e : http.getObject("tokens").entrySet()) {
      String team = String.valueOf(e.getValue().unwrapped());
      if (team.isBlank()) {
        throw new IllegalArgumentException(
            "flotilla.scheduler.http.tokens: a token names an empty team; give each a team name");
      }
      tokens.put(e.getKey(), team);
    }
    String single = http.getString("single-token");
    if (!single.isEmpty()) {
      tokens.put(single, http.getString("single-token-team"));
    }
    return new HttpSettings(
        http.getBoolean("enabled"),
        http.getString("host"),
        http.getInt("port"),
        http.getBytes("max-body-bytes"),
        tokens);
  }
}
