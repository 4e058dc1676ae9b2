package io.flotilla.worker.transport;

import com.typesafe.config.Config;
import io.aeron.driver.ThreadingMode;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Objects;

/**
 * Typed settings of the data plane, read once from {@code flotilla.worker.data-plane} (see the
 * module's {@code reference.conf} for what each key means) and validated on construction.
 *
 * @param bindAddress local address the UDP subscription binds to
 * @param advertisedHost host peers send to; blank means detect
 * @param port UDP port, 0 for a free one
 * @param streamId Aeron stream id of tensor traffic
 * @param mtuBytes UDP datagram size of publications
 * @param termLengthBytes Aeron term length of publications
 * @param driverDirectoryParent where the driver's per-process directory is created
 * @param idleMaxPark longest idle park of driver and receive agent
 * @param peerTimeout how long a peer may make no progress before a send or receive fails
 * @param imageLivenessTimeout driver's image liveness timeout
 * @param publicationConnectionTimeout driver's publication connection timeout
 * @param maxTensorBytes largest tensor payload accepted from a peer
 * @param sendThreads threads running asynchronous sends
 * @param socketRcvbufBytes SO_RCVBUF of the driver's sockets, 0 for Aeron's default
 * @param socketSndbufBytes SO_SNDBUF of the driver's sockets, 0 for Aeron's default
 * @param receivePoolBytes most bytes of released inbound tensor buffers kept for reuse
 * @param idleSpins busy spins of an idle thread before it yields
 * @param idleYields yields of an idle thread after spinning, before it parks
 * @param threadingMode threading of the embedded media driver
 * @param receiverWindowBytes receiver window of inbound streams, 0 for min(socket-rcvbuf,
 *     term-length / 2)
 */
