package io.flotilla.engine.train;

import java.util.Map;

/**
 * Which data to train on, with the job spec's names (docs/job-spec.md, {@code dataset}).
 *
 * @param type {@code addition}, {@code text}, {@code tokens} or {@code idx}
 * @param source file or directory (text: a UTF-8 file; tokens: a uint16 file or a directory with
 *     train.bin/val.bin; idx: a directory with the MNIST-style files); unused for addition
 * @param options type-specific options as strings: addition {@code digits} (3), {@code
 *     train_examples} (100000), {@code eval_examples} (1000); text {@code eval_fraction} (0.1);
 *     tokens {@code eval_source} and {@code eval_fraction} (0.1); idx {@code train_prefix} (train)
 *     and {@code eval_prefix} (t10k)
 */
public record DatasetConfig(String type, String source, Map<String, String> options) {
  /** Copies the options. */
  public DatasetConfig {
    options = options == null ? Map.of() : Map.copyOf(options);
  }

  /** Integer option with a default; a malformed value is an error naming the option. */
  public long longOption(String name, long fallback) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "dataset.options." + name + " must be an integer, got '" + v + "'", e);
    }
  }

  /** Number option with a default; a malformed value is an error naming the option. */
  public double doubleOption(String name, double fallback) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "dataset.options." + name + " must be a number, got '" + v + "'", e);
    }
  }

  /** String option with a default. */
  public String stringOption(String name, String fallback) {
    return options.getOrDefault(name, fallback);
  }
}
