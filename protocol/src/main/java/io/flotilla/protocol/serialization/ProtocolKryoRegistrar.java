package io.flotilla.protocol.serialization;

import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.protocol.worker.GpuInfo;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Registers the JDK types messages are built from, and the protocol module's own messages. */
public final class ProtocolKryoRegistrar implements KryoRegistrar {

  @Override
  public void register(KryoRegistrations r) {
    registerJdkTypes(r);
    r.add(100, GpuInfo.class);
    r.add(101, DataPlaneEndpoint.class);
    r.add(102, WorkerCapabilities.class);
    r.add(103, NodeRole.class);
  }

  private static void registerJdkTypes(KryoRegistrations r) {
    r.add(
        10,
        ArrayList.class,
        ctx -> new SafeCollectionSerializers.CollectionSerializer<>(ArrayList::new));
    r.add(11, "java.util.ImmutableCollections$List12", ctx -> immutableLists());
    r.add(12, "java.util.ImmutableCollections$ListN", ctx -> immutableLists());
    r.add(13, "java.util.Collections$UnmodifiableRandomAccessList", ctx -> immutableLists());
    r.add(14, HashMap.class, ctx -> new SafeCollectionSerializers.MapSerializer<>(HashMap::new));
    r.add(15, LinkedHashMap.class, ctx -> new SafeCollectionSerializers.MapSerializer<>(m -> m));
    r.add(16, TreeMap.class, ctx -> new SafeCollectionSerializers.MapSerializer<>(TreeMap::new));
    r.add(17, "java.util.ImmutableCollections$Map1", ctx -> immutableMaps());
    r.add(18, "java.util.ImmutableCollections$MapN", ctx -> immutableMaps());
    r.add(19, "java.util.ImmutableCollections$Set12", ctx -> immutableSets());
    r.add(20, "java.util.ImmutableCollections$SetN", ctx -> immutableSets());
    r.add(
        21,
        HashSet.class,
        ctx -> new SafeCollectionSerializers.CollectionSerializer<>(HashSet::new));
    r.add(
        22,
        LinkedHashSet.class,
        ctx -> new SafeCollectionSerializers.CollectionSerializer<>(LinkedHashSet::new));
    r.add(23, byte[].class);
    r.add(24, float[].class);
    r.add(25, int[].class);
    r.add(26, long[].class);
    r.add(27, double[].class);
    r.add(28, String[].class);
    r.add(30, java.time.Instant.class);
    r.add(31, java.time.Duration.class);
    r.add(33, "java.util.Collections$EmptyList", ctx -> immutableLists());
    r.add(34, "java.util.Collections$EmptyMap", ctx -> immutableMaps());
    r.add(35, "java.util.Collections$UnmodifiableMap", ctx -> immutableMaps());
    r.add(
        40,
        "org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter",
        ctx -> new TypedActorRefSerializer(ctx.actorRefResolver()));
  }

  private static SafeCollectionSerializers.CollectionSerializer<?> immutableLists() {
    return new SafeCollectionSerializers.CollectionSerializer<>(
        SafeCollectionSerializers::immutableList);
  }

  private static SafeCollectionSerializers.MapSerializer<?> immutableMaps() {
    return new SafeCollectionSerializers.MapSerializer<>(
        m ->
            m.values().stream().anyMatch(java.util.Objects::isNull)
                ? Collections.unmodifiableMap(m)
                : Map.copyOf(m));
  }

  private static SafeCollectionSerializers.CollectionSerializer<?> immutableSets() {
    return new SafeCollectionSerializers.CollectionSerializer<>(Set::copyOf);
  }
}
