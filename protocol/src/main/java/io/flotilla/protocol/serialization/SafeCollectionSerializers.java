package io.flotilla.protocol.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Serializers for lists, sets and maps, including the JDK's immutable ones ({@code List.of}, {@code
 * Map.copyOf}, {@code Stream.toList()}) that Kryo's defaults cannot rebuild. Element counts are
 * checked against the bytes left before anything is allocated (see {@link BoundedInput}).
 */
final class SafeCollectionSerializers {

  private SafeCollectionSerializers() {}

  /** Writes a size and each element with its class; reads into a list, then {@code finish}. */
  static final class CollectionSerializer<C extends Collection<?>> extends Serializer<C> {
    private final Function<List<Object>, C> finish;

    CollectionSerializer(Function<List<Object>, C> finish) {
      this.finish = finish;
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, C collection) {
      output.writeVarInt(collection.size(), true);
      for (Object element : collection) {
        kryo.writeClassAndObject(output, element);
      }
    }

    @Override
    public C read(Kryo kryo, Input input, Class<? extends C> type) {
      int size = input.readVarInt(true);
      checkCount(input, size, 1);
      List<Object> elements = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        elements.add(kryo.readClassAndObject(input));
      }
      return finish.apply(elements);
    }
  }

  /** Writes a size and each key and value with its class; reads into a map, then {@code finish}. */
  static final class MapSerializer<M extends Map<?, ?>> extends Serializer<M> {
    private final Function<Map<Object, Object>, M> finish;

    MapSerializer(Function<Map<Object, Object>, M> finish) {
      this.finish = finish;
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, M map) {
      output.writeVarInt(map.size(), true);
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        kryo.writeClassAndObject(output, entry.getKey());
        kryo.writeClassAndObject(output, entry.getValue());
      }
    }

    @Override
    public M read(Kryo kryo, Input input, Class<? extends M> type) {
      int size = input.readVarInt(true);
      checkCount(input, size, 2);
      Map<Object, Object> entries = new LinkedHashMap<>(Math.max(4, size * 2));
      for (int i = 0; i < size; i++) {
        Object key = kryo.readClassAndObject(input);
        Object value = kryo.readClassAndObject(input);
        if (entries.put(key, value) != null) {
          throw new KryoException("map repeats key " + key);
        }
      }
      return finish.apply(entries);
    }
  }

  private static void checkCount(Input input, int count, int minBytesEach) {
    if (input instanceof BoundedInput bounded) {
      bounded.checkCount(count, minBytesEach, "collection");
    } else if (count < 0) {
      throw new KryoException("negative collection size " + count);
    }
  }

  /** Immutable list; keeps nulls, which {@code Stream.toList()} allows. */
  static List<Object> immutableList(List<Object> elements) {
    return elements.stream().anyMatch(Objects::isNull)
        ? Collections.unmodifiableList(elements)
        : List.copyOf(elements);
  }
}
