package io.flotilla.protocol.serialization;

import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.job.CheckpointSpec;
import io.flotilla.protocol.job.DatasetSpec;
import io.flotilla.protocol.job.DatasetType;
import io.flotilla.protocol.job.DilocoSpec;
import io.flotilla.protocol.job.GptModelSpec;
import io.flotilla.protocol.job.GradientSync;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.LrScheduleSpec;
import io.flotilla.protocol.job.MlpModelSpec;
import io.flotilla.protocol.job.OptimizerSpec;
import io.flotilla.protocol.job.ParallelismSpec;
import io.flotilla.protocol.job.PaymentSpec;
import io.flotilla.protocol.job.PipelineSchedule;
import io.flotilla.protocol.job.PricingUnit;
import io.flotilla.protocol.job.RedundancyMode;
import io.flotilla.protocol.job.TrainingSpec;
import io.flotilla.protocol.job.VerificationSpec;
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
    registerJobSpec(r);
  }

  /** Job spec records and enums: ids 200-399. */
  private static void registerJobSpec(KryoRegistrations r) {
    r.add(200, JobSpec.class);
    r.add(201, GptModelSpec.class);
    r.add(202, MlpModelSpec.class);
    r.add(203, DatasetSpec.class);
    r.add(204, DatasetType.class);
    r.add(205, TrainingSpec.class);
    r.add(206, OptimizerSpec.class);
    r.add(207, LrScheduleSpec.class);
    r.add(208, ParallelismSpec.class);
    r.add(209, PipelineSchedule.class);
    r.add(210, GradientSync.class);
    r.add(211, DilocoSpec.class);
    r.add(212, VerificationSpec.class);
    r.add(213, RedundancyMode.class);
    r.add(214, PaymentSpec.class);
    r.add(215, PricingUnit.class);
    r.add(216, CheckpointSpec.class);
    r.add(217, java.math.BigDecimal.class);
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
