package io.flotilla.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerificationLogWriterTest {

  /** Long enough that a test passes only if flush and close cut the wait short. */
  private static final Duration HOUR = Duration.ofHours(1);

  @TempDir Path dir;

  private final Verifier verifier = new Verifier(new Tolerance(1e-4, 1e-6), 2);
  private final Random random = new Random(5);

  private VerificationLog.Entry entry(String job, long step) {
    float[] t = VerifierTest.tensor(random, 4);
    List<Execution> executions = List.of(VerifierTest.cpu("a", t), VerifierTest.cpu("b", t));
    return VerificationLog.Entry.of(
        new TaskKey(job, step, 0, 0), executions, verifier.verify(executions), step);
  }

  private static List<Long> steps(Path file) throws IOException {
    return VerificationLog.read(file).stream().map(VerificationLog.Entry::step).toList();
  }

  @Test
  void aFlushWritesEveryJobsEntriesInOrderWithoutWaitingForTheLinger() throws Exception {
    Path a = dir.resolve("a/verification.jsonl");
    Path b = dir.resolve("b/verification.jsonl");
    try (VerificationLogWriter writer = new VerificationLogWriter(HOUR, "test-writer")) {
      for (long s = 0; s < 5; s++) {
        writer.append(a, entry("a", s));
        writer.append(b, entry("b", 100 + s));
      }
      writer.flush().get(30, TimeUnit.SECONDS);
      assertThat(steps(a)).containsExactly(0L, 1L, 2L, 3L, 4L);
      assertThat(steps(b)).containsExactly(100L, 101L, 102L, 103L, 104L);

      writer.append(a, entry("a", 5));
      writer.flush().get(30, TimeUnit.SECONDS);
      assertThat(steps(a)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
    }
  }

  @Test
  void closingAFileWritesWhatItWasGivenAndALaterEntryAppendsToIt() throws Exception {
    Path a = dir.resolve("a/verification.jsonl");
    try (VerificationLogWriter writer = new VerificationLogWriter(HOUR, "test-writer")) {
      writer.append(a, entry("a", 0));
      writer.close(a);
      writer.append(a, entry("a", 1));
      writer.flush().get(30, TimeUnit.SECONDS);
    }
    assertThat(steps(a)).containsExactly(0L, 1L);
  }

  @Test
  void closingTheWriterWritesWhatItHolds() throws Exception {
    Path a = dir.resolve("a/verification.jsonl");
    VerificationLogWriter writer = new VerificationLogWriter(HOUR, "test-writer");
    writer.append(a, entry("a", 7));
    writer.close();
    assertThat(steps(a)).containsExactly(7L);
    // Closed: further entries are dropped, and a flush does not leave its caller waiting.
    writer.append(a, entry("a", 8));
    writer.flush().get(30, TimeUnit.SECONDS);
    assertThat(steps(a)).containsExactly(7L);
  }

  @Test
  void aFileThatCannotBeWrittenDoesNotStopTheOthers() throws Exception {
    Path blocker = Files.writeString(dir.resolve("not-a-directory"), "x");
    Path bad = blocker.resolve("verification.jsonl");
    Path good = dir.resolve("good/verification.jsonl");
    try (VerificationLogWriter writer = new VerificationLogWriter(Duration.ZERO, "test-writer")) {
      writer.append(bad, entry("bad", 0));
      writer.append(good, entry("good", 0));
      writer.flush().get(30, TimeUnit.SECONDS);
    }
    assertThat(steps(good)).containsExactly(0L);
    assertThat(Files.isRegularFile(blocker)).isTrue();
  }

  @Test
  void aNegativeLingerIsRefused() {
    assertThatThrownBy(() -> new VerificationLogWriter(Duration.ofMillis(-1), "w"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("linger must be >= 0");
  }
}
