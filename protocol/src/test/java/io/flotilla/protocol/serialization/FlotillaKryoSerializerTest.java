package io.flotilla.protocol.serialization;

import static io.flotilla.protocol.testing.SerializationAssertions.assertEveryMessageHasSample;
import static io.flotilla.protocol.testing.SerializationAssertions.assertRoundTrips;
import static io.flotilla.protocol.testing.SerializationAssertions.kryo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.io.Output;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.protocol.worker.GpuInfo;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.io.NotSerializableException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class FlotillaKryoSerializerTest {

  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  static final List<Object> SAMPLES =
      List.of(
          new GpuInfo("NVIDIA H100 80GB HBM3", 80L << 30, 51.2),
          new DataPlaneEndpoint("127.0.0.1", 40123, 32 * 1024, 1001),
          new WorkerCapabilities(
              "w-1",
              "pekko://flotilla@127.0.0.1:2552",
              8,
              16L << 30,
              new GpuInfo("RTX 4090", 24L << 30, 80.0),
              120.5,
              "cuda",
              new DataPlaneEndpoint("10.0.0.2", 40124, 0, 1001),
              "0x00000000000000000000000000000000000000aa",
              Map.of("region", "eu-west", "owner", "alice"),
              1_700_000_000_000L),
          new WorkerCapabilities(
              "w-2", "pekko://flotilla@h:1", 1, 0, null, 0, "cpu", null, null, null, 0));

  private final FlotillaKryoSerializer serializer = kryo(kit.system());

  @Test
  void everyProtocolMessageRoundTrips() {
    for (Object sample : SAMPLES) {
      assertRoundTrips(kit.system(), sample);
    }
    assertEveryMessageHasSample(
        kit.system(),
        SAMPLES,
        // Packages with messages of their own (job, identity, task) have dedicated sample tests.
        c ->
            c.getPackageName().equals("io.flotilla.protocol")
                || c.getPackageName().equals("io.flotilla.protocol.worker"));
  }

  @Test
  void messagesSentBetweenActorsAreSerialized() {
    // application-test.conf turns serialize-messages on: the probe receives a deserialized copy.
    var probe = kit.<Object>createTestProbe();
    probe.ref().tell(SAMPLES.get(2));
    Object received = probe.receiveMessage();
    assertThat(received).isEqualTo(SAMPLES.get(2)).isNotSameAs(SAMPLES.get(2));
  }

  @Test
  void actorReferencesInsideMessagesResolveBack() {
    var probe = kit.<String>createTestProbe();
    var list = List.of(probe.ref());
    byte[] bytes = serializer.toBinary(list);
    Object back = fromBinary(bytes, serializer.manifest(list));
    assertThat(back).isEqualTo(list);
  }

  @Test
  void unregisteredClassesFailAtTheSender() {
    record Unregistered(int x) implements io.flotilla.protocol.ControlMessage {}
    assertThatThrownBy(() -> serializer.manifest(new Unregistered(1)))
        .hasMessageContaining("no KryoRegistrar registers it");
  }

  @Test
  void truncatedBytesAreRejected() throws Exception {
    Object message = SAMPLES.get(2);
    byte[] bytes = serializer.toBinary(message);
    String manifest = serializer.manifest(message);
    for (int length = 0; length < bytes.length; length++) {
      byte[] truncated = Arrays.copyOf(bytes, length);
      assertThatThrownBy(() -> serializer.fromBinary(truncated, manifest))
          .as("prefix of %d bytes", length)
          .isInstanceOf(NotSerializableException.class);
    }
  }

  @Test
  void trailingBytesAreRejected() {
    Object message = SAMPLES.get(0);
    byte[] bytes =
        Arrays.copyOf(serializer.toBinary(message), serializer.toBinary(message).length + 3);
    assertThatThrownBy(() -> serializer.fromBinary(bytes, serializer.manifest(message)))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining("trailing bytes");
  }

  @Test
  void unknownClassIdsAreRejectedAndLogged() {
    LoggingTestKit.error("Rejected a control message")
        .withMessageContains("unknown class id 99999")
        .expect(
            kit.system(),
            () -> {
              assertThatThrownBy(() -> serializer.fromBinary(new byte[] {1, 2, 3}, "99999"))
                  .isInstanceOf(NotSerializableException.class);
              return null;
            });
    assertThatThrownBy(() -> serializer.fromBinary(new byte[] {1}, "not-a-number"))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining("not a class id");
    // Ids below the user range are Kryo's primitives: never a message.
    assertThatThrownBy(() -> serializer.fromBinary(new byte[] {1}, "1"))
        .isInstanceOf(NotSerializableException.class);
  }

  @Test
  void hugeLengthPrefixesAreRejectedBeforeAllocating() {
    // DataPlaneEndpoint's first component (Kryo orders them by name) is the host string.
    String endpointManifest = serializer.manifest(SAMPLES.get(1));
    // A UTF-8 string header claiming ~2^27 characters, in a 6-byte message.
    byte[] hugeString = {(byte) 0xC0 | 0x3F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F, 'x'};
    assertThatThrownBy(() -> serializer.fromBinary(hugeString, endpointManifest))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining("remain in the message");

    // A list claiming 2^31-1 elements.
    Output out = new Output(16);
    out.writeVarInt(Integer.MAX_VALUE, true);
    byte[] hugeList = out.toBytes();
    assertThatThrownBy(
            () -> serializer.fromBinary(hugeList, serializer.manifest(new java.util.ArrayList<>())))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining("claims 2147483647 elements");

    // A float array claiming a billion floats.
    Output floats = new Output(16);
    floats.writeVarInt(1_000_000_001, true);
    byte[] hugeFloats = floats.toBytes();
    assertThatThrownBy(() -> serializer.fromBinary(hugeFloats, serializer.manifest(new float[0])))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining("float array claims");
  }

  @Test
  void valuesAMessageForbidsAreRejected() {
    // Encodings of memoryBytes 5 and 6 differ in one byte; Kryo writes longs as zig-zag varints,
    // so writing zig-zag(-5) = 9 there yields a GpuInfo with negative memory, which the record's
    // constructor refuses during decoding.
    byte[] five = serializer.toBinary(new GpuInfo("card", 5, 1.0));
    byte[] six = serializer.toBinary(new GpuInfo("card", 6, 1.0));
    int at = Arrays.mismatch(five, six);
    assertThat(five[at]).isEqualTo((byte) 10);
    five[at] = 9;
    String manifest = serializer.manifest(SAMPLES.get(0));
    assertThatThrownBy(() -> serializer.fromBinary(five, manifest))
        .isInstanceOf(NotSerializableException.class)
        .hasMessageContaining("memoryBytes must be >= 0");
  }

  @Test
  void randomBytesNeverEscapeAsAnythingButRejection() {
    SplittableRandom random = new SplittableRandom(42);
    List<String> manifests =
        serializer.registrations().entries().keySet().stream().map(String::valueOf).toList();
    int accepted = 0;
    for (int i = 0; i < 5_000; i++) {
      byte[] bytes = new byte[random.nextInt(0, 64)];
      for (int j = 0; j < bytes.length; j++) {
        bytes[j] = (byte) random.nextInt(256);
      }
      String manifest = manifests.get(random.nextInt(manifests.size()));
      try {
        serializer.fromBinary(bytes, manifest);
        accepted++; // some random bytes are a valid encoding (e.g. a short int array); fine
      } catch (NotSerializableException expected) {
        // the only allowed failure
      }
    }
    assertThat(accepted).isLessThan(5_000);
  }

  private Object fromBinary(byte[] bytes, String manifest) {
    try {
      return serializer.fromBinary(bytes, manifest);
    } catch (NotSerializableException e) {
      throw new AssertionError(e);
    }
  }
}
