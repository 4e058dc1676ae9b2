package io.flotilla.loadtest;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The live progress line on stderr: one line rewritten in place on a terminal, a new line every
 * five seconds otherwise (logs, CI).
 */
final class ProgressLine {

  private final PrintStream out;
  private final String scenario;
  private final LoadMetrics metrics;
  private final boolean terminal = System.console() != null;
  private long lastDispatches;
  private double lastSeconds;
  private int ticks;

  ProgressLine(PrintStream out, String scenario, LoadMetrics metrics) {
    this.out = out;
    this.scenario = scenario;
    this.metrics = metrics;
  }

  synchronized void print(long workers, long queued, long running, long done) {
    if (out == null) {
      return;
    }
    double now = metrics.elapsedSeconds();
    long d = metrics.dispatches();
    double rate = (d - lastDispatches) / Math.max(1e-3, now - lastSeconds);
    lastDispatches = d;
    lastSeconds = now;
    String line =
        String.format(
            Locale.ROOT,
            "[%s] %5.0fs  workers %,d  jobs %,d queued / %,d running / %,d ended  dispatches %,.0f/s"
                + "  p99 %.1f ms  rejected %,d  settled %,d",
            scenario,
            now,
            workers,
            queued,
            running,
            done,
            rate,
            metrics.lastSecondLatencyMillis(0.99),
            metrics.rejectedResults(),
            metrics.receiptsSettled());
    if (terminal) {
      out.print("\r" + line + "   ");
      out.flush();
    } else if (ticks++ % 5 == 0) {
      out.println(line);
    }
  }

  synchronized void finish() {
    if (out != null && terminal) {
      out.println();
    }
  }
}
