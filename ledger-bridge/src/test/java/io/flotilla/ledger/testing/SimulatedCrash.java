package io.flotilla.ledger.testing;

/** Thrown by {@link TestingCrashHook} to stop a settlement as if the process had died there. */
public final class SimulatedCrash extends Error {

  /** At {@code point}. */
  public SimulatedCrash(String point) {
    super("simulated crash at " + point);
  }
}
