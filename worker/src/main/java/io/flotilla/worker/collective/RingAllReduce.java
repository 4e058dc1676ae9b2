package io.flotilla.worker.collective;

import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.ReceivedTensor;
import io.flotilla.worker.transport.TensorHeader;
import io.flotilla.worker.transport.TensorKey;
import io.flotilla.worker.transport.TensorKind;
import io.flotilla.worker.transport.TensorTransport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.IntConsumer;

/**
 * Ring all-reduce (sum) of a float32 tensor among the D replicas of a stage: D-1 rounds of
 * reduce-scatter, then D-1 rounds of all-gather, each round sending one of D segments to the next
 * replica and receiving one from the previous, so every replica sends and receives about 2(D-1)/D
 * times the tensor whatever D is. Every replica ends with bit-identical values.
 *
 * <p>With compression, segments travel as bf16 or int8 with per-block scales; sums are accumulated
 * in float32; in the all-gather the owner's encoded segment is forwarded verbatim and decoded by
 * every replica, the owner included.
 *
 * <p>Rounds travel as {@link TensorKind#ALLREDUCE_CHUNK} tensors whose micro-batch field is {@code
 * bucket * 1024 + round}, so several buckets of one step can be reduced concurrently. A replica
 * that fails or goes away makes the others fail within the peer timeout with a {@link
 * CollectiveException} naming the round and the peer.
 */
public final class RingAllReduce {
  /** Micro-batch values reserved per bucket (rounds of one all-reduce). */
  public static final int ROUNDS_PER_BUCKET = 1024;

  private final TensorTransport transport;
  private final Duration timeout;
  private final IntConsumer roundListener;

  /**
   * @param transport this replica's transport
   * @param timeout how long to wait for the previous replica in one round
   * @param roundListener told the index of each round this replica finished (progress)
   */
  public RingAllReduce(TensorTransport transport, Duration timeout, IntConsumer roundListener) {
    this.transport = transport;
    this.timeout = timeout;
    this.roundListener = roundListener;
  }

  public RingAllReduce(TensorTransport transport, Duration timeout) {
    this(transport, timeout, round -> {});
  }

  /**
   * Replaces the float32 values in {@code data} (little-endian, position to limit, preferably
   * direct) by their sum over the group. Blocks until done.
   *
   * @param bucket which of several tensors of this step (0..2097151)
   * @throws CollectiveException naming the round and the peer when a replica fails
   */
  public void allReduce(
      ReplicaGroup group, long step, int bucket, ByteBuffer data, Compression compression) {
    if (!group.self().workerId().equals(transport.workerId())) {
      throw new IllegalArgumentException(
          "rank "
              + group.rank()
              + " of the group is "
              + group.self().workerId()
              + ", not this transport's worker "
              + transport.workerId());
    }
    if (data.remaining() % 4 != 0) {
      throw new IllegalArgumentException(
          "a float32 tensor needs a multiple of 4 bytes, had " + data.remaining());
    }
    if (bucket < 0 || bucket > Integer.MAX_VALUE / ROUNDS_PER_BUCKET) {
      throw new IllegalArgumentException(
          "bucket must be in 0.." + Integer.MAX_VALUE / ROUNDS_PER_BUCKET);
    }
    int d = group.size();
    if (d == 1) {
      return;
    }
    ByteBuffer values = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    int count = values.remaining() / 4;
    int maxSegment = segmentStart(count, d, 1) + d; // generous upper bound of any segment
    ByteBuffer scratch =
        compression == Compression.NONE
            ? null
            : ByteBuffer.allocateDirect(compression.encodedBytes(maxSegment))
                .order(ByteOrder.LITTLE_ENDIAN);
    int rank = group.rank();
    int round = 0;
    for (int s = 0; s < d - 1; s++, round++) {
      int sendSeg = Math.floorMod(rank - s, d);
      int recvSeg = Math.floorMod(rank - s - 1, d);
      ByteBuffer outbound = encoded(values, count, d, sendSeg, compression, scratch);
      ReceivedTensor in =
          exchange(
              group,
              step,
              bucket,
              round,
              "reduce-scatter",
              outbound,
              compression,
              segLength(count, d, sendSeg));
      compression.decode(
          in.payload(),
          segLength(count, d, recvSeg),
          values,
          4 * segmentStart(count, d, recvSeg),
          true);
      in.release();
      roundListener.accept(round);
    }
    ByteBuffer forward = null;
    ReceivedTensor forwarded = null;
    for (int t = 0; t < d - 1; t++, round++) {
      int sendSeg = Math.floorMod(rank + 1 - t, d);
      int recvSeg = Math.floorMod(rank - t, d);
      ByteBuffer outbound;
      if (t == 0) {
        outbound = encoded(values, count, d, sendSeg, compression, scratch);
        if (compression != Compression.NONE) {
          // The owner keeps the same rounded values that every other replica will decode.
          compression.decode(
              outbound.duplicate().order(ByteOrder.LITTLE_ENDIAN),
              segLength(count, d, sendSeg),
              values,
              4 * segmentStart(count, d, sendSeg),
              false);
        }
      } else {
        outbound = forward;
      }
      ReceivedTensor in =
          exchange(
              group,
              step,
              bucket,
              round,
              "all-gather",
              outbound,
              compression,
              segLength(count, d, sendSeg));
      if (forwarded != null) {
        // exchange returns after its send completed: the forwarded bytes are in the publication.
        forwarded.release();
      }
      compression.decode(
          in.payload(),
          segLength(count, d, recvSeg),
          values,
          4 * segmentStart(count, d, recvSeg),
          false);
      forward = in.payload();
      forwarded = in;
      roundListener.accept(round);
    }
    if (forwarded != null) {
      forwarded.release();
    }
  }

