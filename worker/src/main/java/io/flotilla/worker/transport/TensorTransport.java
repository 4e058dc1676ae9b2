package io.flotilla.worker.transport;

import io.aeron.Aeron;
import io.aeron.ChannelUriStringBuilder;
import io.aeron.CommonContext;
import io.aeron.Image;
import io.aeron.Subscription;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends tensors to peers and hands out the tensors peers sent, over Aeron: UDP to other hosts and
 * processes, IPC to transports that share this process's media driver.
 *
 * <p>Sending: {@link #send} chunks the payload onto the peer's publication on a send thread and
 * completes when every frame is in the publication, or fails with a {@link
 * PeerUnavailableException} naming the peer when it makes no progress for the peer timeout.
 *
 * <p>Receiving: tensors are reassembled off-heap by a receive agent and kept under their {@link
 * TensorKey} (job, step, micro-batch, stage, kind, source) until someone {@link #receive}s them, so
 * a stage executor awaits exactly the tensor it needs, whether it asks before or after it arrives.
 * A tensor that fails its checksum or arrives truncated completes the matching receive
 * exceptionally with a {@link TensorCorruptedException}; it is never handed out. A source whose
 * stream went away fails its pending receives at once; any receive fails after its timeout with an
 * error naming the source.
 */
public final class TensorTransport implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TensorTransport.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final DataPlaneDriver driver;
  private final boolean ownsDriver;
  private final DataPlaneSettings settings;
  private final String workerId;
  private final byte[] workerIdBytes;
  private final NanoClock clock = SystemNanoClock.INSTANCE;
  private final Subscription udpSubscription;
  private final Subscription ipcSubscription;
  private final TensorReceiveAgent agent;
  private final AgentRunner agentRunner;
  private final ExecutorService sendExecutor;
  private final ScheduledExecutorService timer;
  private final Map<String, TensorPublisher> publishers = new ConcurrentHashMap<>();
  private final Map<TensorKey, CompletableFuture<ReceivedTensor>> slots = new ConcurrentHashMap<>();
  private final Map<Integer, String> sourcesBySession = new ConcurrentHashMap<>();
  private final Map<String, String> departedSources = new ConcurrentHashMap<>();
  private final Map<String, String> abortedJobSources = new ConcurrentHashMap<>();
  private final AtomicLong transferIds;
  private final AtomicLong rejectedTensors = new AtomicLong();
  private final AtomicLong sentTensors = new AtomicLong();
  private final AtomicLong sentBytes = new AtomicLong();
  private final AtomicLong receivedTensors = new AtomicLong();
  private final AtomicLong receivedBytes = new AtomicLong();
  private final DataPlaneEndpoint endpoint;

  private TensorTransport(
      DataPlaneDriver driver, boolean ownsDriver, String workerId, int streamId) {
    this.driver = driver;
    this.ownsDriver = ownsDriver;
    this.settings = driver.settings().withStreamId(streamId);
    this.workerId = workerId;
    this.workerIdBytes = TensorFrames.idBytes(workerId, "workerId");
    // High bits random so transfers of a restarted sender never collide with its old ones.
    this.transferIds = new AtomicLong((long) ThreadLocalRandom.current().nextInt() << 32);
    Aeron aeron = driver.aeron();
    String udpChannel =
        new ChannelUriStringBuilder()
            .media(CommonContext.UDP_MEDIA)
            .endpoint(settings.bindAddress() + ":" + settings.port())
            .build();
    this.udpSubscription =
        aeron.addSubscription(
            udpChannel, settings.streamId(), this::onImageAvailable, this::onImageUnavailable);
    this.ipcSubscription =
        aeron.addSubscription(
            CommonContext.IPC_CHANNEL,
            settings.streamId(),
            this::onImageAvailable,
            this::onImageUnavailable);
    this.endpoint =
        new DataPlaneEndpoint(
            settings.resolveAdvertisedHost(),
            resolvePort(udpSubscription),
            settings.mtuBytes(),
            settings.streamId());

    TensorAdapter adapter =
        new TensorAdapter(
            new Sink(),
            settings.maxTensorBytes(),
            clock,
            new TensorBufferPool(settings.receivePoolBytes()));
    this.agent =
        new TensorReceiveAgent(
            udpSubscription, ipcSubscription, adapter, clock, settings.peerTimeout().toNanos());
    this.agentRunner =
        new AgentRunner(
            agent.idleStrategy(
                DataPlaneDriver.activeIdleStrategy(settings),
                DataPlaneDriver.idleStrategy(settings)),
            e -> log.error("tensor receive agent of {} failed", workerId, e),
            null,
            agent);
    AgentRunner.startOnThread(agentRunner, r -> daemon(r, "flotilla-tensor-receiver"));
    this.sendExecutor =
        Executors.newFixedThreadPool(
            settings.sendThreads(), r -> daemon(r, "flotilla-tensor-sender"));
    this.timer =
        Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "flotilla-tensor-timer"));
  }

  /** Starts a transport on an existing driver (the caller closes the driver). */
  public static TensorTransport start(DataPlaneDriver driver, String workerId) {
    return new TensorTransport(driver, false, workerId, driver.settings().streamId());
  }

  /**
   * Starts a transport on an existing driver with its own stream id, so that several transports can
   * share one driver (each needs its own port too, unless the port is 0).
   */
  public static TensorTransport start(DataPlaneDriver driver, String workerId, int streamId) {
    return new TensorTransport(driver, false, workerId, streamId);
  }

  /** Starts a media driver and a transport that owns it (closing the transport closes both). */
  public static TensorTransport launch(DataPlaneSettings settings, String workerId) {
    DataPlaneDriver driver = DataPlaneDriver.launch(settings);
    try {
      return new TensorTransport(driver, true, workerId, settings.streamId());
    } catch (RuntimeException e) {
      driver.close();
      throw e;
    }
  }

  /** This worker's id, carried as the source of every tensor it sends. */
  public String workerId() {
    return workerId;
  }

  /** Where peers send to: publish this in the worker registry. */
  public DataPlaneEndpoint endpoint() {
    return endpoint;
  }

  /** This transport as a UDP peer of others. */
  public DataPlanePeer udpPeer() {
    return DataPlanePeer.udp(workerId, endpoint, settings.streamId());
  }

  /** This transport as an IPC peer of transports sharing its media driver. */
  public DataPlanePeer ipcPeer() {
    return DataPlanePeer.ipc(workerId, settings.streamId());
  }

  /** The media driver's directory. */
  public String driverDirectory() {
    return driver.directory().toString();
  }

  /** Peer timeout from the settings. */
  public Duration peerTimeout() {
    return settings.peerTimeout();
  }

  /**
   * Sends {@code payload} (its bytes from position to limit, which must be what the header's shape
   * and dtype call for) to {@code peer}. The buffer must not change until the future completes;
   * direct buffers avoid a copy. Completes when every frame is in the publication; fails with
   * {@link PeerUnavailableException} naming the peer if it makes no progress for the peer timeout.
   */
  public CompletableFuture<Void> send(DataPlanePeer peer, TensorHeader header, ByteBuffer payload) {
    return send(peer, header, payload, false);
  }

  CompletableFuture<Void> send(
      DataPlanePeer peer, TensorHeader header, ByteBuffer payload, boolean corruptChecksum) {
    ByteBuffer view = payload.duplicate();
    long bytes = view.remaining();
    return CompletableFuture.runAsync(
        () -> {
          publisher(peer)
              .send(
                  transferIds.incrementAndGet(),
                  header,
                  view,
                  workerIdBytes,
                  settings.peerTimeout().toNanos(),
                  DataPlaneDriver.activeIdleStrategy(settings),
                  corruptChecksum);
          sentTensors.incrementAndGet();
          sentBytes.addAndGet(bytes);
        },
        sendExecutor);
  }

  /**
   * The tensor with this key, when it has arrived complete with a matching checksum. Fails with
   * {@link TensorCorruptedException} when it arrived corrupted or truncated, and with {@link
   * PeerUnavailableException} naming the source when the source went away or nothing arrived within
   * {@code timeout}. Each tensor is handed out once.
   */
  public CompletableFuture<ReceivedTensor> receive(TensorKey key, Duration timeout) {
    CompletableFuture<ReceivedTensor> slot = slot(key);
    CompletableFuture<ReceivedTensor> result = new CompletableFuture<>();
    slot.whenComplete(
        (tensor, error) -> {
          slots.remove(key, slot);
          if (error != null) {
            result.completeExceptionally(error);
          } else {
            result.complete(tensor);
          }
        });
    if (!slot.isDone()) {
      String aborted = abortedJobSources.get(abortKey(key.jobId(), key.sourceWorkerId()));
      if (aborted != null) {
        slot.completeExceptionally(
            new PeerUnavailableException(
                "peer " + key.sourceWorkerId() + " aborted job " + key.jobId() + ": " + aborted));
      }
    }
    // A source whose stream went away is not failed here: it may be reconnecting (a new stream
    // is anonymous until its first tensor). Pending receives fail when the stream goes away.
    if (!result.isDone()) {
      var timeoutTask =
          timer.schedule(
              () -> {
                if (result.completeExceptionally(
                    new PeerUnavailableException(
                        "no tensor from peer "
                            + key.sourceWorkerId()
                            + " within "
                            + timeout.toMillis()
                            + " ms: "
                            + key))) {
                  slots.remove(key, slot);
                }
              },
              timeout.toNanos(),
              TimeUnit.NANOSECONDS);
      result.whenComplete((t, e) -> timeoutTask.cancel(false));
    }
    return result;
  }

  /** Drops every tensor of {@code jobId} that arrived but was never received. */
  public void release(String jobId) {
    slots.keySet().removeIf(key -> key.jobId().equals(jobId));
    abortedJobSources.keySet().removeIf(k -> k.startsWith(jobId + "\u0000"));
  }

  /**
   * Tells {@code peer}, best effort and without waiting, that this worker gave up on {@code jobId}:
   * the peer fails every receive of that job from this worker at once with {@code reason}, instead
   * of waiting for its timeout.
   */
  public void abort(DataPlanePeer peer, String jobId, String reason) {
    byte[] job = TensorFrames.idBytes(jobId, "jobId");
    byte[] why = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (why.length > TensorFrames.MAX_REASON_BYTES) {
      why = java.util.Arrays.copyOf(why, TensorFrames.MAX_REASON_BYTES);
    }
    byte[] reasonBytes = why;
    try {
      CompletableFuture.runAsync(
              () ->
                  publisher(peer)
                      .abort(
                          job,
                          workerIdBytes,
                          reasonBytes,
                          settings.peerTimeout().toNanos(),
                          DataPlaneDriver.idleStrategy(settings)),
              sendExecutor)
          .exceptionally(
              e -> {
                log.debug("could not tell {} about the abort of job {}", peer.describe(), jobId, e);
                return null;
              });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("transport of {} is closed; no abort sent to {}", workerId, peer.describe());
    }
  }

  private static String abortKey(String jobId, String sourceWorkerId) {
    return jobId + "\u0000" + sourceWorkerId;
  }

  /**
   * True while a stream from {@code sourceWorkerId} is up: it sent at least one tensor on it and
   * the stream has not gone away (Aeron heartbeats keep it up while the peer is alive but idle).
   */
  public boolean isStreamUp(String sourceWorkerId) {
    return sourcesBySession.containsValue(sourceWorkerId)
        && !departedSources.containsKey(sourceWorkerId);
  }

  /** Tensors rejected so far (checksum mismatch, truncation, invalid header). */
  public long rejectedTensors() {
    return rejectedTensors.get();
  }

  /** Tensors sent completely so far (every frame in the publication). */
  public long sentTensors() {
    return sentTensors.get();
  }

  /** Payload bytes of the tensors sent completely so far. */
  public long sentBytes() {
    return sentBytes.get();
  }

  /** Tensors that arrived complete with a matching checksum so far. */
  public long receivedTensors() {
    return receivedTensors.get();
  }

  /** Payload bytes of the tensors that arrived complete so far. */
  public long receivedBytes() {
    return receivedBytes.get();
  }

  private CompletableFuture<ReceivedTensor> slot(TensorKey key) {
    return slots.computeIfAbsent(key, k -> new CompletableFuture<>());
  }

  private TensorPublisher publisher(DataPlanePeer peer) {
    String channel = channel(peer);
    String id = channel + "#" + peer.streamId();
    TensorPublisher publisher = publishers.get(id);
    if (publisher == null) {
      publisher =
          publishers.computeIfAbsent(
              id,
              k ->
                  new TensorPublisher(
                      peer, driver.aeron().addPublication(channel, peer.streamId()), clock));
    }
    return publisher;
  }

  private String channel(DataPlanePeer peer) {
    ChannelUriStringBuilder builder =
        new ChannelUriStringBuilder().termLength(settings.termLengthBytes());
    if (peer.isIpc()) {
      return builder.media(CommonContext.IPC_MEDIA).mtu(settings.mtuBytes()).build();
    }
    DataPlaneEndpoint target = peer.endpoint();
    int mtu =
        target.mtuBytes() > 0
            ? Math.min(target.mtuBytes(), settings.mtuBytes())
            : settings.mtuBytes();
    return builder
        .media(CommonContext.UDP_MEDIA)
        .endpoint(target.host() + ":" + target.port())
        .mtu(mtu)
        .build();
  }

  private int resolvePort(Subscription subscription) {
    if (settings.port() != 0) {
      return settings.port();
    }
    long deadlineNs = clock.nanoTime() + settings.peerTimeout().toNanos();
    String resolved;
    while ((resolved = subscription.resolvedEndpoint()) == null) {
      if (clock.nanoTime() - deadlineNs > 0) {
        throw new DataPlaneException(
            "the data-plane subscription on " + settings.bindAddress() + ":0 did not bind a port");
      }
      Thread.onSpinWait();
    }
    return Integer.parseInt(resolved.substring(resolved.lastIndexOf(':') + 1));
  }

  private void onImageAvailable(Image image) {
    // The source is known only from its first BEGIN frame (see Sink#onSourceIdentified).
  }

  private void onImageUnavailable(Image image) {
    agent.onImageGone(image.sessionId());
    String source = sourcesBySession.remove(image.sessionId());
    if (source == null || sourcesBySession.containsValue(source)) {
      // Unknown, or the source still sends on another stream (e.g. it restarted).
      return;
    }
    String reason = "its stream from " + image.sourceIdentity() + " closed";
    departedSources.put(source, reason);
    PeerUnavailableException error =
        new PeerUnavailableException("peer " + source + " went away (" + reason + ")");
    slots.forEach(
        (key, slot) -> {
          if (key.sourceWorkerId().equals(source) && !slot.isDone()) {
            slot.completeExceptionally(
                new PeerUnavailableException(error.getMessage() + "; waiting for " + key));
          }
        });
  }

  private final class Sink implements TensorAdapter.Sink {
    @Override
    public void onTensor(ReceivedTensor tensor) {
      receivedTensors.incrementAndGet();
      receivedBytes.addAndGet(tensor.payload().remaining());
      TensorKey key = tensor.header().keyFrom(tensor.sourceWorkerId());
      if (!abortedJobSources.isEmpty()) {
        // A new tensor of the job from this source: it took the job up again after its abort.
        abortedJobSources.remove(abortKey(key.jobId(), key.sourceWorkerId()));
      }
      if (!slot(key).complete(tensor)) {
        log.warn("dropped a second tensor with key {} from {}", key, tensor.sourceWorkerId());
        tensor.release();
      }
    }

    @Override
    public void onRejected(TensorKey key, String sourceWorkerId, String reason) {
      rejectedTensors.incrementAndGet();
      log.warn("rejected a tensor {} from peer {}: {}", key, sourceWorkerId, reason);
      if (key != null) {
        slot(key)
            .completeExceptionally(
                new TensorCorruptedException(
                    "tensor " + key + " from peer " + sourceWorkerId + " rejected: " + reason));
      }
    }

    @Override
    public void onAbort(String jobId, String sourceWorkerId, String reason) {
      abortedJobSources.put(abortKey(jobId, sourceWorkerId), reason);
      slots.forEach(
          (key, slot) -> {
            if (key.jobId().equals(jobId)
                && key.sourceWorkerId().equals(sourceWorkerId)
                && !slot.isDone()) {
              slot.completeExceptionally(
                  new PeerUnavailableException(
                      "peer " + sourceWorkerId + " aborted job " + jobId + ": " + reason));
            }
          });
    }

    @Override
    public void onSourceIdentified(int sessionId, String sourceWorkerId) {
      if (sourcesBySession.put(sessionId, sourceWorkerId) == null) {
        departedSources.remove(sourceWorkerId);
      }
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread thread = new Thread(r, name + "-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
    return thread;
  }

  @Override
  public void close() {
    CloseHelper.quietClose(agentRunner);
    sendExecutor.shutdownNow();
    timer.shutdownNow();
    publishers.values().forEach(CloseHelper::quietClose);
    CloseHelper.quietCloseAll(udpSubscription, ipcSubscription);
    PeerUnavailableException closed =
        new PeerUnavailableException("data-plane transport of " + workerId + " closed");
    slots.values().forEach(slot -> slot.completeExceptionally(closed));
    if (ownsDriver) {
      driver.close();
    }
  }
}
