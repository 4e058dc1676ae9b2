package io.flotilla.loadtest;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every simulated worker of a run shares: the metrics, the clock of the scheduler's rounds, an
 * HTTP client for checkpoint shards, a pool that signs receipts, and the simulator's own record of
 * what the workers did — which results were corrupted and which receipts were signed — against
 * which a scenario checks what the scheduler and the ledger recorded.
 */
public final class Simulation implements AutoCloseable {

  private final LoadMetrics metrics;
  private final StepClock clock = new StepClock();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final ExecutorService signing;
  private final Duration prepareTime;
  private final Map<String, Set<String>> signedReceipts = new ConcurrentHashMap<>();
  private final AtomicLong corrupted = new AtomicLong();
  private final Map<String, Long> lastPrepareNanos = new ConcurrentHashMap<>();
  private final Map<String, Long> lastStepNanos = new ConcurrentHashMap<>();
  private final Map<String, Long> orderedSteps = new ConcurrentHashMap<>();

  /**
   * A simulation that records into {@code metrics}, whose workers take {@code prepareTime} to build
   * a stage and sign receipts on {@code signingThreads} threads.
   */
  public Simulation(LoadMetrics metrics, Duration prepareTime, int signingThreads) {
    this.metrics = metrics;
    this.prepareTime = prepareTime;
    this.signing =
        Executors.newFixedThreadPool(
            signingThreads,
            r -> {
              Thread t = new Thread(r, "flotilla-sim-signing");
              t.setDaemon(true);
              return t;
            });
  }

  /** Where the workers record what they measure. */
  public LoadMetrics metrics() {
    return metrics;
  }

  /** The end of each job's last round. */
  public StepClock clock() {
    return clock;
  }

  /** For checkpoint uploads and downloads. */
  public HttpClient http() {
    return http;
  }

  /** Where receipts are signed (ECDSA is too slow for an actor's thread at this rate). */
  public ExecutorService signing() {
    return signing;
  }

  /** How long a simulated worker takes to build or restore a stage. */
  public Duration prepareTime() {
    return prepareTime;
  }

  /** Records that {@code workerId} sent a corrupted result for step {@code step} of the job. */
  void corrupted(String jobId, long step, String workerId) {
    corrupted.incrementAndGet();
  }

  /** How many corrupted results the workers sent. */
  public long corruptedResults() {
    return corrupted.get();
  }

  /** Records a receipt signed by a worker. */
  void signed(String jobId, String receiptId) {
    signedReceipts.computeIfAbsent(jobId, k -> ConcurrentHashMap.newKeySet()).add(receiptId);
  }

  /** The distinct receipt ids the workers signed for {@code jobId}. */
  public Set<String> signedReceipts(String jobId) {
    return Set.copyOf(signedReceipts.getOrDefault(jobId, Set.of()));
  }

  /** When some worker last received a prepare order of {@code jobId} (nanoTime), or null. */
  public Long lastPrepareNanos(String jobId) {
    return lastPrepareNanos.get(jobId);
  }

  /** When some worker last received a step order of {@code jobId} (nanoTime), or null. */
  public Long lastStepNanos(String jobId) {
    return lastStepNanos.get(jobId);
  }

  void prepared(String jobId, long nowNanos) {
    lastPrepareNanos.put(jobId, nowNanos);
    Loss loss = losses.get(jobId);
    if (loss != null) {
      synchronized (loss) {
        if (loss.preparedNanos == 0) {
          loss.preparedNanos = nowNanos;
        }
      }
    }
  }

  void stepOrdered(String jobId, long step, long nowNanos) {
    lastStepNanos.put(jobId, nowNanos);
    orderedSteps.put(jobId, step);
    Loss loss = losses.get(jobId);
    if (loss != null) {
      synchronized (loss) {
        if (loss.preparedNanos != 0 && losses.remove(jobId, loss)) {
          metrics.recovered(
              new LoadMetrics.Recovery(
                  loss.what,
                  (loss.preparedNanos - loss.lostNanos) / 1e6,
                  (nowNanos - loss.lostNanos) / 1e6));
        }
      }
    }
  }

  private static final class Loss {
    final String what;
    final long lostNanos;
    long preparedNanos;

    Loss(String what, long lostNanos) {
      this.what = what;
      this.lostNanos = lostNanos;
    }
  }

  private final Map<String, Loss> losses = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> holding = new ConcurrentHashMap<>();

  /** Records whether {@code workerId} holds a slot of {@code jobId}. */
  void holds(String workerId, String jobId, boolean holds) {
    Set<String> jobs = holding.computeIfAbsent(workerId, k -> ConcurrentHashMap.newKeySet());
    if (holds) {
      jobs.add(jobId);
    } else {
      jobs.remove(jobId);
    }
  }

  /**
   * Slots that {@code workerIds} hold of jobs that are stepping with more than {@code stepsLeft} of
   * their {@code totalSteps} steps to go: losing such a slot makes the job run steps again.
   */
  public long steppingSlots(Collection<String> workerIds, long totalSteps, long stepsLeft) {
    long n = 0;
    for (String workerId : workerIds) {
      for (String jobId : holding.getOrDefault(workerId, Set.of())) {
        Long step = orderedSteps.get(jobId);
        if (step != null && step + stepsLeft < totalSteps) {
          n++;
        }
      }
    }
    return n;
  }

  /**
   * The worker {@code workerId} is lost now ({@code what} says how): each job it held is timed
   * until the scheduler prepares it again (detected and placed again) and orders its next step
   * (resumed).
   */
  public void lost(String workerId, String what) {
    long now = System.nanoTime();
    for (String jobId : holding.getOrDefault(workerId, Set.of())) {
      losses.putIfAbsent(jobId, new Loss(what, now));
    }
    holding.remove(workerId);
  }

  /** Stops timing the recovery of a job that ended. */
  public void ended(String jobId) {
    losses.remove(jobId);
    orderedSteps.remove(jobId);
    clock.forget(jobId);
  }

  @Override
  public void close() {
    signing.shutdownNow();
    http.close();
  }
}
