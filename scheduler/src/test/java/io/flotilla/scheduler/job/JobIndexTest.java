package io.flotilla.scheduler.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.scheduler.SchedulerNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team's job index takes a burst of submissions far larger than a persistent actor's stash, and
 * keeps every job once, in order, across a restart of its node.
 */
@ExtendWith(LogCapturingExtension.class)
class JobIndexTest {

  @TempDir Path dataDir;

  @RegisterExtension final JournaledScheduler node = new JournaledScheduler();

  private SchedulerNode scheduler;

  private EntityRef<JobIndex.Command> index(String team) {
    return ClusterSharding.get(scheduler.node().system()).entityRefFor(JobIndex.TYPE_KEY, team);
  }

  private List<String> ids(String team) throws Exception {
    return index(team)
        .ask(JobIndex.GetJobIds::new, Duration.ofSeconds(20))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS)
        .ids();
  }

  @Test
  void aBurstOfAddsIsListedOnceAndInOrderAndSurvivesARestart() throws Exception {
    scheduler = node.start(dataDir);
    // Beyond a persistent actor's stash (4,096): one write per add used to drop the rest.
    int n = 10_000;
    List<String> expected = new ArrayList<>();
    List<CompletableFuture<Done>> acks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = String.format("j-burst-%05d", i);
      expected.add(id);
      acks.add(
          index("burst-team")
              .<Done>askWithStatus(replyTo -> new JobIndex.Add(id, replyTo), Duration.ofSeconds(60))
              .toCompletableFuture());
    }
    // The same job again changes nothing.
    acks.add(
        index("burst-team")
            .<Done>askWithStatus(
                replyTo -> new JobIndex.Add("j-burst-00000", replyTo), Duration.ofSeconds(60))
            .toCompletableFuture());
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(90, TimeUnit.SECONDS);
    assertThat(ids("burst-team")).containsExactlyElementsOf(expected);
    assertThat(ids("other-team")).isEmpty();

    scheduler = node.restart();
    assertThat(ids("burst-team")).containsExactlyElementsOf(expected);
  }
}
