package io.flotilla.loadtest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a scenario measures, recorded from many threads: task dispatches (a {@code RunStep} order
 * arriving at a simulated worker) and their latency, per second of the run, and the gauges and
 * events the report charts. Latencies are kept as samples, so percentiles are exact.
 *
 * <p>The summary figures (dispatches per second, step-to-step latency percentiles) describe the
 * <em>measured window</em>: the whole seconds between {@link #measureFrom} and {@link
 * #measureUntil}, so that a warm-up (the JIT compiling the scheduler's code, the first placements)
 * and the drain at the end do not blur what the cluster sustains. The per-second series keep every
 * second of the run.
 */
public final class LoadMetrics {

  /** One second of the run. */
  public record Second(
      int second,
      long dispatches,
      long reports,
      double p50Millis,
      double p99Millis,
      long queuedJobs,
      long runningJobs,
      long receiptsSettled,
      long rejectedResults,
      long workers) {}

  /** A lost worker and how long the scheduler took to put its job to work again. */
  public record Recovery(String what, double detectMillis, double resumeMillis) {}

  private final long startNanos;
  private final LongAdder dispatches = new LongAdder();
  private final LongAdder reports = new LongAdder();
  private final LongAdder otherOrders = new LongAdder();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong settled = new AtomicLong();
  private final List<long[]> perSecondLatencies = new ArrayList<>();
  private final List<int[]> perSecondLatencyCounts = new ArrayList<>();
  private final List<long[]> perSecondCounters = new ArrayList<>();
  private final List<Recovery> recoveries = new ArrayList<>();
  private int measuredFrom;
  private int measuredUntil = Integer.MAX_VALUE;
  private long[] checkpointLatencies = new long[1024];
  private int checkpointLatencyCount;
  private long[] startLatencies = new long[1024];
  private int startLatencyCount;

  /** Counters per second: dispatches, reports, queued, running, settled, rejected, workers. */
  private static final int COUNTERS = 7;

  /** Starts the clock of the run now. */
  public LoadMetrics() {
    this(System.nanoTime());
  }

  /** A run whose clock started at {@code startNanos} ({@link System#nanoTime()}). */
  LoadMetrics(long startNanos) {
    this.startNanos = startNanos;
  }

  /**
   * The measured window starts with the first whole second after {@code nanos}: earlier seconds are
   * warm-up.
   */
  public synchronized void measureFrom(long nanos) {
    measuredFrom = secondOf(nanos + 999_999_999L);
  }

  /** The measured window ends with the last whole second before {@code nanos}. */
  public synchronized void measureUntil(long nanos) {
    measuredUntil = Math.max(measuredFrom, secondOf(nanos));
  }

  /** The measured window's first second, counted from the start of the run. */
  public synchronized int measuredFromSecond() {
    return measuredFrom;
  }

  /** The second after the measured window's last, counted from the start of the run. */
  public synchronized int measuredUntilSecond() {
    return Math.min(measuredUntil, perSecondCounters.size());
  }

  /** Seconds since the run started. */
  public double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private int secondOf(long nanos) {
    return (int) Math.max(0, (nanos - startNanos) / 1_000_000_000L);
  }

  private long[] counters(int second) {
    while (perSecondCounters.size() <= second) {
      perSecondCounters.add(new long[COUNTERS]);
      perSecondLatencies.add(new long[64]);
      perSecondLatencyCounts.add(new int[1]);
    }
    return perSecondCounters.get(second);
  }

  /**
   * A {@code RunStep} arrived at a worker at {@code nowNanos}; {@code preceding} is the end of the
   * round it followed (null when unknown).
   */
  public synchronized void dispatched(StepClock.Preceding preceding, long nowNanos) {
    dispatches.increment();
    int s = secondOf(nowNanos);
    counters(s)[0]++;
    if (preceding == null) {
      return;
    }
    long latency = Math.max(0, nowNanos - preceding.endNanos());
    switch (preceding.round()) {
      case STEP -> {
        long[] l = perSecondLatencies.get(s);
        int[] n = perSecondLatencyCounts.get(s);
        if (n[0] == l.length) {
          l = Arrays.copyOf(l, l.length * 2);
          perSecondLatencies.set(s, l);
        }
        l[n[0]++] = latency;
      }
      case CHECKPOINT -> {
        if (checkpointLatencyCount == checkpointLatencies.length) {
          checkpointLatencies = Arrays.copyOf(checkpointLatencies, checkpointLatencyCount * 2);
        }
        checkpointLatencies[checkpointLatencyCount++] = latency;
      }
      case PREPARE -> {
        if (startLatencyCount == startLatencies.length) {
          startLatencies = Arrays.copyOf(startLatencies, startLatencyCount * 2);
        }
        startLatencies[startLatencyCount++] = latency;
      }
    }
  }

  /** A worker sent a step report. */
  public synchronized void reported(long nowNanos) {
    reports.increment();
    counters(secondOf(nowNanos))[1]++;
  }

  /** Another order (prepare, checkpoint, receipts, probe, release) arrived at a worker. */
  public void otherOrder() {
    otherOrders.increment();
  }

  /** Samples the gauges of this second. */
  public synchronized void gauges(long queuedJobs, long runningJobs, long workers) {
    long[] c = counters(secondOf(System.nanoTime()));
    c[2] = queuedJobs;
    c[3] = runningJobs;
    c[6] = workers;
  }

  /** The ledger settled a batch of {@code payments} receipts. */
  public synchronized void settled(int payments) {
    settled.addAndGet(payments);
    counters(secondOf(System.nanoTime()))[4] += payments;
  }

  /** The scheduler rejected a result (a replica outvoted by its stage). */
  public synchronized void rejected() {
    rejected.incrementAndGet();
    counters(secondOf(System.nanoTime()))[5]++;
  }

  /** Records a lost worker's recovery. */
  public synchronized void recovered(Recovery r) {
    recoveries.add(r);
  }

  /** Task dispatches so far. */
  public long dispatches() {
    return dispatches.sum();
  }

  /** Step reports so far. */
  public long reports() {
    return reports.sum();
  }

  /** Orders other than steps so far. */
  public long otherOrders() {
    return otherOrders.sum();
  }

  /** Receipts settled so far. */
  public long receiptsSettled() {
    return settled.get();
  }

  /** Results rejected so far. */
  public long rejectedResults() {
    return rejected.get();
  }

  /** The recoveries recorded. */
  public synchronized List<Recovery> recoveries() {
    return List.copyOf(recoveries);
  }

  /**
   * Percentile {@code q} (0..1) of the step-to-step dispatch latency in the measured window, in
   * milliseconds.
   */
  public synchronized double stepLatencyMillis(double q) {
    int from = measuredFrom;
    int until = measuredUntilSecond();
    int count = 0;
    for (int s = from; s < until; s++) {
      count += perSecondLatencyCounts.get(s)[0];
    }
    long[] all = new long[count];
    int at = 0;
    for (int s = from; s < until; s++) {
      int n = perSecondLatencyCounts.get(s)[0];
      System.arraycopy(perSecondLatencies.get(s), 0, all, at, n);
      at += n;
    }
    return percentile(all, count, q);
  }

  /**
   * Task dispatches per second in the measured window: of its seconds that saw any (a burst, or a
   * join, dispatches nothing while jobs queue).
   */
  public synchronized double dispatchesPerSecond() {
    long total = 0;
    int active = 0;
    for (int s = measuredFrom; s < measuredUntilSecond(); s++) {
      long n = perSecondCounters.get(s)[0];
      if (n > 0) {
        total += n;
        active++;
      }
    }
    return active == 0 ? 0 : (double) total / active;
  }

  /** Percentile {@code q} of the latency of the first step after the stages were prepared. */
  public synchronized double startLatencyMillis(double q) {
    return percentile(startLatencies, startLatencyCount, q);
  }

  /** Percentile {@code q} of the latency of the first step after a checkpoint. */
  public synchronized double checkpointLatencyMillis(double q) {
    return percentile(checkpointLatencies, checkpointLatencyCount, q);
  }

  /** Percentile {@code q} of the step-to-step dispatch latency in the last whole second. */
  public synchronized double lastSecondLatencyMillis(double q) {
    int s = secondOf(System.nanoTime()) - 1;
    if (s < 0 || s >= perSecondLatencies.size()) {
      return Double.NaN;
    }
    return percentile(perSecondLatencies.get(s), perSecondLatencyCounts.get(s)[0], q);
  }

  /** Number of step-to-step latency samples in the measured window. */
  public synchronized int stepLatencySamples() {
    int count = 0;
    for (int s = measuredFrom; s < measuredUntilSecond(); s++) {
      count += perSecondLatencyCounts.get(s)[0];
    }
    return count;
  }

  /** The run second by second. */
  public synchronized List<Second> seconds() {
    List<Second> out = new ArrayList<>();
    for (int s = 0; s < perSecondCounters.size(); s++) {
      long[] c = perSecondCounters.get(s);
      long[] l = perSecondLatencies.get(s);
      int n = perSecondLatencyCounts.get(s)[0];
      out.add(
          new Second(
              s,
              c[0],
              c[1],
              percentile(l, n, 0.5),
              percentile(l, n, 0.99),
              c[2],
              c[3],
              c[4],
              c[5],
              c[6]));
    }
    return out;
  }

  private static double percentile(long[] values, int count, double q) {
    if (count == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(values, count);
    Arrays.sort(sorted);
    int i = (int) Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1));
    return sorted[i] / 1e6;
  }
}
