package io.flotilla.worker;

import io.flotilla.protocol.metrics.NodeMetrics;
import io.flotilla.worker.transport.TensorTransport;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The worker's data-plane meters, read from its {@link TensorTransport}'s counters when scraped
 * (the transport counts with plain atomics; nothing is allocated per tensor):
 *
 * <ul>
 *   <li>{@code flotilla_dataplane_sent_bytes_total}, {@code
 *       flotilla_dataplane_received_bytes_total}: tensor payload bytes; their rate is the
 *       data-plane throughput;
 *   <li>{@code flotilla_dataplane_sent_tensors_total}, {@code
 *       flotilla_dataplane_received_tensors_total}: tensors moved completely;
 *   <li>{@code flotilla_dataplane_rejected_tensors_total}: tensors dropped for a checksum mismatch,
 *       truncation or an invalid header.
 * </ul>
 */
final class WorkerMetrics {

  private WorkerMetrics() {}

  /** Registers the meters of {@code transport} into the registry of {@code system}. */
  static void bind(ActorSystem<?> system, TensorTransport transport) {
    MeterRegistry registry = NodeMetrics.get(system).registry();
    FunctionCounter.builder("flotilla.dataplane.sent", transport, TensorTransport::sentBytes)
        .baseUnit("bytes")
        .description("Tensor payload bytes this worker sent over the data plane")
        .register(registry);
    FunctionCounter.builder(
            "flotilla.dataplane.received", transport, TensorTransport::receivedBytes)
        .baseUnit("bytes")
        .description("Tensor payload bytes this worker received over the data plane")
        .register(registry);
    FunctionCounter.builder(
            "flotilla.dataplane.sent.tensors", transport, TensorTransport::sentTensors)
        .description("Tensors this worker sent completely over the data plane")
        .register(registry);
    FunctionCounter.builder(
            "flotilla.dataplane.received.tensors", transport, TensorTransport::receivedTensors)
        .description("Tensors this worker received complete with a matching checksum")
        .register(registry);
    FunctionCounter.builder(
            "flotilla.dataplane.rejected.tensors", transport, TensorTransport::rejectedTensors)
        .description("Tensors rejected: checksum mismatch, truncation, invalid header")
        .register(registry);
  }
}
