package io.flotilla.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerificationLogTest {

  @TempDir Path dir;

  /**
   * A small simulated job: an honest and a cheating worker each run a shadow of every task; the
   * "model" applies only accepted results. Reading the log back proves no rejected or dissenting
   * result was applied.
   */
  @Test
  void theLogProvesThatNoRejectedResultWasApplied() throws IOException {
    Verifier verifier = new Verifier(new Tolerance(1e-4, 1e-6), 3);
    Random random = new Random(11);
    Path file = dir.resolve("logs/job-1.jsonl");
    Map<TaskKey, String> applied = new HashMap<>();
    try (VerificationLog log = VerificationLog.open(file)) {
      for (long step = 0; step < 30; step++) {
        TaskKey task = new TaskKey("job-1", step, (int) (step % 2), 0);
        float[] truth = VerifierTest.tensor(random, 16);
        List<Execution> executions = new ArrayList<>();
        executions.add(VerifierTest.cpu("honest", truth));
        boolean cheats = step % 3 == 0;
        executions.add(
            VerifierTest.cpu("cheat", cheats ? VerifierTest.corruptCopy(truth, random) : truth));
        Verdict verdict = verifier.verify(executions);
        log.append(VerificationLog.Entry.of(task, executions, verdict, 1000 + step));
        if (verdict instanceof Verdict.NeedsTiebreak) {
          executions.add(VerifierTest.cpu("trusted", truth).asTrusted());
          verdict = verifier.verify(executions);
          log.append(VerificationLog.Entry.of(task, executions, verdict, 2000 + step));
        }
        if (verdict instanceof Verdict.Accepted a) {
          applied.put(task, a.result().digest());
        }
      }
    }
    List<VerificationLog.Entry> entries = VerificationLog.read(file);
    assertThat(entries).hasSize(30 + 10);
    assertThat(entries.get(0).task()).isEqualTo(new TaskKey("job-1", 0, 0, 0));
    assertThat(entries.get(0).outcome()).isEqualTo(Verdict.Outcome.NEEDS_TIEBREAK);
    assertThat(entries.get(1).outcome()).isEqualTo(Verdict.Outcome.ACCEPTED);
    assertThat(entries.get(1).dissenting()).containsExactly("cheat");
    assertThat(entries.get(1).executions())
        .extracting(e -> e.trusted())
        .containsExactly(false, false, true);

    // Every applied result is the accepted one of its task, and none is a dissenter's digest.
    for (VerificationLog.Entry e : entries) {
      if (e.outcome() == Verdict.Outcome.ACCEPTED) {
        assertThat(applied.get(e.task())).isEqualTo(e.acceptedDigest());
        for (String dissenter : e.dissenting()) {
          assertThat(e.digestOf(dissenter)).isNotEqualTo(applied.get(e.task()));
        }
      }
    }
    assertThat(applied).hasSize(30);
  }

  @Test
  void appendsAcrossReopensAndSkipsALastLineCutShortByACrash() throws IOException {
    Path file = dir.resolve("job.jsonl");
    TaskKey task = new TaskKey("j", 1, 0, 0);
    List<Execution> executions =
        List.of(
            Execution.ofDigest("a", "cpu", "ab".repeat(32)),
            Execution.ofDigest("b", "cpu", "cd".repeat(32)));
    Verdict rejected = new Verdict.Rejected("no quorum", List.of("a", "b"));
    try (VerificationLog log = VerificationLog.open(file)) {
      log.append(VerificationLog.Entry.of(task, executions, rejected, 5));
    }
    try (VerificationLog log = VerificationLog.open(file)) {
      log.append(VerificationLog.Entry.of(task, executions, rejected, 6));
    }
    Files.writeString(
        file, "{\"jobId\":\"j\",\"st", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    List<VerificationLog.Entry> entries = VerificationLog.read(file);
    assertThat(entries).hasSize(2);
    assertThat(entries.get(1).outcome()).isEqualTo(Verdict.Outcome.REJECTED);
    assertThat(entries.get(1).acceptedDigest()).isEmpty();
    assertThat(entries.get(1).reason()).isEqualTo("no quorum");
    assertThat(entries.get(1).atEpochMs()).isEqualTo(6);

    Files.writeString(file, "\ngarbage\n{}\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertThatThrownBy(() -> VerificationLog.read(file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("line 3 is not a verification log entry");
  }
}
