package io.flotilla.worker.collective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.worker.transport.DataPlaneDriver;
import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.DataPlaneSettings;
import io.flotilla.worker.transport.TensorDtype;
import io.flotilla.worker.transport.TensorHeader;
import io.flotilla.worker.transport.TensorKind;
import io.flotilla.worker.transport.TensorTransport;
import io.flotilla.worker.transport.TestingTensors;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replicas in one JVM, each with its own transport on its own UDP port of one media driver, so
 * every segment really crosses loopback UDP.
 */
@ExtendWith(LogCapturingExtension.class)
class RingAllReduceTest {
  // Generous: eight replicas share two cores in CI; a round that waits this long is a failure.
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final long HANG_GUARD_S = 120;

  private DataPlaneDriver driver;
  private final List<TensorTransport> transports = new ArrayList<>();
  private ExecutorService pool;

  @BeforeEach
  void start() {
    driver = DataPlaneDriver.launch(DataPlaneSettings.loopback(TIMEOUT));
    pool = Executors.newCachedThreadPool();
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
    transports.forEach(TensorTransport::close);
    driver.close();
  }

  private List<ReplicaGroup> group(int d) {
    List<DataPlanePeer> members = new ArrayList<>();
    for (int r = 0; r < d; r++) {
      TensorTransport t = TensorTransport.start(driver, "replica-" + r, 3000 + r);
      transports.add(t);
      members.add(t.udpPeer());
    }
    List<ReplicaGroup> groups = new ArrayList<>();
    for (int r = 0; r < d; r++) {
      groups.add(new ReplicaGroup("job-ar", 2, members, r));
    }
    return groups;
  }

  private List<ByteBuffer> runAllReduce(
      List<ReplicaGroup> groups, int count, Compression compression, List<ByteBuffer> inputs)
      throws Exception {
    List<ByteBuffer> buffers = new ArrayList<>();
    List<CompletableFuture<Void>> runs = new ArrayList<>();
    for (int r = 0; r < groups.size(); r++) {
      ByteBuffer copy = ByteBuffer.allocateDirect(4 * count).order(inputs.get(r).order());
      copy.put(inputs.get(r).duplicate()).clear();
      buffers.add(copy);
      ReplicaGroup g = groups.get(r);
      RingAllReduce op = new RingAllReduce(transports.get(r), TIMEOUT);
      runs.add(CompletableFuture.runAsync(() -> op.allReduce(g, 7, 0, copy, compression), pool));
    }
    for (CompletableFuture<Void> run : runs) {
      run.get(HANG_GUARD_S, TimeUnit.SECONDS);
    }
    return buffers;
  }

  private static List<ByteBuffer> inputs(int d, int count) {
    List<ByteBuffer> inputs = new ArrayList<>();
    for (int r = 0; r < d; r++) {
      inputs.add(TestingTensors.randomFloats(count, 100 + r));
    }
    return inputs;
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 4, 8})
  void sumsExactlyWithinFloatToleranceAndAllReplicasAgree(int d) throws Exception {
    int count = 250_003; // not a multiple of d: segments of unequal length
    List<ByteBuffer> inputs = inputs(d, count);
    List<ByteBuffer> results = runAllReduce(group(d), count, Compression.NONE, inputs);
    for (int i = 0; i < count; i++) {
      double expected = 0;
      for (ByteBuffer in : inputs) {
        expected += in.getFloat(4 * i);
      }
      float got = results.get(0).getFloat(4 * i);
      assertThat((double) got).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5 * d));
    }
    for (ByteBuffer other : results.subList(1, d)) {
      assertThat(other.mismatch(results.get(0))).as("replicas hold identical sums").isEqualTo(-1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"BF16", "INT8"})
  void compressedAllReduceStaysWithinTheDocumentedBound(String name) throws Exception {
    Compression compression = Compression.valueOf(name);
    int d = 4;
    int count = 100_000;
    List<ByteBuffer> inputs = inputs(d, count);
    List<ByteBuffer> results = runAllReduce(group(d), count, compression, inputs);
    // Bounds from docs/data-plane.md: D quantisations, each at most 2^-8 relative (bf16, taking
    // the sum of magnitudes) or max|partial sum|/254 of its block (int8, max <= sum of maxima).
    double sumOfMaxima = d; // inputs are in [-1, 1)
    double worst = 0;
    for (int i = 0; i < count; i++) {
      double expected = 0;
      double magnitude = 0;
      for (ByteBuffer in : inputs) {
        expected += in.getFloat(4 * i);
        magnitude += Math.abs(in.getFloat(4 * i));
      }
      double error = Math.abs(results.get(0).getFloat(4 * i) - expected);
      double bound =
          compression == Compression.BF16
              ? d * magnitude / 256 + 1e-6
              : d * sumOfMaxima / 254 + 1e-6;
      assertThat(error).isLessThanOrEqualTo(bound);
      worst = Math.max(worst, error);
    }
    assertThat(worst).as("compression really rounded something").isPositive();
    for (ByteBuffer other : results.subList(1, d)) {
      assertThat(other.mismatch(results.get(0))).isEqualTo(-1);
    }
  }

  @Test
  void aReplicaKilledMidAllReduceMakesTheOthersFailNamingIt() throws Exception {
    int d = 3;
    int count = 1_000_000;
    List<ReplicaGroup> groups = group(d);
    List<ByteBuffer> inputs = inputs(d, count);
    List<CompletableFuture<Void>> runs = new ArrayList<>();
    for (int r = 0; r < d; r++) {
      TensorTransport transport = transports.get(r);
      // Replica 2 dies as soon as it has finished its first reduce-scatter round.
      IntConsumer listener = r == 2 ? round -> transport.close() : round -> {};
      RingAllReduce op = new RingAllReduce(transport, TIMEOUT, listener);
      ReplicaGroup g = groups.get(r);
      ByteBuffer data = inputs.get(r);
      runs.add(
          CompletableFuture.runAsync(() -> op.allReduce(g, 9, 0, data, Compression.NONE), pool));
    }
    for (int r = 0; r < 2; r++) {
      CompletableFuture<Void> run = runs.get(r);
      assertThatThrownBy(() -> run.get(HANG_GUARD_S, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(CollectiveException.class)
          .hasMessageContaining("replica-2")
          .hasMessageContaining("round");
    }
  }

  @Test
  void broadcastsParametersFromTheRootToEveryReplica() throws Exception {
    int d = 3;
    List<ReplicaGroup> groups = group(d);
    int bytes = 3 * 1024 * 1024 + 8;
    ByteBuffer parameters = TestingTensors.randomFloats(bytes / 4, 5);
    TensorHeader header =
        new TensorHeader(
            "job-ar", 0, 0, 2, TensorKind.PARAMETERS, TensorDtype.FLOAT32, new long[] {bytes / 4});
    List<ByteBuffer> buffers = new ArrayList<>();
    List<CompletableFuture<Void>> runs = new ArrayList<>();
    for (int r = 0; r < d; r++) {
      ByteBuffer buffer = r == 1 ? parameters : ByteBuffer.allocateDirect(bytes);
      buffers.add(buffer);
      ParameterBroadcast op = new ParameterBroadcast(transports.get(r), TIMEOUT);
      ReplicaGroup g = groups.get(r);
      runs.add(CompletableFuture.runAsync(() -> op.broadcast(g, 1, header, buffer), pool));
    }
    for (CompletableFuture<Void> run : runs) {
      run.get(HANG_GUARD_S, TimeUnit.SECONDS);
    }
    for (ByteBuffer buffer : buffers) {
      assertThat(buffer.mismatch(parameters)).isEqualTo(-1);
    }
  }
}
