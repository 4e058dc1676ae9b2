package io.flotilla.protocol.identity;

import io.flotilla.protocol.ControlMessage;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A worker's claim of its payment address, signed by the key of that address, so nobody can
 * register an address whose key it does not hold.
 *
 * @param workerId the worker
 * @param address the worker's Ethereum-style address ({@code 0x} + 40 hex digits, lower case)
 * @param signature hex signature over {@link #signingPayload()} by the address's key
 */
public record WorkerRegistration(String workerId, String address, String signature)
    implements ControlMessage {

  /** Validates presence of every field. */
  public WorkerRegistration {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(signature, "signature");
  }

  /** The bytes signed to prove ownership of {@code address} for {@code workerId}. */
  public byte[] signingPayload() {
    return ("flotilla-worker-registration-v1\n"
            + workerId.length()
            + ":"
            + workerId
            + "\n"
            + address)
        .getBytes(StandardCharsets.UTF_8);
  }
}
