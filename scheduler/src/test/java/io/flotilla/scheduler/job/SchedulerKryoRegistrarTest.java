package io.flotilla.scheduler.job;

import static io.flotilla.protocol.testing.SerializationAssertions.assertRoundTrips;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.LinkMatrix;
import io.flotilla.scheduler.planner.PlanRequest;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.planner.Planner;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every journal event, state and command of the scheduler survives a Kryo round trip. */
@ExtendWith(LogCapturingExtension.class)
class SchedulerKryoRegistrarTest {

  private static ActorTestKit testKit;
  private static final Instant AT = Instant.parse("2026-01-02T03:04:05Z");

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static JobSpec spec() throws Exception {
    return JobSpecParser.parse(Path.of("../examples/addition-gpt.yaml"));
  }

  private static List<WorkerCapabilities> workers(int n) {
    return IntStream.range(0, n)
        .mapToObj(
            i ->
                new WorkerCapabilities(
                    "w" + i,
                    "pekko://flotilla@127.0.0.1:" + (2600 + i),
                    2,
                    1L << 30,
                    null,
                    25.0,
                    "cpu",
                    null,
                    null,
                    Map.of("region", "test"),
                    1_000L))
        .toList();
  }

  @Test
  void eventsStatesAndCommandsRoundTrip() throws Exception {
    JobSpec spec = spec();
    PlanResult.Plan plan =
        (PlanResult.Plan)
            Planner.plan(PlanRequest.forSpec(spec, workers(4), LinkMatrix.unmeasured()));
    PlanResult.Waiting waiting =
        (PlanResult.Waiting)
            Planner.plan(PlanRequest.forSpec(spec, workers(1), LinkMatrix.unmeasured()));
    var system = testKit.system();
    List<JobEvent> events =
        List.of(
            new JobEvent.JobSubmitted("team-a", spec, AT),
            new JobEvent.JobQueued(waiting, AT),
            new JobEvent.JobPlanned(plan, AT),
            new JobEvent.JobStarted(0, AT),
            new JobEvent.StepCompleted(
                new StepMetrics(
                    7,
                    1.25,
                    1024,
                    2_000_000,
                    0.2,
                    0.9,
                    1e-3,
                    List.of(
                        new StepMetrics.SlotWork("w0", 0, 0, 1_000_000, 200_000, 50_000, 16),
                        new StepMetrics.SlotWork("w1", 1, 0, 1_100_000, 100_000, 50_000, 16))),
                AT),
            new JobEvent.CheckpointSaved(
                new CheckpointRecord(
                    7,
                    List.of(
                        new CheckpointRecord.Shard(1, "cd".repeat(32), 2048),
                        new CheckpointRecord.Shard(0, "ab".repeat(32), 1024))),
                AT),
            new JobEvent.JobInterrupted("worker w1 left the cluster", AT),
            new JobEvent.JobPlanned(plan, AT),
            new JobEvent.JobStarted(7, AT),
            new JobEvent.JobCompleted(AT),
            new JobEvent.JobFailed("worker w1 left", AT),
            new JobEvent.JobCancelled("team-a", AT));
    JobView state = JobView.empty("j-1");
    assertRoundTrips(system, state);
    for (JobEvent event : events) {
      assertRoundTrips(system, event);
      state = state.apply(event);
      assertRoundTrips(system, state);
    }
    assertThat(state.phase()).isEqualTo(JobView.Phase.CANCELLED);
    assertThat(state.stepsCompleted()).isEqualTo(7);
    assertThat(state.restarts()).isEqualTo(1);
    assertThat(state.checkpoint().shards())
        .extracting(CheckpointRecord.Shard::stage)
        .containsExactly(0, 1);
    assertThat(state.workers().get("w0").steps()).isEqualTo(1);
    assertThat(state.workers().get("w1").idleNanos()).isEqualTo(100_000);
    assertThat(state.tokens()).isEqualTo(1024);
    TestProbe<StatusReply<JobView>> reply = testKit.createTestProbe();
    TestProbe<JobView> view = testKit.createTestProbe();
    TestProbe<StatusReply<org.apache.pekko.Done>> ack = testKit.createTestProbe();
    TestProbe<JobIndex.JobIds> ids = testKit.createTestProbe();
    assertRoundTrips(system, new JobManager.Submit(spec, "team-a", reply.ref()));
    assertRoundTrips(system, new JobManager.Get(view.ref()));
    assertRoundTrips(system, new JobManager.Cancel("team-a", reply.ref()));
    assertRoundTrips(system, new JobIndex.Add("j-1", ack.ref()));
    assertRoundTrips(system, new JobIndex.GetJobIds(ids.ref()));
    assertRoundTrips(system, new JobIndex.JobListed("j-1"));
    assertRoundTrips(system, new JobIndex.JobIds(List.of("j-1", "j-2")));
    assertRoundTrips(system, new JobIndex.AddAll(List.of("j-1", "j-2"), ack.ref()));
    assertRoundTrips(system, new JobIndex.JobsListed(List.of("j-1", "j-2")));
  }
}
