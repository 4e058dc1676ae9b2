package io.flotilla.gossip;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A seed node's {@code host:port}, as operators write it.
 *
 * @param host host name or IP address, never blank
 * @param port TCP port in 1..65535
 */
public record SeedAddress(String host, int port) {

  public SeedAddress {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("seed host must not be blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("seed port must be in 1..65535, was " + port);
    }
  }

  /**
   * Parses {@code host:port}.
   *
   * @throws IllegalArgumentException naming the input and the expected form
   */
  public static SeedAddress parse(String text) {
    String s = text == null ? "" : text.trim();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException(
          "seed '" + text + "' is not of the form host:port (for example 10.0.0.5:2552)");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "seed '" + text + "' has a port that is not a number; expected host:port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "seed '" + text + "' has port " + port + "; allowed: 1..65535");
    }
    return new SeedAddress(host, port);
  }

  /** Parses a comma-separated list of {@code host:port}; blank input gives an empty list. */
  public static List<SeedAddress> parseList(String text) {
    List<SeedAddress> seeds = new ArrayList<>();
    if (text == null) {
      return seeds;
    }
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        seeds.add(parse(part));
      }
    }
    return seeds;
  }

  /** The Pekko address of the seed node in ActorSystem {@code systemName}. */
  public org.apache.pekko.actor.Address toAddress(String systemName) {
    return new org.apache.pekko.actor.Address("pekko", systemName, host, port);
  }

  @Override
  public String toString() {
    return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
  }
}
