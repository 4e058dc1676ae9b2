package io.flotilla.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LaunchConfigTest {

  @Test
  void elementwiseCoversEveryElementUpToTheGridCap() {
    assertThat(LaunchConfig.elementwise(0)).isEqualTo(new LaunchConfig(1, 256, 0));
    assertThat(LaunchConfig.elementwise(1)).isEqualTo(new LaunchConfig(1, 256, 0));
    assertThat(LaunchConfig.elementwise(256)).isEqualTo(new LaunchConfig(1, 256, 0));
    assertThat(LaunchConfig.elementwise(257)).isEqualTo(new LaunchConfig(2, 256, 0));
    // grid-stride kernels cover the rest: the grid stays at the cap
    assertThat(LaunchConfig.elementwise(1L << 40).gridX()).isEqualTo(LaunchConfig.MAX_GRID);
  }

  @Test
  void perRowBlocksArePowersOfTwoWithSharedMemoryPerThread() {
    LaunchConfig lc = LaunchConfig.perRow(10, 100, 4);
    assertThat(lc).isEqualTo(new LaunchConfig(10, 128, 512));
    assertThat(LaunchConfig.perRow(3, 1, 4)).isEqualTo(new LaunchConfig(3, 32, 128));
    assertThat(LaunchConfig.perRow(3, 5000, 8)).isEqualTo(new LaunchConfig(3, 1024, 8192));
    assertThat(LaunchConfig.perRow(0, 64, 4).gridX()).isEqualTo(1);
    for (int c = 1; c < 3000; c += 37) {
      int block = LaunchConfig.perRow(1, c, 4).blockX();
      assertThat(Integer.bitCount(block)).as("block for %d columns", c).isEqualTo(1);
      assertThat(block).isBetween(32, 1024);
    }
  }

  @Test
  void perColumnGivesOneThreadPerColumn() {
    assertThat(LaunchConfig.perColumn(1)).isEqualTo(new LaunchConfig(1, 32, 0));
    assertThat(LaunchConfig.perColumn(100)).isEqualTo(new LaunchConfig(1, 128, 0));
    assertThat(LaunchConfig.perColumn(1000)).isEqualTo(new LaunchConfig(4, 256, 0));
    LaunchConfig lc = LaunchConfig.perColumn(1000);
    assertThat((long) lc.gridX() * lc.blockX()).isGreaterThanOrEqualTo(1000);
  }

  @Test
  void sumOfSquaresUsesAFixedGridForAFixedSummationOrder() {
    assertThat(LaunchConfig.sumOfSquares()).isEqualTo(new LaunchConfig(256, 256, 2048));
  }

  @Test
  void rejectsImpossibleLaunches() {
    assertThatThrownBy(() -> new LaunchConfig(0, 32, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LaunchConfig(1, 2048, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
