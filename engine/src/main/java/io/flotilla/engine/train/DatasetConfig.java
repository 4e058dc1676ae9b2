package io.flotilla.engine.train;

import java.util.Map;

/**
 * Which data to train on.
 *
 * @param type {@code addition}, {@code text}, {@code tokens} or {@code idx}
 * @param source file or directory (text: a UTF-8 file; tokens: a uint16 file or a directory with
 *     train.bin/val.bin; idx: a directory with the four MNIST-style files); unused for addition
 * @param options type-specific options as strings: addition {@code digits} (default 3); all types
 *     {@code eval_samples} (default 1000)
 */
public record DatasetConfig(String type, String source, Map<String, String> options) {
  /** Copies the options. */
  public DatasetConfig {
    options = options == null ? Map.of() : Map.copyOf(options);
  }

  /** Integer option with a default; a malformed value is an error naming the option. */
  public int intOption(String name, int fallback) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "dataset.options." + name + " must be an integer, got '" + v + "'", e);
    }
  }
}
