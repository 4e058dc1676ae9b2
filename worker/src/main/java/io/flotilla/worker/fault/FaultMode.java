package io.flotilla.worker.fault;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Ways a worker started with {@code --fault MODE} misbehaves, for tests and load tests of the
 * verification. See {@link FaultInjector} for what each one does.
 */
public enum FaultMode {
  /** Behaves correctly. */
  NONE("none"),
  /** Adds Gaussian noise to results. */
  NOISE("noise"),
  /** Negates every element of results. */
  FLIP_SIGNS("flip-signs"),
  /** Multiplies results by a factor. */
  SCALE("scale"),
  /** Returns all-zero results. */
  ZEROS("zeros"),
  /** Returns the previous result of the same slot instead of the current one. */
  STALE("stale"),
  /** Holds each result back for a while, then returns it unchanged. */
  DELAY("delay"),
  /** Halts the worker's JVM in the middle of a task. */
  CRASH("crash"),
  /** Advertises inflated speed and memory in the worker registry. */
  LIE_CAPABILITIES("lie-capabilities");

  private final String cliName;

  FaultMode(String cliName) {
    this.cliName = cliName;
  }

  /** The name used on the command line and in configuration, e.g. {@code flip-signs}. */
  public String cliName() {
    return cliName;
  }

  /**
   * Parses a mode name.
   *
   * @throws IllegalArgumentException naming the value and the allowed ones
   */
  public static FaultMode parse(String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT);
    for (FaultMode m : values()) {
      if (m.cliName.equals(wanted)) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "unknown fault mode '" + name + "'; allowed: " + allowedNames());
  }

  /** The allowed names, comma separated. */
  public static String allowedNames() {
    return Arrays.stream(values()).map(FaultMode::cliName).collect(Collectors.joining(", "));
  }
}
