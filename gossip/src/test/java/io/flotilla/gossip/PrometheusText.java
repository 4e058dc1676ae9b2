package io.flotilla.gossip;

import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads samples out of a Prometheus text exposition, for tests that scrape {@code /metrics}. */
public final class PrometheusText {

  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)$");

  private final String text;

  private PrometheusText(String text) {
    this.text = text;
  }

  /** The samples of {@code text}. */
  public static PrometheusText parse(String text) {
    return new PrometheusText(text);
  }

  /**
   * The value of the first sample named {@code name} whose labels include every {@code key="value"}
   * pair given in {@code labels} (as {@code "key", "value", ...}).
   */
  public OptionalDouble value(String name, String... labels) {
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line.trim());
      if (!m.matches() || !m.group(1).equals(name)) {
        continue;
      }
      String found = m.group(3) == null ? "" : m.group(3);
      boolean all = true;
      for (int i = 0; i + 1 < labels.length; i += 2) {
        if (!found.contains(labels[i] + "=\"" + labels[i + 1] + "\"")) {
          all = false;
          break;
        }
      }
      if (all) {
        return OptionalDouble.of(Double.parseDouble(m.group(4)));
      }
    }
    return OptionalDouble.empty();
  }

  /** The sum of every sample named {@code name} (over all its label values). */
  public double sum(String name) {
    double sum = 0;
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line.trim());
      if (m.matches() && m.group(1).equals(name)) {
        sum += Double.parseDouble(m.group(4));
      }
    }
    return sum;
  }

  @Override
  public String toString() {
    return text;
  }
}
