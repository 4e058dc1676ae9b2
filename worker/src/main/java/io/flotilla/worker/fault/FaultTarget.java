package io.flotilla.worker.fault;

import java.util.Locale;

/**
 * What a faulty stage corrupts with a mode that changes values (noise, flip-signs, scale, zeros).
 */
public enum FaultTarget {
  /**
   * The stage's parameters after the update: the replicas of a stage then disagree, and their vote
   * catches it.
   */
  PARAMETERS("parameters"),
  /**
   * The stage's local gradient before the all-reduce: every replica applies the poisoned sum and
   * they still agree with each other, so only a shadow execution of the slot catches it.
   */
  GRADIENTS("gradients");

  private final String cliName;

  FaultTarget(String cliName) {
    this.cliName = cliName;
  }

  /** The name used on the command line and in configuration. */
  public String cliName() {
    return cliName;
  }

  /**
   * Parses a target name.
   *
   * @throws IllegalArgumentException naming the value and the allowed ones
   */
  public static FaultTarget parse(String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT);
    for (FaultTarget t : values()) {
      if (t.cliName.equals(wanted)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unknown fault target '" + name + "'; allowed: parameters, gradients");
  }
}