public record DataPlaneSettings(
    String bindAddress,
    String advertisedHost,
    int port,
    int streamId,
    int mtuBytes,
    int termLengthBytes,
    Path driverDirectoryParent,
    Duration idleMaxPark,
    Duration peerTimeout,
    Duration imageLivenessTimeout,
    Duration publicationConnectionTimeout,
    int maxTensorBytes,
    int sendThreads,
    int socketRcvbufBytes,
    int socketSndbufBytes,
    long receivePoolBytes,
    int idleSpins,
    int idleYields,
    ThreadingMode threadingMode,
    int receiverWindowBytes) {

  /** Default of {@code idle-spins} (reference.conf), used by {@link #loopback}. */
  static final int DEFAULT_IDLE_SPINS = 10;

  /** Default of {@code idle-yields} (reference.conf), used by {@link #loopback}. */
  static final int DEFAULT_IDLE_YIELDS = 20;

  /** Largest capacity a Java buffer can have. */
  public static final int MAX_BUFFER_BYTES = Integer.MAX_VALUE - 8;

  public DataPlaneSettings {
    Objects.requireNonNull(bindAddress, "bindAddress");
    Objects.requireNonNull(advertisedHost, "advertisedHost");
    Objects.requireNonNull(driverDirectoryParent, "driverDirectoryParent");
    Objects.requireNonNull(idleMaxPark, "idleMaxPark");
    Objects.requireNonNull(peerTimeout, "peerTimeout");
    Objects.requireNonNull(imageLivenessTimeout, "imageLivenessTimeout");
    Objects.requireNonNull(publicationConnectionTimeout, "publicationConnectionTimeout");
    require(!bindAddress.isBlank(), "bind-address must not be blank");
    require(port >= 0 && port <= 65535, "port must be in 0..65535, was " + port);
    require(streamId != 0, "stream-id must not be 0");
    require(
        mtuBytes >= 1024 && mtuBytes <= 65504 && mtuBytes % 32 == 0,
        "mtu must be a multiple of 32 in 1024..65504 bytes, was " + mtuBytes);
    require(
        termLengthBytes >= 64 * 1024
            && termLengthBytes <= 1 << 30
            && Integer.bitCount(termLengthBytes) == 1,
        "term-length must be a power of two in 64KiB..1GiB, was " + termLengthBytes);
    require(!idleMaxPark.isNegative() && !idleMaxPark.isZero(), "idle-max-park must be > 0");
    require(!peerTimeout.isNegative() && !peerTimeout.isZero(), "peer-timeout must be > 0");
    require(
        !imageLivenessTimeout.isNegative() && !imageLivenessTimeout.isZero(),
        "image-liveness-timeout must be > 0");
    require(
        !publicationConnectionTimeout.isNegative() && !publicationConnectionTimeout.isZero(),
        "publication-connection-timeout must be > 0");
    require(
        maxTensorBytes >= 0 && maxTensorBytes <= MAX_BUFFER_BYTES,
        "max-tensor-size must be in 0.." + MAX_BUFFER_BYTES + " bytes, was " + maxTensorBytes);
    require(sendThreads >= 1, "send-threads must be >= 1, was " + sendThreads);
    require(socketRcvbufBytes >= 0, "socket-rcvbuf must be >= 0");
    require(socketSndbufBytes >= 0, "socket-sndbuf must be >= 0");
    require(receivePoolBytes >= 0, "receive-pool-size must be >= 0, was " + receivePoolBytes);
    require(idleSpins >= 0, "idle-spins must be >= 0, was " + idleSpins);
    require(idleYields >= 0, "idle-yields must be >= 0, was " + idleYields);
    Objects.requireNonNull(threadingMode, "threadingMode");
    require(
        threadingMode == ThreadingMode.SHARED
            || threadingMode == ThreadingMode.SHARED_NETWORK
            || threadingMode == ThreadingMode.DEDICATED,
        "driver-threading-mode must be shared, shared-network or dedicated, was " + threadingMode);
    require(
        receiverWindowBytes == 0
            || (receiverWindowBytes >= 4096 && receiverWindowBytes <= termLengthBytes / 2),
        "receiver-window must be 0 or in 4KiB..term-length/2 ("
            + termLengthBytes / 2
            + " bytes), was "
            + receiverWindowBytes);
  }

  /** Reads {@code flotilla.worker.data-plane} from a full configuration. */
  public static DataPlaneSettings create(Config config) {
    Config c = config.getConfig("flotilla.worker.data-plane");
    return new DataPlaneSettings(
        c.getString("bind-address"),
        c.getString("advertised-host"),
        c.getInt("port"),
        c.getInt("stream-id"),
        intBytes(c, "mtu"),
        intBytes(c, "term-length"),
        Path.of(c.getString("driver-directory-parent")),
        c.getDuration("idle-max-park"),
        c.getDuration("peer-timeout"),
        c.getDuration("image-liveness-timeout"),
        c.getDuration("publication-connection-timeout"),
        intBytes(c, "max-tensor-size"),
        c.getInt("send-threads"),
        intBytes(c, "socket-rcvbuf"),
        intBytes(c, "socket-sndbuf"),
        c.getBytes("receive-pool-size"),
        c.getInt("idle-spins"),
        c.getInt("idle-yields"),
        threadingMode(c.getString("driver-threading-mode")),
        intBytes(c, "receiver-window"));
  }

  /** Settings for tests and benchmarks: loopback, a free port, the given peer timeout. */
  public static DataPlaneSettings loopback(Duration peerTimeout) {
    return new DataPlaneSettings(
        "127.0.0.1",
        "127.0.0.1",
        0,
        1001,
        32 * 1024,
        16 * 1024 * 1024,
        Path.of("/dev/shm"),
        Duration.ofMillis(1),
        peerTimeout,
        Duration.ofSeconds(3),
        Duration.ofSeconds(3),
        MAX_BUFFER_BYTES,
        4,
        2 * 1024 * 1024,
        2 * 1024 * 1024,
        256L * 1024 * 1024,
        DEFAULT_IDLE_SPINS,
        DEFAULT_IDLE_YIELDS,
        ThreadingMode.SHARED,
        0);
  }

  /** A copy with another stream id (two transports sharing one driver need different ids). */
  public DataPlaneSettings withStreamId(int newStreamId) {
    return new DataPlaneSettings(
        bindAddress,
        advertisedHost,
        port,
        newStreamId,
        mtuBytes,
        termLengthBytes,
        driverDirectoryParent,
        idleMaxPark,
        peerTimeout,
        imageLivenessTimeout,
        publicationConnectionTimeout,
        maxTensorBytes,
        sendThreads,
        socketRcvbufBytes,
        socketSndbufBytes,
        receivePoolBytes,
        idleSpins,
        idleYields,
        threadingMode,
        receiverWindowBytes);
  }

  /** A copy with another UDP port. */
  public DataPlaneSettings withPort(int newPort) {
    return new DataPlaneSettings(
        bindAddress,
        advertisedHost,
        newPort,
        streamId,
        mtuBytes,
        termLengthBytes,
        driverDirectoryParent,
        idleMaxPark,
        peerTimeout,
        imageLivenessTimeout,
        publicationConnectionTimeout,
        maxTensorBytes,
        sendThreads,
        socketRcvbufBytes,
        socketSndbufBytes,
        receivePoolBytes,
        idleSpins,
        idleYields,
        threadingMode,
        receiverWindowBytes);
  }

  /** A copy with another image liveness timeout. */
  public DataPlaneSettings withImageLivenessTimeout(Duration timeout) {
    return new DataPlaneSettings(
        bindAddress,
        advertisedHost,
        port,
        streamId,
        mtuBytes,
        termLengthBytes,
        driverDirectoryParent,
        idleMaxPark,
        peerTimeout,
        timeout,
        publicationConnectionTimeout,
        maxTensorBytes,
        sendThreads,
        socketRcvbufBytes,
        socketSndbufBytes,
        receivePoolBytes,
        idleSpins,
        idleYields,
        threadingMode,
        receiverWindowBytes);
  }

  /** The host to publish in the registry: {@link #advertisedHost} or a detected address. */
  public String resolveAdvertisedHost() {
    if (!advertisedHost.isBlank()) {
      return advertisedHost;
    }
    if (!"0.0.0.0".equals(bindAddress)) {
      return bindAddress;
    }
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nif.isUp() || nif.isLoopback()) {
          continue;
        }
        for (InetAddress address : Collections.list(nif.getInetAddresses())) {
          if (address instanceof Inet4Address && address.isSiteLocalAddress()) {
            return address.getHostAddress();
          }
        }
      }
    } catch (SocketException e) {
      // Fall through to loopback: a host without usable interfaces can still talk to itself.
    }
    return "127.0.0.1";
  }

  /**
   * The receiver window inbound streams advertise: {@link #receiverWindowBytes} when set, else
   * min(socket-rcvbuf, term-length / 2), or 0 (Aeron's default) when socket-rcvbuf is 0 too.
   */
  public int effectiveReceiverWindowBytes() {
    if (receiverWindowBytes > 0) {
      return receiverWindowBytes;
    }
    return socketRcvbufBytes > 0 ? Math.min(socketRcvbufBytes, termLengthBytes / 2) : 0;
  }

  private static ThreadingMode threadingMode(String value) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "shared" -> ThreadingMode.SHARED;
      case "shared-network" -> ThreadingMode.SHARED_NETWORK;
      case "dedicated" -> ThreadingMode.DEDICATED;
      default ->
          throw new IllegalArgumentException(
              "flotilla.worker.data-plane: driver-threading-mode must be shared, shared-network"
                  + " or dedicated, was '"
                  + value
                  + "'");
    };
  }

  private static int intBytes(Config c, String key) {
    long bytes = c.getBytes(key);
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "flotilla.worker.data-plane." + key + " must be below 2GiB, was " + bytes + " bytes");
    }
    return (int) bytes;
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException("flotilla.worker.data-plane: " + message);
    }
  }
}
