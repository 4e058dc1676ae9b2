package io.flotilla.scheduler.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PlanCommandTest {

  @TempDir Path dir;

  record Run(int exitCode, String out, String err) {}

  Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new PlanCommand());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  Path workers(int count) throws Exception {
    StringBuilder json = new StringBuilder("{\"workers\": [");
    for (int i = 0; i < count; i++) {
      json.append(i == 0 ? "" : ", ")
          .append("{\"id\": \"w")
          .append(i)
          .append("\", \"gflops\": ")
          .append(20 + 10 * i)
          .append(", \"memory_mib\": 4096, \"cores\": 2}");
    }
    json.append("], \"links\": {\"default\": {\"latency_ms\": 0.2, \"bandwidth_mbit_s\": 10000}}}");
    Path file = dir.resolve("workers.json");
    Files.writeString(file, json);
    return file;
  }

  @Test
  void plansTheClusterExampleOnFourWorkers() throws Exception {
    Run run = run("../examples/addition-gpt.yaml", "--workers", workers(4).toString());
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .startsWith(
            "Plan for job addition-gpt: 2 stages x 2 replicas x redundancy 1 = 4 workers, 4"
                + " micro-batches per step\n")
        .contains("stage 0: layers 0-")
        .contains("stage 1: layers ")
        .contains("bubble share: 20.0% ((P-1)/(M+P-1) = 1/5)\n")
        .contains("workers: w0, w1, w2, w3\n");
  }

  @Test
  void tooFewWorkersExitsOneAndSaysWhatIsMissing() throws Exception {
    Run run = run("../examples/addition-gpt.yaml", "--workers", workers(3).toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out())
        .isEqualTo(
            "Job addition-gpt cannot start yet; it waits in the queue.\n"
                + "needs 4 workers (2 stages x 2 replicas x redundancy 1); 3 usable registered:"
                + " waiting for 1 more\n");
  }

  @Test
  void invalidSpecExitsTwoWithEveryError() throws Exception {
    Path spec = dir.resolve("bad.yaml");
    Files.writeString(
        spec,
        "name: bad\nmodel: {type: gpt, layers: 2, width: 30, heads: 4, context: 16}\n"
            + "dataset: {type: addition}\ntraining: {steps: 0, global_batch: 8}\n");
    Run run = run(spec.toString(), "--workers", workers(1).toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("invalid job spec (2 errors):")
        .contains("model.heads: must divide model.width (30)")
        .contains("training.steps: must be an integer in 1..100000000; got 0");
  }

  @Test
  void missingWorkersOptionIsBadUsage() {
    Run run = run("../examples/addition-gpt.yaml");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Missing required option: '--workers=FILE'");
  }

  @Test
  void badWorkersFileNamesEveryProblem() throws Exception {
    Path file = dir.resolve("w.json");
    Files.writeString(
        file,
        "{\"workers\": [{\"id\": \"a\", \"gflops\": \"fast\", \"memory_mib\": 10, \"ram\": 1},"
            + " {\"id\": \"a\", \"gflops\": 1, \"memory_mib\": 10}]}");
    Run run = run("../examples/addition-gpt.yaml", "--workers", file.toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("workers[0].ram: unknown field; allowed: backend, cores, gflops, id, memory_mib")
        .contains("workers[0].gflops: expected a number >= 0, got fast")
        .contains("workers[1].id: \"a\" appears twice");
  }

  @Test
  void linksBetweenPairsAreRead() {
    WorkersFile file =
        WorkersFile.parse(
            "{\"workers\": [], \"links\": {\"pairs\": [{\"a\": \"x\", \"b\": \"y\","
                + " \"latency_ms\": 5, \"bandwidth_mbit_s\": 80}]}}");
    assertThat(file.links().between("y", "x").latencySeconds()).isEqualTo(0.005);
    assertThat(file.links().between("x", "y").bytesPerSecond()).isEqualTo(10e6);
    assertThat(file.links().between("x", "z")).isEqualTo(file.links().defaultLink());
    assertThatThrownBy(() -> WorkersFile.parse("[1, 2]"))
        .hasMessage("workers file: expected an object with \"workers\"");
  }
}
