package io.flotilla.protocol.job;

import static io.flotilla.protocol.testing.SerializationAssertions.assertEveryMessageHasSample;
import static io.flotilla.protocol.testing.SerializationAssertions.assertRoundTrips;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class JobSpecSerializationTest {

  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  static final JobSpec GPT = JobSpecParser.parse(JobSpecParserTest.VALID);

  static final List<Object> SAMPLES =
      List.of(
          GPT,
          GPT.model(),
          new MlpModelSpec(784, List.of(256, 128), 10, 0.1, "/ckpt/step-100"),
          GPT.dataset(),
          new DatasetSpec(
              DatasetType.TEXT, "/data/shakespeare.txt", Map.of("eval_fraction", "0.1")),
          GPT.training(),
          GPT.training().optimizer(),
          GPT.training().schedule(),
          new ParallelismSpec(
              4, 8, PipelineSchedule.GPIPE, GradientSync.DILOCO, new DilocoSpec(100, 0.7, 0.9)),
          DilocoSpec.DEFAULT,
          new VerificationSpec(RedundancyMode.ADAPTIVE, 2, 1e-5, 0.05),
          new PaymentSpec(
              PricingUnit.PER_GFLOP, new BigDecimal("0.000002"), new BigDecimal("50"), "ETH"),
          PaymentSpec.NONE,
          new CheckpointSpec(500, 3));

  @Test
  void everyJobSpecRecordRoundTrips() {
    for (Object sample : SAMPLES) {
      assertRoundTrips(kit.system(), sample);
    }
    assertEveryMessageHasSample(
        kit.system(),
        SAMPLES,
        type -> type.getPackageName().equals(JobSpec.class.getPackageName()));
  }

  @Test
  void parsedExamplesRoundTrip() throws Exception {
    for (String file : ExamplesTest.EXAMPLES) {
      assertRoundTrips(kit.system(), JobSpecParser.parse(ExamplesTest.path(file)));
    }
  }
}
