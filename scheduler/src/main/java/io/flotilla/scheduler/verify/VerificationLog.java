package io.flotilla.scheduler.verify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An append-only record of every verified task, one JSON object per line (JSON Lines), so that an
 * operator or a test can prove which results entered the model and that no rejected result did.
 *
 * <p>Each line holds the task (job, step, stage, replica), every execution (worker, determinism
 * class, digest, trusted), the outcome, the accepted digest (only for {@code ACCEPTED}), the
 * agreeing and dissenting workers, and the reason of a tie-breaker or a rejection. Lines are
 * flushed as they are written; a crash can at worst cut the last line short, which {@link #read}
 * skips.
 */
public final class VerificationLog implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One execution as logged.
   *
   * @param workerId the worker
   * @param determinismClass its determinism class
   * @param digest the digest it reported
   * @param trusted whether it was a trusted tie-breaker
   */
  public record LoggedExecution(
      String workerId, String determinismClass, String digest, boolean trusted) {}

  /**
   * One line of the log.
   *
   * @param jobId the job
   * @param step the step
   * @param stage the pipeline stage
   * @param replica the data-parallel replica
   * @param executions every execution of the task so far
   * @param outcome {@code ACCEPTED}, {@code NEEDS_TIEBREAK} or {@code REJECTED}
   * @param acceptedDigest the digest of the result that may enter the model; empty unless accepted
   * @param agreeing workers whose result was accepted
   * @param dissenting workers whose result was found invalid
   * @param reason why a tie-breaker was needed or the task rejected; empty when accepted
   * @param atEpochMs when the verdict was made
   */
  public record Entry(
      String jobId,
      long step,
      int stage,
      int replica,
      List<LoggedExecution> executions,
      Verdict.Outcome outcome,
      String acceptedDigest,
      List<String> agreeing,
      List<String> dissenting,
      String reason,
      long atEpochMs) {

    public Entry {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(outcome, "outcome");
      executions = List.copyOf(executions);
      agreeing = List.copyOf(agreeing);
      dissenting = List.copyOf(dissenting);
      acceptedDigest = acceptedDigest == null ? "" : acceptedDigest;
      reason = reason == null ? "" : reason;
    }

    /** The line for {@code verdict} on the executions of {@code task}. */
    public static Entry of(
        TaskKey task, List<Execution> executions, Verdict verdict, long atEpochMs) {
      List<LoggedExecution> logged =
          executions.stream()
              .map(
                  e ->
                      new LoggedExecution(
                          e.workerId(), e.determinismClass(), e.digest(), e.trusted()))
              .toList();
      return switch (verdict) {
        case Verdict.Accepted a ->
            new Entry(
                task.jobId(),
                task.step(),
                task.stage(),
                task.replica(),
                logged,
                Verdict.Outcome.ACCEPTED,
                a.result().digest(),
                a.agreeing(),
                a.dissenting(),
                "",
                atEpochMs);
        case Verdict.NeedsTiebreak t ->
            new Entry(
                task.jobId(),
                task.step(),
                task.stage(),
                task.replica(),
                logged,
                Verdict.Outcome.NEEDS_TIEBREAK,
                "",
                List.of(),
                List.of(),
                t.reason(),
                atEpochMs);
        case Verdict.Rejected r ->
            new Entry(
                task.jobId(),
                task.step(),
                task.stage(),
                task.replica(),
                logged,
                Verdict.Outcome.REJECTED,
                "",
                List.of(),
                List.of(),
                r.reason(),
                atEpochMs);
      };
    }

    /** The task this line is about. */
    public TaskKey task() {
      return new TaskKey(jobId, step, stage, replica);
    }

    /** The digest {@code workerId} reported in this task, or null when it did not run it. */
    public String digestOf(String workerId) {
      return executions.stream()
          .filter(e -> e.workerId().equals(workerId))
          .map(LoggedExecution::digest)
          .findFirst()
          .orElse(null);
    }
  }

  private final Path file;
  private final BufferedWriter out;

  private VerificationLog(Path file, BufferedWriter out) {
    this.file = file;
    this.out = out;
  }

  /**
   * Opens {@code file} for appending, creating it and its directories when missing.
   *
   * @throws IOException naming the file when it cannot be opened
   */
  public static VerificationLog open(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    return new VerificationLog(
        file,
        Files.newBufferedWriter(
            file,
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND));
  }

  /** The file this log appends to. */
  public Path file() {
    return file;
  }

  /**
   * Appends one line and flushes it.
   *
   * @throws UncheckedIOException naming the file when it cannot be written
   */
  public synchronized void append(Entry entry) {
    append(List.of(entry));
  }

  /**
   * Appends one line per entry, in order, and flushes once.
   *
   * @throws UncheckedIOException naming the file when it cannot be written
   */
  public synchronized void append(List<Entry> entries) {
    try {
      for (Entry entry : entries) {
        out.write(JSON.writeValueAsString(entry));
        out.write('\n');
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to the verification log " + file, e);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }

  /**
   * Reads every complete line of a log. A last line cut short by a crash is skipped; a malformed
   * line anywhere else is an error naming its number.
   *
   * @throws IOException when the file cannot be read or a line is malformed
   */
  public static List<Entry> read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    List<Entry> entries = new ArrayList<>(lines.size());
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      try {
        entries.add(JSON.readValue(line, Entry.class));
      } catch (JsonProcessingException e) {
        if (i == lines.size() - 1) {
          break;
        }
        throw new IOException(
            file + " line " + (i + 1) + " is not a verification log entry: " + e.getMessage(), e);
      }
    }
    return entries;
  }
}
