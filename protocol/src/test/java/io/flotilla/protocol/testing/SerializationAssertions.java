package io.flotilla.protocol.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.serialization.FlotillaKryoSerializer;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/** Assertions every module uses to prove its control messages survive the wire. */
public final class SerializationAssertions {

  private SerializationAssertions() {}

  /** The Kryo serializer of {@code system}. */
  public static FlotillaKryoSerializer kryo(ActorSystem<?> system) {
    Serialization serialization = SerializationExtension.get(system);
    return (FlotillaKryoSerializer)
        serialization.serializerByIdentity().apply(FlotillaKryoSerializer.IDENTIFIER);
  }

  /**
   * Serializes {@code message} through Pekko's serialization (so the binding to the Kryo serializer
   * is checked too), deserializes it, and asserts the result equals the original.
   */
  public static void assertRoundTrips(ActorSystem<?> system, Object message) {
    Serialization serialization = SerializationExtension.get(system);
    Serializer serializer = serialization.findSerializerFor(message);
    assertThat(serializer.identifier())
        .as("serializer bound to %s", message.getClass().getName())
        .isEqualTo(FlotillaKryoSerializer.IDENTIFIER);
    String manifest = Serializers.manifestFor(serializer, message);
    byte[] bytes = serializer.toBinary(message);
    Object back = serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    assertThat(back).as("round trip of %s", message.getClass().getName()).isEqualTo(message);
  }

  /**
   * Asserts that every registered {@link ControlMessage} class selected by {@code owned} (usually:
   * in this module's package) appears among {@code samples}, so a message added without a
   * round-trip sample fails the build.
   */
  public static void assertEveryMessageHasSample(
      ActorSystem<?> system, Collection<?> samples, Predicate<Class<?>> owned) {
    Set<String> sampled = new TreeSet<>();
    for (Object sample : samples) {
      sampled.add(sample.getClass().getName());
    }
    Set<String> missing = new TreeSet<>();
    for (var entry : kryo(system).registrations().entries().values()) {
      Class<?> type = entry.type();
      if (ControlMessage.class.isAssignableFrom(type)
          && !type.isInterface()
          && owned.test(type)
          && !sampled.contains(type.getName())) {
        missing.add(type.getName());
      }
    }
    assertThat(missing).as("registered control messages without a round-trip sample").isEmpty();
  }
}
