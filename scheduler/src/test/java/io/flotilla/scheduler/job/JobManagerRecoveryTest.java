package io.flotilla.scheduler.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.gossip.GossipTesting;
import io.flotilla.gossip.WorkerRegistry;
import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.SchedulerNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs are queued without workers, planned when workers join, cancelled by their team, and come
 * back in the same state on a new scheduler node on the same journal (H2 file database).
 */
@ExtendWith(LogCapturingExtension.class)
class JobManagerRecoveryTest {

  @TempDir Path dataDir;

  @RegisterExtension final JournaledScheduler node = new JournaledScheduler();

  private SchedulerNode scheduler;

  @Test
  void aJobIsPlannedWhenWorkersJoinAndSurvivesTheTerminationOfItsNode() throws Exception {
    JobSpec spec = JobSpecParser.parse(Path.of("../examples/addition-gpt.yaml"));
    scheduler = node.start(dataDir);
    Jobs jobs = scheduler.jobs();

    JobView queued = jobs.submit("team-a", spec).toCompletableFuture().get(20, TimeUnit.SECONDS);
    String planned = queued.jobId();
    awaitPhase(jobs, planned, JobView.Phase.QUEUED);
    JobView waiting = jobs.get(planned).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(waiting.waiting()).isNotNull();
    assertThat(waiting.waiting().workersMissing()).isEqualTo(4);

    String cancelled =
        jobs.submit("team-a", spec).toCompletableFuture().get(10, TimeUnit.SECONDS).jobId();
    assertThatThrownBy(
            () -> jobs.cancel("team-b", cancelled).toCompletableFuture().get(10, TimeUnit.SECONDS))
        .hasMessageContaining("no job " + cancelled);
    assertThat(jobs.cancel("team-a", cancelled).toCompletableFuture().get(10, TimeUnit.SECONDS))
        .extracting(JobView::phase)
        .isEqualTo(JobView.Phase.CANCELLED);

    TestProbe<StatusReply<Done>> ack = TestProbe.create(scheduler.node().system());
    for (int i = 0; i < 4; i++) {
      // A stage host that never answers: the job stays planned (its driver waits for the hosts).
      TestProbe<io.flotilla.protocol.task.StageHostCommand> silentHost =
          TestProbe.create(scheduler.node().system());
      scheduler
          .node()
          .registry()
          .tell(
              new WorkerRegistry.Register(
                  withDataPlane(GossipTesting.capabilities("w" + i, scheduler.node()), i)
                      .withStageHost(silentHost.ref()),
                  ack.ref()));
      assertThat(ack.receiveMessage(Duration.ofSeconds(5)).isSuccess()).isTrue();
    }
    awaitPhase(jobs, planned, JobView.Phase.PLANNED);
    JobView before = jobs.get(planned).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(before.plan().stages()).hasSize(2);
    JobView cancelledBefore = jobs.get(cancelled).toCompletableFuture().get(10, TimeUnit.SECONDS);
    // A submission whose node crashed after the team's index listed its id, before the job
    // manager journaled the job: the id has no job, and listing leaves it out.
    ClusterSharding.get(scheduler.node().system())
        .entityRefFor(JobIndex.TYPE_KEY, "team-a")
        .<Done>askWithStatus(r -> new JobIndex.Add("j-orphaned", r), Duration.ofSeconds(10))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);

    scheduler = node.restart();
    Jobs recovered = scheduler.jobs();
    assertThat(recovered.get(planned).toCompletableFuture().get(20, TimeUnit.SECONDS))
        .isEqualTo(before);
    assertThat(recovered.get(cancelled).toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isEqualTo(cancelledBefore);
    List<String> listed =
        recovered.list("team-a").toCompletableFuture().get(10, TimeUnit.SECONDS).stream()
            .map(JobView::jobId)
            .toList();
    assertThat(listed).containsExactly(planned, cancelled);
    assertThat(recovered.list("team-b").toCompletableFuture().get(10, TimeUnit.SECONDS)).isEmpty();
  }

  /** {@code caps} with a data-plane endpoint: only such workers (with a stage host) are placed. */
  private static WorkerCapabilities withDataPlane(WorkerCapabilities caps, int i) {
    return new WorkerCapabilities(
        caps.workerId(),
        caps.nodeAddress(),
        caps.cores(),
        caps.memoryBytes(),
        caps.gpu(),
        caps.cpuGflops(),
        caps.backend(),
        new DataPlaneEndpoint("127.0.0.1", 40200 + i, 32 * 1024, 1001),
        caps.walletAddress(),
        caps.labels(),
        caps.joinedAtEpochMs());
  }

  private void awaitPhase(Jobs jobs, String jobId, JobView.Phase phase) {
    TestProbe.create(scheduler.node().system())
        .awaitAssert(
            Duration.ofSeconds(15),
            () -> {
              assertThat(jobs.get(jobId).toCompletableFuture().get(5, TimeUnit.SECONDS).phase())
                  .isEqualTo(phase);
              return null;
            });
  }
}
