package io.flotilla.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.job.PipelineSchedule;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MicroBatchScheduleTest {

  @Test
  void gpipeRunsAllForwardsThenAllBackwardsLatestFirst() {
    assertThat(MicroBatchSchedule.passes(PipelineSchedule.GPIPE, 0, 2, 3).toString())
        .isEqualTo("[F0, F1, F2, B2, B1, B0]");
  }

  @Test
  void oneForwardOneBackwardWarmsUpByRemainingStages() {
    assertThat(MicroBatchSchedule.passes(PipelineSchedule.ONE_F_ONE_B, 0, 3, 4).toString())
        .isEqualTo("[F0, F1, F2, B0, F3, B1, B2, B3]");
    assertThat(MicroBatchSchedule.passes(PipelineSchedule.ONE_F_ONE_B, 2, 3, 4).toString())
        .isEqualTo("[F0, B0, F1, B1, F2, B2, F3, B3]");
    assertThat(MicroBatchSchedule.passes(PipelineSchedule.ONE_F_ONE_B, 0, 4, 2).toString())
        .isEqualTo("[F0, F1, B0, B1]");
  }

  @Test
  void everyScheduleRunsEachMicroBatchOnceForwardThenBackwardWithinItsMemoryBound() {
    for (PipelineSchedule schedule : PipelineSchedule.values()) {
      for (int p = 1; p <= 5; p++) {
        for (int k = 0; k < p; k++) {
          for (int m = 1; m <= 9; m++) {
            List<MicroBatchSchedule.Pass> passes = MicroBatchSchedule.passes(schedule, k, p, m);
            assertThat(passes).hasSize(2 * m);
            Set<Integer> forwarded = new HashSet<>();
            Set<Integer> done = new HashSet<>();
            int maxInFlight = 0;
            for (MicroBatchSchedule.Pass pass : passes) {
              if (pass.forward()) {
                assertThat(forwarded.add(pass.microBatch())).isTrue();
              } else {
                assertThat(forwarded).contains(pass.microBatch());
                assertThat(done.add(pass.microBatch())).isTrue();
              }
              maxInFlight = Math.max(maxInFlight, forwarded.size() - done.size());
            }
            assertThat(done).hasSize(m);
            int bound = schedule == PipelineSchedule.GPIPE ? m : Math.min(m, p - k);
            assertThat(maxInFlight)
                .as("%s stage %d of %d, M=%d", schedule, k, p, m)
                .isEqualTo(bound);
          }
        }
      }
    }
  }

  @Test
  void rejectsImpossibleStages() {
    assertThatThrownBy(() -> MicroBatchSchedule.passes(PipelineSchedule.GPIPE, 2, 2, 1))
        .hasMessageContaining("stage 2 of 2");
  }
}
