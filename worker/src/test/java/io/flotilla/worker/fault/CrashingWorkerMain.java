package io.flotilla.worker.fault;

/**
 * A process that runs one task under the crash fault: it must die with {@link
 * FaultInjector#CRASH_EXIT_STATUS} before finishing, without running its shutdown hooks.
 */
public final class CrashingWorkerMain {

  private CrashingWorkerMain() {}

  /** Runs the task. */
  public static void main(String[] args) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
    FaultInjector injector = FaultInjector.create(FaultSettings.none().withMode(FaultMode.CRASH));
    System.out.println("task started");
    System.out.flush();
    if (injector.fires()) {
      injector.corrupt("gradient", new float[] {1, 2, 3});
    }
    System.out.println("task finished");
  }
}
