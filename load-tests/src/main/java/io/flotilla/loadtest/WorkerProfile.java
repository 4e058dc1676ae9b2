package io.flotilla.loadtest;

import io.flotilla.protocol.identity.WorkerIdentity;
import io.flotilla.worker.fault.FaultSettings;
import java.util.Objects;

/**
 * One simulated volunteer: who it is, what it offers and how it behaves.
 *
 * @param workerId its id in the registry
 * @param identity the key that signs its receipts and registration (may be shared by several
 *     simulated workers, each then paid at the same address)
 * @param cores cores it advertises
 * @param memoryBytes memory it advertises
 * @param cpuGflops speed it advertises
 * @param compute how long it takes per step
 * @param faults how it misbehaves ({@code none} for an honest worker)
 * @param seed seeds its compute-time draws
 */
public record WorkerProfile(
    String workerId,
    WorkerIdentity identity,
    int cores,
    long memoryBytes,
    double cpuGflops,
    ComputeTime compute,
    FaultSettings faults,
    long seed) {
  public WorkerProfile {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(compute, "compute");
    Objects.requireNonNull(faults, "faults");
  }
}