  private ReceivedTensor exchange(
      ReplicaGroup group,
      long step,
      int bucket,
      int round,
      String phase,
      ByteBuffer outbound,
      Compression compression,
      int sendCount) {
    int microBatch = bucket * ROUNDS_PER_BUCKET + round;
    TensorHeader header =
        new TensorHeader(
            group.jobId(),
            step,
            microBatch,
            group.stage(),
            TensorKind.ALLREDUCE_CHUNK,
            compression.dtype(),
            new long[] {sendCount});
    DataPlanePeer next = group.next();
    DataPlanePeer previous = group.previous();
    TensorKey expected =
        new TensorKey(
            group.jobId(),
            step,
            microBatch,
            group.stage(),
            TensorKind.ALLREDUCE_CHUNK,
            previous.workerId());
    CompletableFuture<Void> sent = transport.send(next, header, outbound);
    CompletableFuture<ReceivedTensor> received = transport.receive(expected, timeout);
    String where =
        "all-reduce of job "
            + group.jobId()
            + " step "
            + step
            + " stage "
            + group.stage()
            + " bucket "
            + bucket
            + " (rank "
            + group.rank()
            + " of "
            + group.size()
            + ") failed in "
            + phase
            + " round "
            + round;
    ReceivedTensor in;
    try {
      try {
        in = received.get();
      } catch (ExecutionException e) {
        // The previous replica is alive but late: it is most likely waiting on its own previous
        // one, whose failure reaches us as an ABORT. One more timeout lets that root cause in.
        if (!transport.isStreamUp(previous.workerId())) {
          throw e;
        }
        in = transport.receive(expected, timeout).get();
      }
    } catch (ExecutionException e) {
      throw abort(
          group,
          new CollectiveException(
              where + " receiving from " + previous.describe() + ": " + e.getCause().getMessage(),
              e.getCause()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CollectiveException(where + ": interrupted", e);
    }
    try {
      sent.join();
    } catch (CompletionException e) {
      throw new CollectiveException(
          where + " sending to " + next.describe() + ": " + e.getCause().getMessage(),
          e.getCause());
    }
    TensorHeader got = in.header();
    long expectedCount = segLengthOfPrevious(got);
    if (got.dtype() != compression.dtype() || expectedCount < 0) {
      throw new CollectiveException(
          where + ": " + previous.describe() + " sent " + got + ", expected " + compression.dtype(),
          null);
    }
    return in;
  }

  /**
   * Tells both ring neighbours that this replica gave up, so they fail at once with the root cause
   * instead of waiting for their own timeouts. Best effort: neighbours may be gone too.
   */
  private CollectiveException abort(ReplicaGroup group, CollectiveException failure) {
    transport.abort(group.next(), group.jobId(), failure.getMessage());
    if (group.size() > 2) {
      transport.abort(group.previous(), group.jobId(), failure.getMessage());
    }
    return failure;
  }

  private static long segLengthOfPrevious(TensorHeader header) {
    long[] shape = header.shape();
    return shape.length == 1 ? shape[0] : -1;
  }

  private static ByteBuffer encoded(
      ByteBuffer values, int count, int d, int seg, Compression compression, ByteBuffer scratch) {
    int start = segmentStart(count, d, seg);
    int length = segLength(count, d, seg);
    if (compression == Compression.NONE) {
      return values.slice(4 * start, 4 * length).order(ByteOrder.LITTLE_ENDIAN);
    }
    int bytes = compression.encode(values, 4 * start, length, scratch);
    return scratch.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear().limit(bytes);
  }

  static int segmentStart(int count, int d, int seg) {
    return (int) ((long) seg * count / d);
  }

  static int segLength(int count, int d, int seg) {
    return segmentStart(count, d, seg + 1) - segmentStart(count, d, seg);
  }
}
