package io.flotilla.worker.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.worker.DataPlaneEndpoint;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LogCapturingExtension.class)
class TensorTransportTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  /** Guards against a hang; never a timing assertion. */
  private static final long HANG_GUARD_S = 120;

  private static TensorTransport udpA;
  private static TensorTransport udpB;
  private static DataPlaneDriver sharedDriver;
  private static TensorTransport ipcA;
  private static TensorTransport ipcB;

  @BeforeAll
  static void start() {
    udpA = TensorTransport.launch(DataPlaneSettings.loopback(TIMEOUT), "worker-a");
    udpB = TensorTransport.launch(DataPlaneSettings.loopback(TIMEOUT), "worker-b");
    sharedDriver = DataPlaneDriver.launch(DataPlaneSettings.loopback(TIMEOUT));
    ipcA = TensorTransport.start(sharedDriver, "worker-c", 2001);
    ipcB = TensorTransport.start(sharedDriver, "worker-d", 2002);
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {udpA, udpB, ipcA, ipcB, sharedDriver}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 7, 32 * 1024 - 48, 64 * 1024 + 3, 5 * 1024 * 1024 + 1, 80 * 1024 * 1024})
  void deliversTensorsExactlyOverUdp(int bytes) throws Exception {
    assertExactDelivery(udpA, udpB, udpB.udpPeer(), bytes, "udp-" + bytes);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 7, 64 * 1024 + 3, 5 * 1024 * 1024 + 1, 80 * 1024 * 1024})
  void deliversTensorsExactlyOverIpc(int bytes) throws Exception {
    assertExactDelivery(ipcA, ipcB, ipcB.ipcPeer(), bytes, "ipc-" + bytes);
  }

  static void assertExactDelivery(
      TensorTransport from, TensorTransport to, DataPlanePeer target, int bytes, String job)
      throws Exception {
    ByteBuffer payload = TestingTensors.randomBytes(bytes, bytes);
    TensorHeader header =
        new TensorHeader(
            job, 42, 3, 1, TensorKind.ACTIVATION, TensorDtype.UINT8, new long[] {1, bytes});
    CompletableFuture<ReceivedTensor> received =
        to.receive(header.keyFrom(from.workerId()), Duration.ofSeconds(30));
    from.send(target, header, payload).get(HANG_GUARD_S, TimeUnit.SECONDS);
    ReceivedTensor tensor = received.get(HANG_GUARD_S, TimeUnit.SECONDS);

    assertThat(tensor.header()).isEqualTo(header);
    assertThat(tensor.sourceWorkerId()).isEqualTo(from.workerId());
    assertThat(tensor.checksum()).isEqualTo(TestingTensors.crc32c(payload));
    assertThat(tensor.payload().remaining()).isEqualTo(bytes);
    assertThat(tensor.payload().mismatch(payload)).isEqualTo(-1);
  }

  @Test
  void aReleasedTensorsBufferCarriesTheNextTensorOfItsSizeExactly() throws Exception {
    int bytes = 3 * 1024 * 1024 + 5;
    ByteBuffer first = TestingTensors.randomBytes(bytes, 11);
    ByteBuffer second = TestingTensors.randomBytes(bytes, 12);
    TensorHeader h1 = TestingTensors.bytesHeader("reuse", 1, TensorKind.ACTIVATION, bytes);
    TensorHeader h2 = TestingTensors.bytesHeader("reuse", 2, TensorKind.ACTIVATION, bytes);

    udpA.send(udpB.udpPeer(), h1, first).get(HANG_GUARD_S, TimeUnit.SECONDS);
    ReceivedTensor got1 =
        udpB.receive(h1.keyFrom("worker-a"), TIMEOUT).get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertThat(got1.payload().mismatch(first)).isEqualTo(-1);
    ByteBuffer firstBuffer = got1.payload();
    got1.release();
    got1.release();

    udpA.send(udpB.udpPeer(), h2, second).get(HANG_GUARD_S, TimeUnit.SECONDS);
    ReceivedTensor got2 =
        udpB.receive(h2.keyFrom("worker-a"), TIMEOUT).get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertThat(got2.payload()).isSameAs(firstBuffer);
    assertThat(got2.payload().remaining()).isEqualTo(bytes);
    assertThat(got2.payload().mismatch(second)).isEqualTo(-1);
    assertThat(got2.checksum()).isEqualTo(TestingTensors.crc32c(second));
  }

  @Test
  void receiveAfterArrivalAndKeysKeepTensorsApart() throws Exception {
    TensorHeader activation = TestingTensors.bytesHeader("keys", 1, TensorKind.ACTIVATION, 1000);
    TensorHeader gradient = TestingTensors.bytesHeader("keys", 1, TensorKind.GRADIENT, 1000);
    ByteBuffer a = TestingTensors.randomBytes(1000, 1);
    ByteBuffer g = TestingTensors.randomBytes(1000, 2);
    long sentBytes = udpA.sentBytes();
    long sentTensors = udpA.sentTensors();
    long receivedBytes = udpB.receivedBytes();
    long receivedTensors = udpB.receivedTensors();
    udpA.send(udpB.udpPeer(), gradient, g).get(HANG_GUARD_S, TimeUnit.SECONDS);
    udpA.send(udpB.udpPeer(), activation, a).get(HANG_GUARD_S, TimeUnit.SECONDS);
    // The send counters move when the frames are in the publication.
    assertThat(udpA.sentBytes()).isEqualTo(sentBytes + 2000);
    assertThat(udpA.sentTensors()).isEqualTo(sentTensors + 2);

    ReceivedTensor gotActivation =
        udpB.receive(activation.keyFrom("worker-a"), TIMEOUT).get(HANG_GUARD_S, TimeUnit.SECONDS);
    ReceivedTensor gotGradient =
        udpB.receive(gradient.keyFrom("worker-a"), TIMEOUT).get(HANG_GUARD_S, TimeUnit.SECONDS);
    assertThat(gotActivation.payload().mismatch(a)).isEqualTo(-1);
    assertThat(gotGradient.payload().mismatch(g)).isEqualTo(-1);
    assertThat(udpB.receivedBytes()).isEqualTo(receivedBytes + 2000);
    assertThat(udpB.receivedTensors()).isEqualTo(receivedTensors + 2);
  }

  @Test
  void rejectsATensorWhoseChecksumDoesNotMatch() throws Exception {
    TensorHeader header = TestingTensors.bytesHeader("corrupt", 1, TensorKind.GRADIENT, 100_000);
    long rejectedBefore = udpB.rejectedTensors();
    CompletableFuture<ReceivedTensor> received =
        udpB.receive(header.keyFrom("worker-a"), Duration.ofSeconds(30));
    udpA.send(udpB.udpPeer(), header, TestingTensors.randomBytes(100_000, 9), true)
        .get(HANG_GUARD_S, TimeUnit.SECONDS);

    assertThatThrownBy(() -> received.get(HANG_GUARD_S, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(TensorCorruptedException.class)
        .hasMessageContaining("worker-a")
        .hasMessageContaining("checksum mismatch");
    assertThat(udpB.rejectedTensors()).isEqualTo(rejectedBefore + 1);
  }

  @Test
  void sendToAPeerThatIsNotThereFailsNamingIt() {
    DataPlanePeer ghost =
        DataPlanePeer.udp(
            "ghost-worker", new DataPlaneEndpoint("127.0.0.1", 9, 32 * 1024, 1001), 1001);
    CompletableFuture<Void> sent =
        udpA.send(
            ghost,
            TestingTensors.bytesHeader("ghost", 1, TensorKind.ACTIVATION, 10),
            TestingTensors.randomBytes(10, 1));
    assertThatThrownBy(() -> sent.get(HANG_GUARD_S, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(PeerUnavailableException.class)
        .hasMessageContaining("ghost-worker")
        .hasMessageContaining("127.0.0.1:9");
  }

  @Test
  void receiveFromAPeerThatSendsNothingFailsNamingIt() {
    TensorKey key =
        TestingTensors.bytesHeader("silent", 1, TensorKind.ACTIVATION, 10).keyFrom("silent-peer");
    assertThatThrownBy(() -> udpB.receive(key, TIMEOUT).get(HANG_GUARD_S, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(PeerUnavailableException.class)
        .hasMessageContaining("silent-peer");
  }

  @Test
  void hostileFramesAreRejectedAndTheReceiverKeepsWorking() throws Exception {
    long rejectedBefore = udpB.rejectedTensors();
    try (DataPlaneDriver attacker = DataPlaneDriver.launch(DataPlaneSettings.loopback(TIMEOUT));
        var publication = attacker.aeron().addPublication(udpB.endpoint().aeronChannel(), 1001)) {
      var buffer = new org.agrona.concurrent.UnsafeBuffer(new byte[256]);
      // A frame too short to be one, an unknown type, and a BEGIN announcing 1 TiB.
      buffer.putInt(0, 77);
      offer(publication, buffer, 5);
      buffer.putInt(0, 99);
      offer(publication, buffer, 16);
      TensorHeader header = TestingTensors.bytesHeader("hostile", 1, TensorKind.ACTIVATION, 8);
      byte[] job = "hostile".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      byte[] source = "mallory".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      int length = TensorFrames.encodeBegin(buffer, 0, 1, 1L << 40, 1000, header, job, source);
      offer(publication, buffer, length);

      TensorKey key = header.keyFrom("mallory");
      assertThatThrownBy(() -> udpB.receive(key, TIMEOUT).get(HANG_GUARD_S, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(TensorCorruptedException.class)
          .hasMessageContaining("mallory");
    }
    assertThat(udpB.rejectedTensors()).isGreaterThanOrEqualTo(rejectedBefore + 3);
    assertExactDelivery(udpA, udpB, udpB.udpPeer(), 1234, "after-hostile");
  }

  private static void offer(
      io.aeron.Publication publication, org.agrona.DirectBuffer buffer, int length) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_GUARD_S);
    while (publication.offer(buffer, 0, length) < 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("could not offer to " + publication.channel());
      }
      Thread.onSpinWait();
    }
  }

  @Test
  void aPayloadThatDoesNotMatchTheHeaderIsRefusedBeforeSending() {
    TensorHeader header =
        new TensorHeader(
            "bad", 1, 0, 0, TensorKind.ACTIVATION, TensorDtype.FLOAT32, new long[] {10});
    assertThatThrownBy(
            () ->
                udpA.send(udpB.udpPeer(), header, TestingTensors.randomBytes(39, 1))
                    .get(HANG_GUARD_S, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("39 bytes");
  }
}
