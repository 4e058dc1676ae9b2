package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code flotilla demo --processes}: workers started as separate JVMs join the local cluster,
 * register with their data planes, and stop when the cluster closes.
 */
class WorkerProcessesTest {

  @Test
  void workerJvmsJoinRegisterAndStop() throws Exception {
    List<Process> processes;
    try (LocalCluster cluster = LocalCluster.start(LocalCluster.demoConfig(), 0, false, true)) {
      cluster.startWorkerProcesses(
          1,
          2,
          ConfigFactory.parseString("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = on")
              .withFallback(LocalCluster.demoConfig()),
          false);
      processes = List.copyOf(cluster.workerProcesses());
      assertThat(cluster.awaitReady(Duration.ofSeconds(120))).as("workers registered").isTrue();
      // A worker publishes itself first, then again once its data plane and key are up.
      org.apache.pekko.actor.testkit.typed.javadsl.TestProbe.create(cluster.seed().system())
          .awaitAssert(
              Duration.ofSeconds(60),
              Duration.ofMillis(100),
              () -> {
                var registry = cluster.registry();
                assertThat(registry).containsOnlyKeys("worker-1", "worker-2");
                registry
                    .values()
                    .forEach(
                        w -> {
                          assertThat(w.dataPlane()).as("%s data plane", w.workerId()).isNotNull();
                          assertThat(w.walletAddress()).matches("0x[0-9a-f]{40}");
                        });
                return null;
              });
      assertThat(processes).allMatch(Process::isAlive);
    }
    for (Process p : processes) {
      assertThat(p.isAlive()).as("worker JVM stopped with the cluster").isFalse();
    }
  }
}
