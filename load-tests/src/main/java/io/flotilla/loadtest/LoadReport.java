package io.flotilla.loadtest;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes a scenario's report into a directory: {@code report.md}, {@code report.html} and the PNG
 * charts both show (task throughput, dispatch latency percentiles, queue depth, settlement rate
 * over time).
 */
public final class LoadReport {

  private LoadReport() {}

  /** Writes the report of {@code result} into {@code directory} (created); returns report.md. */
  public static Path write(ScenarioResult result, Path directory) throws IOException {
    Files.createDirectories(directory);
    List<LoadMetrics.Second> seconds = result.metrics().seconds();
    List<String> charts = new ArrayList<>();
    charts.add(
        chart(
            directory,
            "throughput.png",
            "Task throughput",
            "per second",
            seconds,
            Map.of(
                "dispatches (RunStep orders)", s -> s.dispatches(),
                "step reports", s -> s.reports())));
    charts.add(
        chart(
            directory,
            "latency.png",
            "Dispatch latency (step to step)",
            "milliseconds",
            seconds,
            Map.of("p50", LoadMetrics.Second::p50Millis, "p99", LoadMetrics.Second::p99Millis)));
    charts.add(
        chart(
            directory,
            "queue.png",
            "Jobs",
            "jobs",
            seconds,
            Map.of(
                "queued or being placed", s -> s.queuedJobs(), "running", s -> s.runningJobs())));
    charts.add(
        chart(
            directory,
            "workers.png",
            "Simulated workers",
            "workers",
            seconds,
            Map.of("workers", s -> s.workers())));
    if (result.parameters().paid()) {
      charts.add(
          chart(
              directory,
              "settlement.png",
              "Settlement rate",
              "receipts settled per second",
              seconds,
              Map.of("receipts settled", s -> s.receiptsSettled())));
    }
    String md = markdown(result, charts);
    Path report = directory.resolve("report.md");
    Files.writeString(report, md);
    Files.writeString(directory.resolve("report.html"), html(result, charts));
    return report;
  }

