package io.flotilla.protocol.worker;

import io.flotilla.protocol.ControlMessage;
import java.util.Objects;

/**
 * Where a worker receives tensors on the data plane (Aeron).
 *
 * @param host address peers send to, e.g. {@code 127.0.0.1}
 * @param port UDP port of the worker's subscription
 * @param mtuBytes the MTU the worker's publications use
 * @param streamId the Aeron stream id of the worker's tensor subscription
 */
public record DataPlaneEndpoint(String host, int port, int mtuBytes, int streamId)
    implements ControlMessage {
  public DataPlaneEndpoint {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, was " + port);
    }
    if (mtuBytes < 0) {
      throw new IllegalArgumentException("mtuBytes must be >= 0, was " + mtuBytes);
    }
    if (streamId == 0) {
      throw new IllegalArgumentException("streamId must not be 0");
    }
  }

  /** The Aeron UDP channel that publishes to this endpoint. */
  public String aeronChannel() {
    return "aeron:udp?endpoint=" + host + ":" + port + (mtuBytes > 0 ? "|mtu=" + mtuBytes : "");
  }
}
