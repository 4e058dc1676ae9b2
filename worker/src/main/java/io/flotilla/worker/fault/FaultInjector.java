package io.flotilla.worker.fault;

import io.flotilla.protocol.task.StepReport;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Makes a worker misbehave on purpose ({@code flotilla worker --fault MODE}), so that tests and
 * load tests can prove the verification catches it. A faulty worker never says so: nothing of this
 * appears in its registry entry or its reports, only in its own log.
 *
 * <p>A stage executor calls {@link #fires()} once per step for the modes that {@link
 * #appliesToResults() apply to results}: when it fires, delay and crash act in the middle of the
 * step, and the value modes pass each of the stage's parameters through {@link #corrupt} after the
 * optimizer update, <em>before</em> the parameter digest is computed, so the worker really holds
 * and reports parameters that differ from its replicas'. For stale the stage host draws {@link
 * #fires()} and passes the step's report through {@link #report}. {@link #capabilities} is applied
 * by the worker agent to what it publishes. What each mode does:
 *
 * <table>
 *   <caption>Fault modes</caption>
 *   <tr><th>mode</th><th>effect</th></tr>
 *   <tr><td>noise</td><td>adds N(0, (noise-stddev x RMS)^2) to every element (an absolute
 *       noise-stddev when the tensor is all zeros)</td></tr>
 *   <tr><td>flip-signs</td><td>negates every element</td></tr>
 *   <tr><td>scale</td><td>multiplies every element by scale-factor</td></tr>
 *   <tr><td>zeros</td><td>sets every element to 0</td></tr>
 *   <tr><td>stale</td><td>replaces the tensor with the one the same slot had at the previous
 *       call (the first call passes unchanged), and the report's digests with those of the
 *       previous report</td></tr>
 *   <tr><td>delay</td><td>blocks the calling thread for delay, then passes unchanged</td></tr>
 *   <tr><td>crash</td><td>halts the JVM with {@link #CRASH_EXIT_STATUS} through {@link
 *       Runtime#halt}: no shutdown hooks, no graceful leave, exactly like a killed process; the
 *       cluster must detect it through its failure detector</td></tr>
 *   <tr><td>lie-capabilities</td><td>multiplies the advertised GFLOP/s and memory by
 *       capability-inflation; results stay correct</td></tr>
 * </table>
 *
 * <p>{@code rate} applies to tasks ({@link #fires()}); lie-capabilities applies to every
 * publication. Draws and noise come from one seeded generator, so the same seed and the same
 * sequence of calls give the same faults. Thread-safe.
 */
public final class FaultInjector {

  /** The exit status of a worker halted by the crash mode. */
  public static final int CRASH_EXIT_STATUS = 86;

  /** Ends the process; a test double may throw instead. */
  @FunctionalInterface
  public interface Halter {
    /** Ends the process with {@code status}; does not return normally. */
    void halt(int status);
  }

  /** Blocks the calling thread; a test double may record the duration instead. */
  @FunctionalInterface
  public interface Sleeper {
    /** Blocks for {@code duration}. */
    void sleep(Duration duration) throws InterruptedException;
  }

  private final FaultSettings settings;
  private final Halter halter;
  private final Sleeper sleeper;
  private final SplittableRandom random;
  private final Map<String, float[]> previous = new HashMap<>();
  private StepReport previousReport;

  /** An injector for {@code settings} that halts and sleeps for real. */
  public static FaultInjector create(FaultSettings settings) {
    return new FaultInjector(
        settings, status -> Runtime.getRuntime().halt(status), d -> Thread.sleep(d.toMillis()));
  }

  /** An injector that never does anything. */
  public static FaultInjector none() {
    return create(FaultSettings.none());
  }

  /** An injector with its own halter and sleeper (tests). */
  public FaultInjector(FaultSettings settings, Halter halter, Sleeper sleeper) {
    this.settings = settings;
    this.halter = halter;
    this.sleeper = sleeper;
    this.random = new SplittableRandom(settings.seed());
  }

  /** The mode. */
  public FaultMode mode() {
    return settings.mode();
  }

  /** What the modes that change values corrupt. */
  public FaultTarget target() {
    return settings.target();
  }

  /** Whether any fault is configured. */
  public boolean active() {
    return settings.mode() != FaultMode.NONE;
  }

  /**
   * Whether a stage executor applies this injector to the results of its steps: every mode but
   * stale (which the stage host applies to step reports) and lie-capabilities (which the worker
   * agent applies to what it publishes).
   */
  public boolean appliesToResults() {
    return switch (settings.mode()) {
      case NOISE, FLIP_SIGNS, SCALE, ZEROS, DELAY, CRASH -> true;
      case NONE, STALE, LIE_CAPABILITIES -> false;
    };
  }

  /** Whether this mode changes result values (noise, flip-signs, scale, zeros). */
  public boolean changesValues() {
    return switch (settings.mode()) {
      case NOISE, FLIP_SIGNS, SCALE, ZEROS -> true;
      case NONE, STALE, DELAY, CRASH, LIE_CAPABILITIES -> false;
    };
  }

  /**
   * Draws whether the current task's results are corrupted: never without a mode, with probability
   * {@code rate} otherwise. Call once per task.
   */
  public synchronized boolean fires() {
    return active() && settings.mode() != FaultMode.LIE_CAPABILITIES && draw() < settings.rate();
  }

  private double draw() {
    return random.nextDouble();
  }

  /**
   * Applies the mode to {@code values} in place and returns them. {@code slot} names the tensor
   * (e.g. {@code job/stage/replica/gradient}) so that stale can return that tensor's previous
   * value. Modes that do not touch tensors leave them unchanged.
   */
  public synchronized float[] corrupt(String slot, float[] values) {
    switch (settings.mode()) {
      case NOISE -> {
        double sigma = settings.noiseStddev() * rms(values);
        if (sigma == 0) {
          sigma = settings.noiseStddev();
        }
        for (int i = 0; i < values.length; i++) {
          values[i] += (float) (gaussian() * sigma);
        }
      }
      case FLIP_SIGNS -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = -values[i];
        }
      }
      case SCALE -> {
        float f = (float) settings.scaleFactor();
        for (int i = 0; i < values.length; i++) {
          values[i] *= f;
        }
      }
      case ZEROS -> Arrays.fill(values, 0f);
      case STALE -> {
        float[] current = values.clone();
        float[] old = previous.put(slot, current);
        if (old != null && old.length == values.length) {
          System.arraycopy(old, 0, values, 0, values.length);
        }
      }
      case DELAY -> {
        try {
          sleeper.sleep(settings.delay());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      case CRASH -> halter.halt(CRASH_EXIT_STATUS);
      case NONE, LIE_CAPABILITIES -> {}
    }
    return values;
  }

  /** {@link #fires()} and, when it fires, {@link #corrupt}; returns whether it fired. */
  public boolean maybeCorrupt(String slot, float[] values) {
    if (fires()) {
      corrupt(slot, values);
      return true;
    }
    return false;
  }

  /**
   * The report a faulty worker sends for a task whose results were corrupted: stale reports the
   * previous report's digests (and remembers this one); every other mode's lie is already in the
   * digests computed from the corrupted tensors, so the report passes unchanged.
   */
  public synchronized StepReport report(StepReport report) {
    if (settings.mode() != FaultMode.STALE) {
      return report;
    }
    StepReport old = previousReport;
    previousReport = report;
    if (old == null) {
      return report;
    }
    return new StepReport(
        report.jobId(),
        report.step(),
        report.stage(),
        report.replica(),
        report.workerId(),
        report.loss(),
        report.examples(),
        report.tokens(),
        report.computeNanos(),
        report.idleNanos(),
        report.syncNanos(),
        report.gradNorm(),
        report.lr(),
        old.gradientDigest(),
        old.parameterDigest(),
        report.determinismClass(),
        report.traced() ? old.forwardDigest() : "",
        report.traced() ? old.backwardDigest() : "");
  }

  /** What the worker advertises: inflated GFLOP/s and memory under lie-capabilities. */
  public WorkerCapabilities capabilities(WorkerCapabilities honest) {
    if (settings.mode() != FaultMode.LIE_CAPABILITIES) {
      return honest;
    }
    double f = settings.capabilityInflation();
    double gflops = honest.cpuGflops() > 0 ? honest.cpuGflops() * f : 100 * f;
    double memory = Math.min((double) Long.MAX_VALUE / 2, honest.memoryBytes() * f);
    return new WorkerCapabilities(
        honest.workerId(),
        honest.nodeAddress(),
        honest.cores(),
        (long) memory,
        honest.gpu(),
        gflops,
        honest.backend(),
        honest.dataPlane(),
        honest.walletAddress(),
        honest.labels(),
        honest.joinedAtEpochMs(),
        honest.stageHost());
  }

  private double gaussian() {
    // Box-Muller on the seeded generator, so noise is reproducible.
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static double rms(float[] values) {
    if (values.length == 0) {
      return 0;
    }
    double sum = 0;
    for (float v : values) {
      sum += (double) v * v;
    }
    return Math.sqrt(sum / values.length);
  }
}
