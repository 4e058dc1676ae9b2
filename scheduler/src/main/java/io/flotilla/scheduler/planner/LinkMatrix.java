package io.flotilla.scheduler.planner;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Measured links between pairs of workers (symmetric), with a default for pairs not measured.
 *
 * @param defaultLink used for every pair not in {@code measured}
 * @param measured links keyed by {@link #key(String, String)}
 */
public record LinkMatrix(Link defaultLink, Map<String, Link> measured) {

  public LinkMatrix {
    Objects.requireNonNull(defaultLink, "defaultLink");
    measured = Map.copyOf(new TreeMap<>(measured));
  }

  /** No measurements: every pair uses {@link Link#UNMEASURED}. */
  public static LinkMatrix unmeasured() {
    return new LinkMatrix(Link.UNMEASURED, Map.of());
  }

  /** The key of the pair {@code a}, {@code b}, in either order. */
  public static String key(String a, String b) {
    return a.compareTo(b) <= 0 ? a + "|" + b : b + "|" + a;
  }

  /** A copy with the link between {@code a} and {@code b} set. */
  public LinkMatrix with(String a, String b, Link link) {
    Map<String, Link> copy = new TreeMap<>(measured);
    copy.put(key(a, b), link);
    return new LinkMatrix(defaultLink, copy);
  }

  /** The link between {@code a} and {@code b}. */
  public Link between(String a, String b) {
    return measured.getOrDefault(key(a, b), defaultLink);
  }
}
