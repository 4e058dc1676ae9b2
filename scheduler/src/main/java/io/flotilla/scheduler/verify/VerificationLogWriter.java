package io.flotilla.scheduler.verify;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends the verification logs of all the jobs of a node on one thread, a group at a time: the
 * first verdict after a quiet spell starts a group, the writer waits {@code linger} for the
 * verdicts that follow (of every job), then appends each job's to its file and flushes every file
 * it wrote once. At thousands of steps per second a write and a flush per step of every job cost a
 * thread wake-up and a system call each; grouped, they cost one per group and file.
 *
 * <p>What a group holds is in memory for at most {@code linger} (the embedded journal's write delay
 * is of the same order). {@link #flush()} and {@link #close(Path)} do not wait for the linger: they
 * end the group at once. A file that cannot be written is logged and its entries dropped; the
 * writer goes on with the other files.
 */
public final class VerificationLogWriter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(VerificationLogWriter.class);

  private sealed interface Op {}

  private record Append(Path file, VerificationLog.Entry entry) implements Op {}

  private record Close(Path file) implements Op {}

  private record Flush(CompletableFuture<Void> done) implements Op {}

  private enum Stop implements Op {
    INSTANCE
  }

  private final long lingerNanos;
  private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
  private final Map<Path, VerificationLog> open = new HashMap<>(); // used only by the thread
  private final Thread thread;
  private volatile boolean stopped;
  private volatile boolean urgent;

  /** Starts the writer's thread, named {@code name}. */
  public VerificationLogWriter(Duration linger, String name) {
    if (linger.isNegative()) {
      throw new IllegalArgumentException("the linger must be >= 0, was " + linger);
    }
    this.lingerNanos = linger.toNanos();
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues {@code entry} for the log in {@code file} (opened for appending when first written). */
  public void append(Path file, VerificationLog.Entry entry) {
    offer(new Append(file, entry));
  }

  /** Writes what was queued for {@code file}, then closes it. */
  public void close(Path file) {
    offer(new Close(file));
    hurry();
  }

  private void hurry() {
    urgent = true;
    LockSupport.unpark(thread);
  }

  /** Completes once everything queued before it is written and flushed. */
  public CompletableFuture<Void> flush() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (stopped) {
      done.complete(null);
      return done;
    }
    queue.add(new Flush(done));
    hurry();
    return done;
  }

  private void offer(Op op) {
    if (stopped) {
      LOG.warn("The verification log writer is closed; dropped {}", op);
      return;
    }
    queue.add(op);
  }

  /** Writes what is queued, closes every file and stops the thread. */
  @Override
  public void close() {
    if (stopped) {
      return;
    }
    stopped = true;
    queue.add(Stop.INSTANCE);
    hurry();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    List<Op> group = new ArrayList<>();
    boolean running = true;
    while (running) {
      try {
        Op first = queue.take();
        group.add(first);
        if (first instanceof Append && lingerNanos > 0) {
          linger();
        }
        urgent = false;
        queue.drainTo(group);
        running = write(group);
      } catch (InterruptedException e) {
        running = false;
        queue.drainTo(group);
        write(group);
      } catch (RuntimeException e) {
        LOG.error("The verification log writer failed; it goes on", e);
        // Whoever waits for this group hears of it instead of waiting for ever.
        group.forEach(
            op -> {
              if (op instanceof Flush f) {
                f.done().completeExceptionally(e);
              }
            });
      } finally {
        group.clear();
      }
    }
    closeAll();
  }

  /**
   * Waits up to the linger without taking what comes in meanwhile (taking it would wake this thread
   * at every verdict, which is what grouping saves); a flush, close or stop ends it early.
   */
  private void linger() {
    long until = System.nanoTime() + lingerNanos;
    for (long left = lingerNanos; left > 0 && !urgent; left = until - System.nanoTime()) {
      LockSupport.parkNanos(this, left);
    }
  }

  /** Writes a group in order; false when it held the stop order. */
  private boolean write(List<Op> group) {
    Map<Path, List<VerificationLog.Entry>> pending = new LinkedHashMap<>();
    List<CompletableFuture<Void>> flushed = new ArrayList<>();
    boolean running = true;
    for (Op op : group) {
      switch (op) {
        case Append a -> {
          pending.computeIfAbsent(a.file(), f -> new ArrayList<>()).add(a.entry());
        }
        case Close c -> {
          writePending(c.file(), pending.remove(c.file()));
          VerificationLog log = open.remove(c.file());
          if (log != null) {
            try {
              log.close();
            } catch (IOException e) {
              LOG.warn("Cannot close the verification log {}: {}", c.file(), e.toString());
            }
          }
        }
        case Flush f -> flushed.add(f.done());
        case Stop s -> running = false;
      }
    }
    pending.forEach(this::writePending);
    flushed.forEach(f -> f.complete(null));
    return running;
  }

  private void writePending(Path file, List<VerificationLog.Entry> entries) {
    if (entries == null || entries.isEmpty()) {
      return;
    }
    try {
      VerificationLog log = open.get(file);
      if (log == null) {
        log = VerificationLog.open(file);
        open.put(file, log);
      }
      log.append(entries);
    } catch (IOException | RuntimeException e) {
      LOG.warn(
          "Cannot write {} entries to the verification log {}: {}",
          entries.size(),
          file,
          e.toString());
    }
  }

  private void closeAll() {
    for (var e : open.entrySet()) {
      try {
        e.getValue().close();
      } catch (IOException ex) {
        LOG.warn("Cannot close the verification log {}: {}", e.getKey(), ex.toString());
      }
    }
    open.clear();
    // Whoever waits for a flush queued after the stop is not left waiting.
    List<Op> rest = new ArrayList<>();
    queue.drainTo(rest);
    rest.forEach(
        op -> {
          if (op instanceof Flush f) {
            f.done().complete(null);
          }
        });
  }
}
