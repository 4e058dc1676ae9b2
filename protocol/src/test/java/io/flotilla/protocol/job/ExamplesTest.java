package io.flotilla.protocol.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The example specs shipped in {@code examples/} stay valid. */
class ExamplesTest {

  static final List<String> EXAMPLES =
      List.of("addition-local.yaml", "addition-gpt.yaml", "fashion-mnist-mlp.yaml");

  static Path path(String file) {
    Path p = Path.of("..", "examples", file);
    assertThat(p).as("example spec (tests run from the module directory)").exists();
    return p;
  }

  @Test
  void everyExampleInTheDirectoryIsTested() throws Exception {
    try (var files = Files.list(Path.of("..", "examples"))) {
      assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".yaml")))
          .containsExactlyInAnyOrderElementsOf(EXAMPLES);
    }
  }

  @Test
  void localExampleIsOneProcess() throws Exception {
    JobSpec spec = JobSpecParser.parse(path("addition-local.yaml"));
    assertThat(spec.parallelism().pipelineStages()).isEqualTo(1);
    assertThat(spec.parallelism().replicas()).isEqualTo(1);
    assertThat(spec.dataset().type()).isEqualTo(DatasetType.ADDITION);
    assertThat(JobSpecParser.parse(JobSpecWriter.toYaml(spec))).isEqualTo(spec);
  }

  @Test
  void clusterExampleIsTwoStagesByTwoReplicas() throws Exception {
    JobSpec spec = JobSpecParser.parse(path("addition-gpt.yaml"));
    assertThat(spec.parallelism().pipelineStages()).isEqualTo(2);
    assertThat(spec.parallelism().replicas()).isEqualTo(2);
    assertThat(spec.model()).isEqualTo(JobSpecParser.parse(path("addition-local.yaml")).model());
    assertThat(JobSpecParser.parse(JobSpecWriter.toJson(spec))).isEqualTo(spec);
  }

  @Test
  void fashionMnistExampleIsAnMlpOnIdxFiles() throws Exception {
    JobSpec spec = JobSpecParser.parse(path("fashion-mnist-mlp.yaml"));
    assertThat(spec.model()).isInstanceOf(MlpModelSpec.class);
    assertThat(spec.dataset().type()).isEqualTo(DatasetType.IDX);
    assertThat(JobSpecParser.parse(JobSpecWriter.toYaml(spec))).isEqualTo(spec);
  }
}
