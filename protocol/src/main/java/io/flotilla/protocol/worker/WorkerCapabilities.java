package io.flotilla.protocol.worker;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.task.StageHostCommand;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a worker offers, as published in the worker registry (one entry per worker).
 *
 * <p>Values come from the worker itself and are therefore untrusted: the compact constructor
 * rejects impossible values, which also rejects them when they arrive over the network.
 *
 * @param workerId stable id of the worker, unique in the cluster
 * @param nodeAddress the Pekko address of the worker's node, e.g. {@code pekko://flotilla@h:p}
 * @param cores logical CPU cores the worker offers
 * @param memoryBytes heap memory the worker may use for tensors
 * @param gpu the GPU it offers, or {@code null} for none
 * @param cpuGflops sgemm GFLOP/s measured by a short self-benchmark at start
 * @param backend the compute backend it runs ({@code cpu} or {@code cuda})
 * @param dataPlane where it receives tensors, or {@code null} before its data plane started
 * @param walletAddress the address that is paid for its work, or {@code null} when none yet
 * @param labels free-form operator labels, e.g. {@code region=eu-west}
 * @param joinedAtEpochMs when the worker joined, milliseconds since the epoch
 * @param stageHost the actor on the worker's node that runs its stages ({@link StageHostCommand}),
 *     or {@code null} before it started; job managers send it their orders, and a registry replica
 *     accepts it only on the worker's own node ({@code nodeAddress})
 */
public record WorkerCapabilities(
    String workerId,
    String nodeAddress,
    int cores,
    long memoryBytes,
    GpuInfo gpu,
    double cpuGflops,
    String backend,
    DataPlaneEndpoint dataPlane,
    String walletAddress,
    Map<String, String> labels,
    long joinedAtEpochMs,
    ActorRef<StageHostCommand> stageHost)
    implements ControlMessage {

  public WorkerCapabilities {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(nodeAddress, "nodeAddress");
    Objects.requireNonNull(backend, "backend");
    if (workerId.isBlank() || workerId.length() > 128) {
      throw new IllegalArgumentException("workerId must be 1..128 characters");
    }
    if (cores < 1 || cores > 4096) {
      throw new IllegalArgumentException("cores must be in 1..4096, was " + cores);
    }
    if (memoryBytes < 0) {
      throw new IllegalArgumentException("memoryBytes must be >= 0, was " + memoryBytes);
    }
    if (!(cpuGflops >= 0) || Double.isInfinite(cpuGflops)) {
      throw new IllegalArgumentException("cpuGflops must be finite and >= 0, was " + cpuGflops);
    }
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** Capabilities without a stage host yet (a worker before its host started, a planning file). */
  public WorkerCapabilities(
      String workerId,
      String nodeAddress,
      int cores,
      long memoryBytes,
      GpuInfo gpu,
      double cpuGflops,
      String backend,
      DataPlaneEndpoint dataPlane,
      String walletAddress,
      Map<String, String> labels,
      long joinedAtEpochMs) {
    this(
        workerId,
        nodeAddress,
        cores,
        memoryBytes,
        gpu,
        cpuGflops,
        backend,
        dataPlane,
        walletAddress,
        labels,
        joinedAtEpochMs,
        null);
  }

  /** Whether a job can be placed on this worker: its data plane and its stage host are up. */
  public boolean placeable() {
    return dataPlane != null && stageHost != null;
  }

  /** A copy with the stage host set. */
  public WorkerCapabilities withStageHost(ActorRef<StageHostCommand> host) {
    return new WorkerCapabilities(
        workerId,
        nodeAddress,
        cores,
        memoryBytes,
        gpu,
        cpuGflops,
        backend,
        dataPlane,
        walletAddress,
        labels,
        joinedAtEpochMs,
        host);
  }

  /** A copy with the data-plane endpoint set. */
  public WorkerCapabilities withDataPlane(DataPlaneEndpoint endpoint) {
    return new WorkerCapabilities(
        workerId,
        nodeAddress,
        cores,
        memoryBytes,
        gpu,
        cpuGflops,
        backend,
        endpoint,
        walletAddress,
        labels,
        joinedAtEpochMs,
        stageHost);
  }

  /** A copy with the wallet address set. */
  public WorkerCapabilities withWalletAddress(String address) {
    return new WorkerCapabilities(
        workerId,
        nodeAddress,
        cores,
        memoryBytes,
        gpu,
        cpuGflops,
        backend,
        dataPlane,
        address,
        labels,
        joinedAtEpochMs,
        stageHost);
  }
}
