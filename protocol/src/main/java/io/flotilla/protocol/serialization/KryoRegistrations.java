package io.flotilla.protocol.serialization;

import com.esotericsoftware.kryo.Serializer;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The classes Kryo may read and write, each with a fixed id, collected from every {@link
 * KryoRegistrar} on the class path. Rejects duplicate ids and duplicate classes at start, so a
 * clash between modules fails the first test that starts a node rather than corrupting traffic.
 */
public final class KryoRegistrations {

  /** Ids below this are Kryo's own (primitives, String). */
  public static final int FIRST_USER_ID = 10;

  /** One class with its id and, optionally, how to build its serializer. */
  public record Entry(
      int id, Class<?> type, Function<SerializerContext, Serializer<?>> serializer) {}

  private final Map<Integer, Entry> byId = new TreeMap<>();
  private final Map<Class<?>, Integer> idByClass = new java.util.HashMap<>();

  /** Registers {@code type} under {@code id} with Kryo's default serializer for it. */
  public KryoRegistrations add(int id, Class<?> type) {
    return add(id, type, null);
  }

  /**
   * Registers {@code type} under {@code id} with a serializer built by {@code serializer} once the
   * actor system (needed to resolve actor references) is known.
   */
  public KryoRegistrations add(
      int id, Class<?> type, Function<SerializerContext, Serializer<?>> serializer) {
    Objects.requireNonNull(type, "type");
    if (id < FIRST_USER_ID) {
      throw new IllegalArgumentException(
          "Kryo id " + id + " for " + type.getName() + " is reserved; use " + FIRST_USER_ID + "+");
    }
    Entry previous = byId.get(id);
    if (previous != null) {
      throw new IllegalStateException(
          "Kryo id "
              + id
              + " registered twice: "
              + previous.type().getName()
              + " and "
              + type.getName());
    }
    Integer previousId = idByClass.get(type);
    if (previousId != null) {
      throw new IllegalStateException(
          type.getName() + " registered twice, with ids " + previousId + " and " + id);
    }
    byId.put(id, new Entry(id, type, serializer));
    idByClass.put(type, id);
    return this;
  }

  /** Registers a class looked up by name (for JDK and Pekko classes that are not public). */
  public KryoRegistrations add(
      int id, String className, Function<SerializerContext, Serializer<?>> serializer) {
    try {
      return add(id, Class.forName(className), serializer);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("cannot register missing class " + className, e);
    }
  }

  /** Every entry, ordered by id. */
  public Map<Integer, Entry> entries() {
    return Collections.unmodifiableMap(byId);
  }

  /** The id of {@code type}, or {@code null} when it is not registered. */
  public Integer idOf(Class<?> type) {
    return idByClass.get(type);
  }
}
