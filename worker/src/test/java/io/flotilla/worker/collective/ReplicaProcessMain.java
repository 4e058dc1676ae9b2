package io.flotilla.worker.collective;

import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.worker.transport.DataPlanePeer;
import io.flotilla.worker.transport.DataPlaneSettings;
import io.flotilla.worker.transport.TensorTransport;
import io.flotilla.worker.transport.TestingTensors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * One replica in its own process, for tests that kill it. Arguments: rank, float count, then one
 * {@code workerId@host:port} per member in ring order (this replica binds its own port). Prints
 * {@code ROUND n} after each round and stops after round 0 until it is killed.
 */
public final class ReplicaProcessMain {
  private ReplicaProcessMain() {}

  public static void main(String[] args) throws Exception {
    int rank = Integer.parseInt(args[0]);
    int count = Integer.parseInt(args[1]);
    List<DataPlanePeer> members = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      String[] idAndAddress = args[i].split("@");
      String[] addressAndStream = idAndAddress[1].split("/");
      String[] hostAndPort = addressAndStream[0].split(":");
      members.add(
          DataPlanePeer.udp(
              idAndAddress[0],
              new DataPlaneEndpoint(
                  hostAndPort[0], Integer.parseInt(hostAndPort[1]), 32 * 1024, 1001),
              Integer.parseInt(addressAndStream[1])));
    }
    DataPlaneSettings loopback = DataPlaneSettings.loopback(Duration.ofSeconds(3));
    DataPlaneSettings settings = loopback.withPort(members.get(rank).endpoint().port());
    CountDownLatch never = new CountDownLatch(1);
    try (TensorTransport transport =
        TensorTransport.launch(settings, members.get(rank).workerId())) {
      System.out.println("READY");
      System.out.flush();
      RingAllReduce op =
          new RingAllReduce(
              transport,
              Duration.ofSeconds(30),
              round -> {
                System.out.println("ROUND " + round);
                System.out.flush();
                try {
                  never.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      op.allReduce(
          new ReplicaGroup("job-ar", 2, members, rank),
          11,
          0,
          TestingTensors.randomFloats(count, rank),
          Compression.NONE);
    }
  }
}
