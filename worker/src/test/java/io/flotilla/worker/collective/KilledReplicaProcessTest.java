package io.flotilla.worker.collective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.worker.transport.DataPlaneDriver;
import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.DataPlaneSettings;
import io.flotilla.worker.transport.TensorTransport;
import io.flotilla.worker.transport.TestingTensors;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A replica in another process is killed (SIGKILL) in the middle of an all-reduce. */
@ExtendWith(LogCapturingExtension.class)
class KilledReplicaProcessTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  @Test
  void theSurvivorsFailNamingTheKilledReplica() throws Exception {
    int count = 1_000_000;
    int childPort;
    try (DatagramSocket probe = new DatagramSocket(0)) {
      childPort = probe.getLocalPort();
    }
    // The driver reports a silent sender gone after about twice the liveness timeout: keep that
    // below the round timeout, as reference.conf advises.
    DataPlaneSettings settings =
        DataPlaneSettings.loopback(TIMEOUT).withImageLivenessTimeout(Duration.ofSeconds(1));
    try (DataPlaneDriver driver = DataPlaneDriver.launch(settings);
        TensorTransport r0 = TensorTransport.start(driver, "replica-0", 4000);
        TensorTransport r1 = TensorTransport.start(driver, "replica-1", 4001)) {
      List<DataPlanePeer> members =
          List.of(
              DataPlanePeer.udp("replica-0", r0.endpoint(), 4000),
              DataPlanePeer.udp("replica-1", r1.endpoint(), 4001),
              DataPlanePeer.udp(
                  "replica-2",
                  new DataPlaneEndpoint("127.0.0.1", childPort, 32 * 1024, 1001),
                  1001));
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("--add-exports");
      command.add("java.base/jdk.internal.misc=ALL-UNNAMED");
      command.add("-Xmx256m");
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(ReplicaProcessMain.class.getName());
      command.add("2");
      command.add(Integer.toString(count));
      command.add("replica-0@127.0.0.1:" + r0.endpoint().port() + "/4000");
      command.add("replica-1@127.0.0.1:" + r1.endpoint().port() + "/4001");
      command.add("replica-2@127.0.0.1:" + childPort + "/1001");
      Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
      try {
        BufferedReader lines =
            new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        awaitLine(lines, "READY");
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        TensorTransport[] local = {r0, r1};
        for (int r = 0; r < 2; r++) {
          RingAllReduce op = new RingAllReduce(local[r], TIMEOUT);
          ReplicaGroup group = new ReplicaGroup("job-ar", 2, members, r);
          var data = TestingTensors.randomFloats(count, r);
          runs.add(
              CompletableFuture.runAsync(() -> op.allReduce(group, 11, 0, data, Compression.NONE)));
        }
        awaitLine(lines, "ROUND 0");
        child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertThat(child.isAlive()).isFalse();

        for (CompletableFuture<Void> run : runs) {
          assertThatThrownBy(() -> run.get(120, TimeUnit.SECONDS))
              .isInstanceOf(ExecutionException.class)
              .cause()
              .isInstanceOf(CollectiveException.class)
              .hasMessageContaining("replica-2");
        }
      } finally {
        child.destroyForcibly();
      }
    }
  }

  private static void awaitLine(BufferedReader lines, String expected) throws Exception {
    String line;
    StringBuilder seen = new StringBuilder();
    while ((line = lines.readLine()) != null) {
      if (line.equals(expected)) {
        return;
      }
      seen.append(line).append('\n');
    }
    throw new AssertionError("replica process ended before printing " + expected + ":\n" + seen);
  }
}
