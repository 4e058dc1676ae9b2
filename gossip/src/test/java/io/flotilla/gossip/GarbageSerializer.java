package io.flotilla.gossip;

import io.flotilla.protocol.serialization.FlotillaKryoSerializer;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * A sender-side stand-in for the Kryo serializer, with its identifier: it writes a {@link Garbage}
 * message's chosen manifest and bytes verbatim, so the receiver's real serializer sees them as if a
 * hostile or broken peer had sent them. Every other message is encoded by the real serializer.
 */
public final class GarbageSerializer extends SerializerWithStringManifest {

  /** Bytes to put on the wire as they are, under {@code manifest}. */
  public record Garbage(String manifest, byte[] bytes) {}

  private final FlotillaKryoSerializer real;

  /** Called reflectively by Pekko. */
  public GarbageSerializer(ExtendedActorSystem system) {
    this.real = new FlotillaKryoSerializer(system);
  }

  @Override
  public int identifier() {
    return FlotillaKryoSerializer.IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return o instanceof Garbage g ? g.manifest() : real.manifest(o);
  }

  @Override
  public byte[] toBinary(Object o) {
    return o instanceof Garbage g ? g.bytes() : real.toBinary(o);
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws java.io.NotSerializableException {
    return real.fromBinary(bytes, manifest);
  }
}
