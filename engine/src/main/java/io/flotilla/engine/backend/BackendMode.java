package io.flotilla.engine.backend;

import java.util.Locale;

/** Which compute backend to use: {@code cpu}, {@code cuda}, or {@code auto} (CUDA when usable). */
public enum BackendMode {
  CPU,
  CUDA,
  AUTO;

  /** Lower-case name as used in options and configuration. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code cpu}, {@code cuda} or {@code auto} (any case).
   *
   * @throws IllegalArgumentException naming the value and what is allowed
   */
  public static BackendMode parse(String s) {
    if (s != null) {
      for (BackendMode m : values()) {
        if (m.id().equalsIgnoreCase(s.trim())) {
          return m;
        }
      }
    }
    throw new IllegalArgumentException("unknown backend '" + s + "'; allowed: cpu, cuda, auto");
  }
}
