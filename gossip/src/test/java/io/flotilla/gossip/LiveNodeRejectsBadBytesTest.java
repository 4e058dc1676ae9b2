package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.io.Output;
import com.typesafe.config.Config;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.serialization.FlotillaKryoSerializer;
import io.flotilla.protocol.testing.SerializationAssertions;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real node receives, over Artery TCP on loopback, bytes tagged with the Kryo serializer's id
 * that do not decode. It must log each rejection, stay up, and deliver a valid message afterwards.
 */
@ExtendWith(LogCapturingExtension.class)
class LiveNodeRejectsBadBytesTest {

  private FlotillaNode receiver;
  private FlotillaNode sender;

  @AfterEach
  void stop() {
    if (sender != null) {
      sender.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  @Test
  void badBytesAreRejectedAndTheNodeKeepsDeliveringValidMessages() throws Exception {
    receiver = FlotillaNode.start(GossipTesting.seed());
    Config senderConfig =
        NodeConfig.overrides()
            .roles(List.of(NodeRole.WORKER))
            .seeds(List.of(new SeedAddress("127.0.0.1", receiver.port())))
            .set("pekko.actor.serializers.flotilla-kryo", GarbageSerializer.class.getName())
            .set(
                "pekko.actor.serialization-identifiers.\""
                    + GarbageSerializer.class.getName()
                    + "\"",
                FlotillaKryoSerializer.IDENTIFIER)
            .set(
                "pekko.actor.serialization-bindings.\""
                    + GarbageSerializer.Garbage.class.getName()
                    + "\"",
                "flotilla-kryo")
            .over(GossipTesting.base());
    sender = FlotillaNode.start(senderConfig);
    assertThat(receiver.awaitUp(Duration.ofSeconds(20))).isTrue();
    assertThat(sender.awaitUp(Duration.ofSeconds(20))).isTrue();

    TestProbe<Object> inbox = TestProbe.create(receiver.system());
    String path = ActorRefResolver.get(receiver.system()).toSerializationFormat(inbox.ref());
    ActorRef<Object> remoteInbox = ActorRefResolver.get(sender.system()).resolveActorRef(path);

    FlotillaKryoSerializer kryo = SerializationAssertions.kryo(receiver.system());
    WorkerCapabilities valid =
        new WorkerCapabilities(
            "w-valid",
            "pekko://flotilla@127.0.0.1:1",
            4,
            1L << 30,
            null,
            10.0,
            "cpu",
            null,
            null,
            Map.of("region", "lab"),
            1L);
    byte[] validBytes = kryo.toBinary(valid);
    String capsManifest = kryo.manifest(valid);
    byte[] random = new byte[48];
    new Random(42).nextBytes(random);
    Output hugeList = new Output(16);
    hugeList.writeVarInt(Integer.MAX_VALUE, true);
    List<GarbageSerializer.Garbage> garbage =
        List.of(
            new GarbageSerializer.Garbage(
                capsManifest, Arrays.copyOf(validBytes, validBytes.length / 2)),
            new GarbageSerializer.Garbage(capsManifest, random),
            new GarbageSerializer.Garbage("99999", new byte[] {1, 2, 3}),
            new GarbageSerializer.Garbage(
                kryo.manifest(new java.util.ArrayList<>()), hugeList.toBytes()));

    LoggingTestKit.error("Rejected a control message")
        .withOccurrences(garbage.size())
        .expect(
            receiver.system(),
            () -> {
              garbage.forEach(remoteInbox::tell);
              return null;
            });

    remoteInbox.tell(valid);
    assertThat(inbox.receiveMessage(Duration.ofSeconds(10))).isEqualTo(valid);
    inbox.expectNoMessage(Duration.ofMillis(200));
    assertThat(receiver.isUp()).isTrue();
    assertThat(sender.isUp()).isTrue();
  }
}
