package io.flotilla.protocol.task;

import static io.flotilla.protocol.testing.SerializationAssertions.assertEveryMessageHasSample;
import static io.flotilla.protocol.testing.SerializationAssertions.assertRoundTrips;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.job.JobSpec;
import io.flotilla.protocol.job.JobSpecParser;
import io.flotilla.protocol.worker.DataPlaneEndpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class TaskMessageSerializationTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /**
   * examples/addition-gpt.yaml: GPT with 3 blocks (5 layers: embeddings, 3 blocks, head), 2 stages
   * x 2 replicas.
   */
  static JobSpec spec() {
    Path example = Path.of("..", "examples", "addition-gpt.yaml");
    try {
      return JobSpecParser.parse(example);
    } catch (Exception e) {
      throw new AssertionError("cannot read " + example.toAbsolutePath(), e);
    }
  }

  static List<StageSlot> slots(int stages, int replicas) {
    List<StageSlot> slots = new ArrayList<>();
    for (int k = 0; k < stages; k++) {
      for (int d = 0; d < replicas; d++) {
        slots.add(
            new StageSlot(
                k,
                d,
                "w-" + k + "-" + d,
                new DataPlaneEndpoint("10.0.0." + (k * replicas + d + 1), 40123, 32768, 1001),
                1001));
      }
    }
    return slots;
  }

  static StageAssignment assignment(int stage, int replica) {
    return new StageAssignment(
        "job-7", spec(), stage, 2, stage == 0 ? 0 : 2, stage == 0 ? 2 : 5, replica, 2, slots(2, 2));
  }

  @Test
  void everyTaskMessageRoundTrips() {
    TestProbe<TaskMessage> probe = kit.createTestProbe();
    List<Object> samples =
        List.of(
            assignment(1, 0),
            slots(1, 1).get(0),
            new RunStep("job-7", 41),
            new StepReport(
                "job-7",
                41,
                1,
                0,
                "w-1-0",
                2.25,
                16,
                176,
                12_000_000,
                3_000_000,
                400_000,
                0.93,
                1e-3,
                "ab".repeat(32),
                "cd".repeat(32),
                "cpu-test"),
            new StepReport(
                "job-7",
                41,
                0,
                1,
                "w-0-1",
                Double.NaN,
                16,
                176,
                12_000_000,
                3_000_000,
                0,
                0.93,
                1e-3,
                "ab".repeat(32),
                "cd".repeat(32),
                "cpu-test"),
            new StageFailed(
                "job-7", 41, 1, 0, "w-1-0", "no tensor from peer w-0-0 within 30000 ms"),
            new StageReady("job-7", 1, 0, "w-1-0", 42, true, null),
            new StageReady(
                "job-7",
                1,
                0,
                "w-1-0",
                42,
                true,
                new StepReport(
                    "job-7",
                    41,
                    1,
                    0,
                    "w-1-0",
                    2.5,
                    16,
                    176,
                    12_000_000,
                    3_000_000,
                    0,
                    0.93,
                    1e-3,
                    "ab".repeat(32),
                    "cd".repeat(32),
                    "cpu-test")),
            new CheckpointSaved("job-7", 42, 1, "w-1-0", "ab".repeat(32), 123_456),
            new CheckpointRef("http://10.0.0.1:8080/internal/checkpoints/x", "ab".repeat(32), 40),
            new StageHostCommand.Prepare(
                assignment(1, 0),
                42,
                List.of(
                    new CheckpointRef("http://10.0.0.1:8080/c0", "ab".repeat(32), 40),
                    new CheckpointRef("http://10.0.0.1:8080/c1", "cd".repeat(32), 40)),
                probe.ref()),
            new StageHostCommand.Prepare(assignment(0, 1), 0, List.of(), probe.ref()),
            new StageHostCommand.Execute(new RunStep("job-7", 42), probe.ref()),
            new StageHostCommand.SaveCheckpoint("job-7", 42, "http://10.0.0.1:8080/u", probe.ref()),
            new StageHostCommand.Release("job-7", "job cancelled"),
            new StageHostCommand.ProbeLink(
                "probe-1", slots(1, 1).get(0), true, 10_000, probe.ref()),
            new LinkMeasured("probe-1", "w-0-0", "w-1-0", 180, 1.2e9),
            new StageHostCommand.SignReceipts(
                "job-7",
                List.of(
                    io.flotilla.protocol.identity.WorkReceipt.unsigned(
                        "job-7", StageHostCommand.SignReceipts.taskId(41, 1, 0), "w-1-0", 12, 5)),
                probe.ref()),
            new ReceiptsSigned(
                "job-7",
                "w-1-0",
                new io.flotilla.protocol.identity.WorkerRegistration(
                    "w-1-0", "0x" + "ab".repeat(20), "0x" + "cd".repeat(65)),
                List.of(
                    new io.flotilla.protocol.identity.WorkReceipt(
                        "job-7",
                        "step-41/stage-1/replica-0",
                        "w-1-0",
                        12,
                        5,
                        "0x" + "ef".repeat(65))),
                1));
    for (Object sample : samples) {
      assertRoundTrips(kit.system(), sample);
    }
    assertEveryMessageHasSample(
        kit.system(),
        samples,
        type -> type.getPackageName().equals(RunStep.class.getPackageName()));
  }

  @Test
  void assignmentNamesNeighboursAndRing() {
    StageAssignment a = assignment(1, 1);
    assertThat(a.self().workerId()).isEqualTo("w-1-1");
    assertThat(a.isLastStage()).isTrue();
    assertThat(a.isFirstStage()).isFalse();
    assertThat(a.replicaRing()).extracting(StageSlot::workerId).containsExactly("w-1-0", "w-1-1");
    assertThat(a.pipeline()).extracting(StageSlot::workerId).containsExactly("w-0-1", "w-1-1");
  }

  @Test
  void inconsistentAssignmentsAreRejectedWithTheReason() {
    JobSpec spec = spec();
    assertThatThrownBy(() -> new StageAssignment("j", spec, 0, 2, 0, 2, 0, 2, slots(2, 1)))
        .hasMessageContaining("need 4 slots");
    assertThatThrownBy(() -> new StageAssignment("j", spec, 1, 2, 2, 3, 0, 2, slots(2, 2)))
        .hasMessageContaining("last stage must end at layer 5");
    assertThatThrownBy(() -> new StageAssignment("j", spec, 0, 3, 0, 1, 0, 2, slots(3, 2)))
        .hasMessageContaining("spec asks for 2 x 2");
    List<StageSlot> twice = new ArrayList<>(slots(2, 2));
    twice.set(3, new StageSlot(1, 0, "w-9", twice.get(3).endpoint(), 1001));
    assertThatThrownBy(() -> new StageAssignment("j", spec, 0, 2, 0, 2, 0, 2, twice))
        .hasMessageContaining("slot (1, 0) appears twice");
  }

  @Test
  void reportComputesBubbleShare() {
    StepReport r =
        new StepReport("j", 0, 0, 0, "w", Double.NaN, 1, 1, 300, 100, 0, 1, 1, "", "", "cpu-test");
    assertThat(r.hasLoss()).isFalse();
    assertThat(r.bubbleShare()).isEqualTo(0.25);
  }
}
