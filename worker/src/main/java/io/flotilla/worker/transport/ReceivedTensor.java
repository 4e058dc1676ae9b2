package io.flotilla.worker.transport;

import java.nio.ByteBuffer;

/**
 * A tensor that arrived complete and whose CRC32C matched.
 *
 * @param header the sender's header
 * @param sourceWorkerId the sending worker
 * @param payload the bytes, off-heap, little-endian, position 0, limit the payload length; owned by
 *     the receiver from now on
 * @param checksum CRC32C of the payload
 */
public record ReceivedTensor(
    TensorHeader header, String sourceWorkerId, ByteBuffer payload, int checksum) {}
