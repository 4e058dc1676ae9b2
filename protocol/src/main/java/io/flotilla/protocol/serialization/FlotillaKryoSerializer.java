package io.flotilla.protocol.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import com.typesafe.config.Config;
import java.io.NotSerializableException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pekko serializer for every {@link io.flotilla.protocol.ControlMessage}, built on Kryo 5 with
 * registration required.
 *
 * <p>The manifest is the class's registered id; the payload is Kryo's encoding of the object.
 * Decoding treats the bytes as hostile: an unknown id, truncated or trailing bytes, lengths larger
 * than the message, objects nested deeper than {@code max-depth} or values that a message's own
 * constructor rejects all end in a logged error and a {@link NotSerializableException}, which makes
 * Pekko drop that one message. No decoding failure can stop a node.
 */
public final class FlotillaKryoSerializer extends SerializerWithStringManifest {

  /** Pekko serializer id; part of the wire format. */
  public static final int IDENTIFIER = 741_001;

  private static final Logger log = LoggerFactory.getLogger(FlotillaKryoSerializer.class);
  private static final int LOGGED_PREFIX_BYTES = 32;
  private static final byte[] EMPTY = new byte[0];

  private final KryoRegistrations registrations;
  private final SerializerContext context;
  private final int maxMessageBytes;
  private final int maxDepth;
  private final Pool<Codec> pool;

  /** Output buffers larger than this are not kept for the next message. */
  private static final int KEPT_OUTPUT_BYTES = 64 * 1024;

  /**
   * A Kryo instance with the output and input it writes and reads with, pooled together so that a
   * message costs no buffer allocations beyond its own bytes.
   */
  private static final class Codec {
    final Kryo kryo;
    final Output output;
    final BoundedInput input = new BoundedInput();

    Codec(Kryo kryo, int maxMessageBytes) {
      this.kryo = kryo;
      this.output = new Output(256, maxMessageBytes);
    }
  }

  /** Called reflectively by Pekko. */
  public FlotillaKryoSerializer(ExtendedActorSystem system) {
    Config config = system.settings().config().getConfig("flotilla.serialization");
    this.registrations = loadRegistrations(config.getConfig("registrars"));
    this.context = new SerializerContext(ActorRefResolver.get(Adapter.toTyped(system)));
    this.maxMessageBytes = Math.toIntExact(config.getBytes("max-message-size"));
    this.maxDepth = config.getInt("max-depth");
    this.pool =
        new Pool<>(true, false, 16) {
          @Override
          protected Codec create() {
            return new Codec(newKryo(), maxMessageBytes);
          }
        };
  }

  /**
   * Builds the registry from a config object whose values are {@link KryoRegistrar} class names.
   * Registrars run in key order; ids, not order, decide the wire format.
   */
  static KryoRegistrations loadRegistrations(Config registrars) {
    KryoRegistrations registrations = new KryoRegistrations();
    Map<String, String> sorted = new TreeMap<>();
    registrars.root().unwrapped().forEach((k, v) -> sorted.put(k, String.valueOf(v)));
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      try {
        KryoRegistrar registrar =
            Class.forName(e.getValue())
                .asSubclass(KryoRegistrar.class)
                .getDeclaredConstructor()
                .newInstance();
        registrar.register(registrations);
      } catch (ReflectiveOperationException | ClassCastException ex) {
        throw new IllegalStateException(
            "flotilla.serialization.registrars."
                + e.getKey()
                + " = "
                + e.getValue()
                + " is not a KryoRegistrar with a public no-argument constructor",
            ex);
      }
    }
    return registrations;
  }

  private Kryo newKryo() {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    kryo.setMaxDepth(maxDepth);
    for (KryoRegistrations.Entry entry : registrations.entries().values()) {
      if (entry.serializer() == null) {
        kryo.register(entry.type(), entry.id());
      } else {
        Serializer<?> serializer = entry.serializer().apply(context);
        kryo.register(entry.type(), serializer, entry.id());
      }
    }
    return kryo;
  }

  /** The registrations this serializer uses (for tests that check coverage). */
  public KryoRegistrations registrations() {
    return registrations;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object message) {
    Integer id = registrations.idOf(message.getClass());
    if (id == null) {
      throw new IllegalArgumentException(
          message.getClass().getName()
              + " implements ControlMessage but no KryoRegistrar registers it");
    }
    return Integer.toString(id);
  }

  @Override
  public byte[] toBinary(Object message) {
    Codec codec = pool.obtain();
    Output output = codec.output;
    try {
      codec.kryo.writeObject(output, message);
      return output.toBytes();
    } catch (com.esotericsoftware.kryo.io.KryoBufferOverflowException e) {
      throw new IllegalArgumentException(
          message.getClass().getName()
              + " is larger than flotilla.serialization.max-message-size ("
              + maxMessageBytes
              + " bytes); tensors travel on the data plane, not in control messages",
          e);
    } finally {
      if (output.getBuffer().length > KEPT_OUTPUT_BYTES) {
        output.setBuffer(new byte[256], maxMessageBytes);
      } else {
        output.reset();
      }
      pool.free(codec);
    }
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    Class<?> type = null;
    Codec codec = pool.obtain();
    BoundedInput input = codec.input;
    try {
      type = classFor(codec.kryo, manifest);
      if (bytes.length > maxMessageBytes) {
        throw new IllegalArgumentException(
            bytes.length + " bytes exceed the limit of " + maxMessageBytes);
      }
      input.setBuffer(bytes);
      Object message = codec.kryo.readObject(input, type);
      if (input.remaining() != 0) {
        throw new IllegalArgumentException(input.remaining() + " trailing bytes after the message");
      }
      return message;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      // A hostile message may fail anywhere inside Kryo or a record's constructor; none of those
      // failures may escape as anything but "this message is rejected".
      String reason = rootReason(e);
      log.error(
          "Rejected a control message: manifest={} ({}), {} bytes starting {}: {}",
          manifest,
          type == null ? "unknown class" : type.getName(),
          bytes.length,
          HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, LOGGED_PREFIX_BYTES)),
          reason);
      NotSerializableException rejected =
          new NotSerializableException(
              "rejected control message (manifest " + manifest + "): " + reason);
      rejected.initCause(e);
      throw rejected;
    } finally {
      input.setBuffer(EMPTY);
      pool.free(codec);
    }
  }

  /** The innermost message in a cause chain: what a record's constructor or Kryo objected to. */
  private static String rootReason(Throwable e) {
    String reason = e.getClass().getSimpleName();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !(t instanceof java.lang.reflect.InvocationTargetException)) {
        reason = t.getMessage().lines().findFirst().orElse(reason);
      }
    }
    return reason;
  }

  private static Class<?> classFor(Kryo kryo, String manifest) {
    int id;
    try {
      id = Integer.parseInt(manifest);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("manifest '" + manifest + "' is not a class id");
    }
    Registration registration = kryo.getRegistration(id);
    if (registration == null || id < KryoRegistrations.FIRST_USER_ID) {
      throw new IllegalArgumentException("unknown class id " + id);
    }
    return registration.getType();
  }
}
