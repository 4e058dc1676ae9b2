package io.flotilla.worker.pipeline;

import io.flotilla.engine.backend.CpuBackend;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.ModelLayers;
import io.flotilla.protocol.task.StageAssignment;
import io.flotilla.protocol.task.StageSlot;
import io.flotilla.protocol.task.StepReport;
import io.flotilla.worker.fault.FaultInjector;
import io.flotilla.worker.transport.DataPlaneDriver;
import io.flotilla.worker.transport.DataPlaneSettings;
import io.flotilla.worker.transport.TensorTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntFunction;
import org.agrona.CloseHelper;

/**
 * All P x D stage executors of a job in one process, each with its own {@link TensorTransport} on
 * one shared media driver, talking over loopback UDP exactly as separate workers would. Used by
 * tests, benchmarks and single-machine runs.
 */
public final class LocalPipeline implements AutoCloseable {
  /** Aeron stream id of slot (0, 0); slot i uses this plus i. */
  public static final int FIRST_STREAM_ID = 7100;

  private final DataPlaneDriver driver;
  private final List<TensorTransport> transports = new ArrayList<>();
  private final List<CpuBackend> backends = new ArrayList<>();
  private final List<StageExecutor> executors = new ArrayList<>();

  private LocalPipeline(
      String jobId,
      JobSpec spec,
      PipelineSettings settings,
      DataPlaneSettings dataPlane,
      int[] boundaries,
      IntFunction<FaultInjector> faults) {
    this.driver = DataPlaneDriver.launch(dataPlane);
    try {
      int stages = spec.parallelism().pipelineStages();
      int replicas = spec.parallelism().replicas();
      List<StageSlot> slots = new ArrayList<>();
      for (int k = 0; k < stages; k++) {
        for (int d = 0; d < replicas; d++) {
          TensorTransport t =
              TensorTransport.start(
                  driver, slotWorkerId(jobId, k, d), FIRST_STREAM_ID + transports.size());
          transports.add(t);
          slots.add(new StageSlot(k, d, t.workerId(), t.endpoint(), t.udpPeer().streamId()));
        }
      }
      if (boundaries.length != stages + 1) {
        throw new IllegalArgumentException(
            "need " + (stages + 1) + " stage boundaries, got " + boundaries.length);
      }
      for (int k = 0; k < stages; k++) {
        for (int d = 0; d < replicas; d++) {
          StageAssignment a =
              new StageAssignment(
                  jobId, spec, k, stages, boundaries[k], boundaries[k + 1], d, replicas, slots);
          CpuBackend backend = new CpuBackend(settings.computeThreads());
          backends.add(backend);
          executors.add(
              new StageExecutor(
                  a,
                  transports.get(k * replicas + d),
                  PeerDirectory.udp(),
                  backend,
                  settings,
                  System::nanoTime,
                  faults.apply(k * replicas + d)));
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Starts every slot of {@code spec} on loopback, with the layers split evenly. */
  public static LocalPipeline start(
      String jobId, JobSpec spec, PipelineSettings settings, DataPlaneSettings dataPlane) {
    return start(jobId, spec, settings, dataPlane, slot -> FaultInjector.none());
  }

  /**
   * Starts every slot of {@code spec} on loopback, with the layers split evenly; slot {@code i}
   * (stage-major: {@code k * D + d}) misbehaves as {@code faults.apply(i)} says.
   */
  public static LocalPipeline start(
      String jobId,
      JobSpec spec,
      PipelineSettings settings,
      DataPlaneSettings dataPlane,
      IntFunction<FaultInjector> faults) {
    int stages = spec.parallelism().pipelineStages();
    int layers = ModelLayers.count(spec.model());
    int[] boundaries = new int[stages + 1];
    for (int k = 0; k <= stages; k++) {
      boundaries[k] = firstLayer(layers, k, stages);
    }
    return new LocalPipeline(jobId, spec, settings, dataPlane, boundaries, faults);
  }

  /**
   * Starts every slot of {@code spec} on loopback; stage k computes layers {@code [boundaries[k],
   * boundaries[k + 1])}.
   */
  public static LocalPipeline start(
      String jobId,
      JobSpec spec,
      PipelineSettings settings,
      DataPlaneSettings dataPlane,
      int[] boundaries) {
    return new LocalPipeline(
        jobId, spec, settings, dataPlane, boundaries.clone(), slot -> FaultInjector.none());
  }

  /** First layer of stage {@code k} of {@code stages} when layers are split evenly. */
  public static int firstLayer(int layers, int k, int stages) {
    return (int) ((long) layers * k / stages);
  }

  /** The worker id this pipeline gives slot (k, d). */
  public static String slotWorkerId(String jobId, int stage, int replica) {
    return jobId + "-s" + stage + "-r" + replica;
  }

  /** The transport of slot {@code index} (stage-major: {@code k * D + d}). */
  public TensorTransport transport(int index) {
    return transports.get(index);
  }

  /** The executors, stage-major: index {@code k * D + d}. */
  public List<StageExecutor> executors() {
    return executors;
  }

  /**
   * Runs {@code step} on every slot concurrently and returns the reports stage-major.
   *
   * @throws StageExecutionException the first slot's failure (all slots fail within a timeout)
   */
  public List<StepReport> runStep(long step) {
    return runStep(executors, step);
  }

  /**
   * Runs {@code step} on every one of {@code executors} concurrently, waits for all of them, and
   * returns their reports in the same order.
   *
   * @throws RuntimeException the first executor's failure, once every executor has finished
   */
  public static List<StepReport> runStep(List<StageExecutor> executors, long step) {
    List<CompletableFuture<StepReport>> running = new ArrayList<>();
    for (StageExecutor e : executors) {
      running.add(e.runStepAsync(step));
    }
    List<StepReport> reports = new ArrayList<>();
    RuntimeException failure = null;
    for (CompletableFuture<StepReport> f : running) {
      try {
        reports.add(f.join());
      } catch (CompletionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    return reports;
  }

  /**
   * The step's loss over the global batch: the mean of the last stage's replica losses (every
   * replica computes the same number of micro-batches).
   */
  public static double loss(List<StepReport> reports) {
    double sum = 0;
    int n = 0;
    for (StepReport r : reports) {
      if (r.hasLoss()) {
        sum += r.loss();
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  @Override
  public void close() {
    executors.forEach(StageExecutor::close);
    transports.forEach(CloseHelper::quietClose);
    backends.forEach(CpuBackend::close);
    driver.close();
  }
}
