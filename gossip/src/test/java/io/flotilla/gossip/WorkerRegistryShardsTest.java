package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How the registry is split over Distributed Data keys. */
class WorkerRegistryShardsTest {

  @Test
  void aWorkerAlwaysLandsInTheSameKeyAndWorkersSpreadOverAllKeys() {
    assertThat(WorkerRegistry.keyOf("w-17", 64)).isEqualTo(WorkerRegistry.keyOf("w-17", 64));
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      keys.add(WorkerRegistry.keyOf("sim-" + i, 64).id());
    }
    assertThat(keys).hasSize(64).allMatch(k -> k.startsWith("flotilla-workers-"));
    assertThat(WorkerRegistry.keyOf("anything", 1).id()).isEqualTo("flotilla-workers-0");
  }

  @Test
  void aShardCountOutsideItsRangeIsRefusedByName() {
    assertThatThrownBy(
            () ->
                GossipSettings.create(
                    NodeConfig.overrides()
                        .set("flotilla.gossip.registry.shards", 0)
                        .over(GossipTesting.base())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("flotilla.gossip.registry.shards = 0; allowed: 1..1024");
  }
}