  private static String chart(
      Path directory,
      String file,
      String title,
      String yAxis,
      List<LoadMetrics.Second> seconds,
      Map<String, ToDoubleFunction<LoadMetrics.Second>> series)
      throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    series.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              XYSeries xy = new XYSeries(e.getKey());
              for (LoadMetrics.Second s : seconds) {
                double v = e.getValue().applyAsDouble(s);
                if (!Double.isNaN(v)) {
                  xy.add(s.second(), v);
                }
              }
              data.addSeries(xy);
            });
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title,
            "seconds into the run",
            yAxis,
            data,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    chart.setBackgroundPaint(Color.WHITE);
    chart.getXYPlot().setBackgroundPaint(Color.WHITE);
    chart.getXYPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
    chart.getXYPlot().setDomainGridlinePaint(Color.LIGHT_GRAY);
    ChartUtils.saveChartAsPNG(directory.resolve(file).toFile(), chart, 800, 360);
    return file;
  }

  /** The summary rows both formats show: (what, value). */
  static List<String[]> summary(ScenarioResult r) {
    LoadMetrics m = r.metrics();
    ScenarioParameters p = r.parameters();
    List<String[]> rows = new ArrayList<>();
    rows.add(row("workers (hosts)", "%,d (%d)", p.workers(), p.hosts()));
    rows.add(
        row(
            "job shape",
            "%d stages x %d replicas, %d steps, checkpoint every %d%s",
            p.stages(),
            p.replicas(),
            p.stepsPerJob(),
            p.checkpointEvery(),
            p.paid() ? ", paid" : ""));
    rows.add(row("simulated step time", "%s", p.compute()));
    rows.add(row("jobs by phase at the end", "%s", r.jobsByPhase()));
    rows.add(row("time for the workers to join the registry", "%.1f s", r.joinSeconds()));
    rows.add(row("task dispatches (whole run)", "%,d", m.dispatches()));
    rows.add(
        row(
            "measured window",
            "seconds %d to %d of the run (after a %d s warm-up%s)",
            m.measuredFromSecond(),
            m.measuredUntilSecond(),
            p.warmup().toSeconds(),
            r.scenario() == Scenario.BURST || r.scenario() == Scenario.JOIN
                ? ", drain included"
                : "; the drain excluded"));
    rows.add(
        row(
            "task dispatches per second (mean of the window's active seconds)",
            "%,.0f",
            r.dispatchesPerSecond()));
    rows.add(
        row(
            "task dispatches per second (best second of the window)",
            "%,d",
            r.peakDispatchesPerSecond()));
    rows.add(
        row(
            "dispatch latency step to step p50 / p90 / p99 / p99.9 (window)",
            "%.2f / %.2f / %.2f / %.2f ms (%,d samples)",
            m.stepLatencyMillis(0.5),
            m.stepLatencyMillis(0.9),
            m.stepLatencyMillis(0.99),
            m.stepLatencyMillis(0.999),
            m.stepLatencySamples()));
    rows.add(
        row(
            "first step after prepare p50 / p99",
            "%.1f / %.1f ms",
            m.startLatencyMillis(0.5),
            m.startLatencyMillis(0.99)));
    rows.add(
        row(
            "first step after a checkpoint p50 / p99",
            "%.1f / %.1f ms",
            m.checkpointLatencyMillis(0.5),
            m.checkpointLatencyMillis(0.99)));
    rows.add(row("workers that ran a journaled step", "%,d", r.busyWorkers()));
    rows.add(
        row(
            "verification: replicas per slot, corrupted results sent, rejected by the vote",
            "%d, %,d, %,d",
            p.replicas(),
            r.corruptedResults(),
            m.rejectedResults()));
    rows.add(row("interruptions by cause (and retried submissions)", "%s", r.interruptions()));
    // By cause: a volunteer who leaves is noticed at once, a crashed host only by the failure
    // detector; one median over both would hide either.
    Map<String, List<LoadMetrics.Recovery>> byCause = new java.util.TreeMap<>();
    m.recoveries().forEach(x -> byCause.computeIfAbsent(x.what(), k -> new ArrayList<>()).add(x));
    byCause.forEach(
        (cause, rec) -> {
          double[] detect =
              rec.stream().mapToDouble(LoadMetrics.Recovery::detectMillis).sorted().toArray();
          double[] resume =
              rec.stream().mapToDouble(LoadMetrics.Recovery::resumeMillis).sorted().toArray();
          rows.add(
              row(
                  "lost worker (" + cause + "): placed again / resumed, median (max), ms",
                  "%.0f (%.0f) / %.0f (%.0f) over %d jobs",
                  detect[detect.length / 2],
                  detect[detect.length - 1],
                  resume[resume.length / 2],
                  resume[resume.length - 1],
                  rec.size()));
        });
    if (p.paid()) {
      rows.add(row("receipts settled", "%,d", m.receiptsSettled()));
    }
    rows.add(row("run time, drain included", "%.1f s", r.runSeconds()));
    return rows;
  }

  private static String[] row(String what, String format, Object... args) {
    return new String[] {what, String.format(Locale.ROOT, format, args)};
  }

  private static String markdown(ScenarioResult r, List<String> charts) {
    StringBuilder b = new StringBuilder();
    b.append("# Load test: ").append(r.scenario().cliName()).append("\n\n");
    b.append(r.scenario().description()).append(".\n\n");
    b.append("Result: **")
        .append(r.passed() ? "all invariants held" : "INVARIANTS FAILED")
        .append("**\n\n");
    b.append("| | |\n| --- | --- |\n");
    for (String[] row : summary(r)) {
      b.append("| ").append(row[0]).append(" | ").append(row[1]).append(" |\n");
    }
    b.append("\n## Invariants\n\n| invariant | held | detail |\n| --- | --- | --- |\n");
    for (ScenarioResult.Check c : r.checks()) {
      b.append("| ")
          .append(c.name())
          .append(" | ")
          .append(c.passed() ? "yes" : "**no**")
          .append(" | ")
          .append(c.detail().replace("|", "\\|"))
          .append(" |\n");
    }
    b.append("\n## Charts\n\n");
    for (String c : charts) {
      b.append("![").append(c).append("](").append(c).append(")\n\n");
    }
    b.append("## Parameters\n\n```\n").append(r.parameters()).append("\n```\n");
    return b.toString();
  }

  private static String html(ScenarioResult r, List<String> charts) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Load test: ")
        .append(esc(r.scenario().cliName()))
        .append("</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}")
        .append("td,th{border:1px solid #ccc;padding:.3em .6em}table{border-collapse:collapse}")
        .append(".no{color:#b00;font-weight:bold}</style></head><body>\n");
    b.append("<h1>Load test: ").append(esc(r.scenario().cliName())).append("</h1>\n");
    b.append("<p>").append(esc(r.scenario().description())).append(".</p>\n");
    b.append("<p>Result: <b")
        .append(r.passed() ? ">all invariants held" : " class=\"no\">INVARIANTS FAILED")
        .append("</b></p>\n<table>\n");
    for (String[] row : summary(r)) {
      b.append("<tr><th>")
          .append(esc(row[0]))
          .append("</th><td>")
          .append(esc(row[1]))
          .append("</td></tr>\n");
    }
    b.append(
        "</table>\n<h2>Invariants</h2>\n<table><tr><th>invariant</th><th>held</th><th>detail</th></tr>\n");
    for (ScenarioResult.Check c : r.checks()) {
      b.append("<tr><td>")
          .append(esc(c.name()))
          .append("</td><td")
          .append(c.passed() ? ">yes" : " class=\"no\">no")
          .append("</td><td>")
          .append(esc(c.detail()))
          .append("</td></tr>\n");
    }
    b.append("</table>\n<h2>Charts</h2>\n");
    for (String c : charts) {
      b.append("<p><img src=\"").append(c).append("\" alt=\"").append(c).append("\"></p>\n");
    }
    b.append("<h2>Parameters</h2>\n<pre>")
        .append(esc(r.parameters().toString()))
        .append("</pre>\n");
    b.append("</body></html>\n");
    return b.toString();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
