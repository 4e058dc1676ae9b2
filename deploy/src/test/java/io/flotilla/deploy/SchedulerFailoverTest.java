package io.flotilla.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.gossip.NodeConfig;
import io.flotilla.gossip.SeedAddress;
import io.flotilla.protocol.NodeRole;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.scheduler.SchedulerNode;
import io.flotilla.scheduler.job.JobEvent;
import io.flotilla.scheduler.job.JobManager;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.Jobs;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.ShardRegion.CurrentShardRegionState;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The scheduler node that hosts a running job crashes; the job's manager comes back on the other
 * scheduler node from the shared journal, re-attaches to the stages the workers still hold, and
 * finishes the job without losing or repeating a completed step: its journal never goes back, and
 * every step's loss equals single-process training.
 */
@ExtendWith(LogCapturingExtension.class)
class SchedulerFailoverTest {

  static final int STEPS = 40;

  static JobSpec spec() {
    return TinyAdditionJob.named("failover", STEPS)
        .seed(11)
        .parallelism(2, 1, "gpipe")
        .checkpoint(100, 1)
        .budget(null)
        .spec();
  }

  static Config config() {
    return ConfigFactory.parseString(
            """
            pekko.coordinated-shutdown.run-by-actor-system-terminate = off
            flotilla.scheduler.jobs.step-timeout-min = 60s
            """)
        .withFallback(LocalCluster.demoConfig());
  }

  @Test
  void aJobOutlivesTheSchedulerNodeThatRanIt() throws Exception {
    JobSpec spec = spec();
    double[] reference = DistributedTrainingTest.referenceLosses(spec, STEPS);
    try (LocalCluster cluster = LocalCluster.start(config(), 2, true, true)) {
      assertThat(cluster.awaitReady(Duration.ofSeconds(60))).as("cluster ready").isTrue();
      // Both scheduler nodes are up before the job exists, so the crash below cannot come after
      // the job has finished while the second node was still starting.
      SchedulerNode second =
          SchedulerNode.start(
              NodeConfig.overrides()
                  .roles(Set.of(NodeRole.SCHEDULER))
                  .seeds(List.of(new SeedAddress("127.0.0.1", cluster.seed().port())))
                  .set(
                      "flotilla.scheduler.persistence.h2-directory",
                      cluster.journalDirectory().toString())
                  .set(
                      "flotilla.scheduler.checkpoints.directory",
                      cluster.journalDirectory().resolve("checkpoints").toString())
                  .over(config()));
      try {
        assertThat(second.node().awaitUp(Duration.ofSeconds(30))).isTrue();
        SchedulerNode first = cluster.scheduler();
        String id =
            first
                .jobs()
                .submit("team-a", spec)
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS)
                .jobId();
        TestProbe<Object> seedProbe = TestProbe.create(cluster.seed().system());
        seedProbe.awaitAssert(
            Duration.ofMinutes(2),
            Duration.ofMillis(20),
            () -> {
              assertThat(get(first.jobs(), id).stepsCompleted()).isGreaterThanOrEqualTo(3);
              return null;
            });
        SchedulerNode host = hostOf(id, first, second);
        SchedulerNode survivor = host == first ? second : first;
        long before = get(survivor.jobs(), id).stepsCompleted();
        assertThat(before).as("the job is still running when its node crashes").isLessThan(STEPS);
        host.node().crash();

        Jobs jobs = survivor.jobs();
        TestProbe<Object> probe = TestProbe.create(survivor.node().system());
        JobView done =
            probe.awaitAssert(
                Duration.ofMinutes(4),
                Duration.ofMillis(100),
                () -> {
                  JobView v = get(jobs, id);
                  assertThat(v.phase())
                      .as("%s", v.failureReason())
                      .isEqualTo(JobView.Phase.COMPLETED);
                  return v;
                });
        assertThat(done.stepsCompleted()).isEqualTo(STEPS);
        assertThat(done.restarts()).as("no interruption: the stages were kept").isZero();

        List<Object> events = JobJournal.events(survivor.node().system(), id);
        List<Long> starts =
            events.stream()
                .filter(e -> e instanceof JobEvent.JobStarted)
                .map(e -> ((JobEvent.JobStarted) e).fromStep())
                .toList();
        assertThat(starts).as("training started, then resumed after the crash").hasSize(2);
        assertThat(starts.get(1))
            .as("resumed at or after the steps journaled before")
            .isGreaterThanOrEqualTo(before);
        TreeMap<Long, Double> losses = new TreeMap<>();
        long last = 0;
        for (Object e : events) {
          if (e instanceof JobEvent.StepCompleted c) {
            assertThat(c.metrics().step())
                .as("steps are journaled once, in order")
                .isEqualTo(last + 1);
            last = c.metrics().step();
            losses.put(c.metrics().step(), c.metrics().loss());
          }
        }
        JobJournal.assertReferenceLosses(losses, reference, STEPS);
      } finally {
        second.close();
      }
    }
  }

  /** The scheduler node whose shard region hosts the job's manager. */
  private static SchedulerNode hostOf(String id, SchedulerNode... nodes) {
    for (SchedulerNode node : nodes) {
      TestProbe<CurrentShardRegionState> probe = TestProbe.create(node.node().system());
      ClusterSharding.get(node.node().system())
          .shardState()
          .tell(new GetShardRegionState(JobManager.TYPE_KEY, probe.ref()));
      CurrentShardRegionState state = probe.receiveMessage(Duration.ofSeconds(10));
      boolean hosts =
          state.getShards().stream().anyMatch(shard -> shard.getEntityIds().contains(id));
      if (hosts) {
        return node;
      }
    }
    throw new AssertionError("no scheduler node hosts job " + id);
  }

  private static JobView get(Jobs jobs, String id) {
    try {
      return jobs.get(id).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
