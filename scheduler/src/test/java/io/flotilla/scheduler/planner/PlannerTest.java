package io.flotilla.scheduler.planner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flotilla.protocol.job.GptModelSpec;
import io.flotilla.protocol.job.GradientSync;
import io.flotilla.protocol.job.PipelineSchedule;
import io.flotilla.protocol.worker.WorkerCapabilities;
import io.flotilla.scheduler.planner.PlanResult.Plan;
import io.flotilla.scheduler.planner.PlanResult.StagePlan;
import io.flotilla.scheduler.planner.PlanResult.Waiting;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PlannerTest {

  static final long GIB = 1L << 30;

  static WorkerCapabilities worker(String id, double gflops, long memoryBytes) {
    return new WorkerCapabilities(
        id, "pekko://f@h:1", 4, memoryBytes, null, gflops, "cpu", null, null, Map.of(), 0);
  }

  /** Layers with the given GFLOPs per example (forward; backward is twice that) and no bytes. */
  static List<LayerCost> layers(double... gflops) {
    List<LayerCost> out = new ArrayList<>();
    for (int i = 0; i < gflops.length; i++) {
      out.add(new LayerCost("l" + i, gflops[i] * 1e9 / 3, gflops[i] * 2e9 / 3, 0, 0, 0));
    }
    return out;
  }

  static PlanRequest request(
      List<LayerCost> layers, List<WorkerCapabilities> workers, int stages, int replicas) {
    return new PlanRequest(
        "test",
        layers,
        workers,
        LinkMatrix.unmeasured(),
        stages,
        replicas,
        1,
        4,
        1,
        PipelineSchedule.GPIPE,
        GradientSync.ALLREDUCE,
        1,
        1.0);
  }

  static Plan plan(PlanRequest request) {
    PlanResult result = Planner.plan(request);
    assertThat(result).isInstanceOf(Plan.class);
    return (Plan) result;
  }

  static String ranges(Plan plan) {
    return String.join(
        " | ",
        plan.stages().stream()
            .map(s -> s.firstLayer() + "-" + s.lastLayer() + "@" + s.workers().get(0).workerId())
            .toList());
  }

  @Test
  void cutsUnevenLayersIntoBalancedStages() {
    Plan plan =
        plan(
            request(
                layers(3, 1, 1, 1, 2, 4),
                List.of(worker("a", 10, 8 * GIB), worker("b", 10, 8 * GIB)),
                2,
                1));
    assertThat(ranges(plan)).isEqualTo("0-3@a | 4-5@b");
    // 6 GFLOP per stage on 10 GFLOP/s plus the unmeasured link's 1 ms latency each way for the
    // (empty) activations; 4 + 2 - 1 = 5 slots; no all-reduce with one replica.
    assertThat(plan.slotSeconds()).isCloseTo(0.602, within(1e-9));
    assertThat(plan.predictedStepSeconds()).isCloseTo(3.01, within(1e-9));
    assertThat(plan.bubbleShare()).isEqualTo(1.0 / 5);
  }

  @Test
  void aJobPlacedAgainKeepsItsCutUnlessANewOneIsMuchFaster() {
    List<LayerCost> ten = layers(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    List<WorkerCapabilities> two = List.of(worker("a", 10, 8 * GIB), worker("b", 10, 8 * GIB));
    assertThat(ranges(plan(request(ten, two, 2, 1)))).isEqualTo("0-4@a | 5-9@b");

    // 6 | 4 layers: the balanced 5 | 5 would be 1/6 faster, less than RECUT_GAIN: kept.
    Plan sixFour = plan(cutAt(request(ten, two, 2, 1), 0, 6, 10));
    assertThat(ranges(sixFour)).isEqualTo("0-5@a | 6-9@b");
    assertThat(ranges(plan(request(ten, two, 2, 1).keepingCutOf(sixFour))))
        .as("a re-placement keeps the cut")
        .isEqualTo("0-5@a | 6-9@b");

    // 7 | 3 layers: 5 | 5 is 2/7 faster: the job is cut again.
    Plan sevenThree = plan(cutAt(request(ten, two, 2, 1), 0, 7, 10));
    assertThat(ranges(plan(request(ten, two, 2, 1).keepingCutOf(sevenThree))))
        .as("a cut much slower than the best is replaced")
        .isEqualTo("0-4@a | 5-9@b");

    // A cut for another stage count does not apply.
    assertThat(request(ten, two, 3, 1).keepingCutOf(sixFour).keptCut()).isEmpty();
  }

  @Test
  void jobsSpreadOverIdleWorkersBeforeTheyShareOne() {
    List<LayerCost> two = layers(1, 1);
    List<WorkerCapabilities> four =
        List.of(
            worker("a", 20, 8 * GIB),
            worker("b", 20, 8 * GIB),
            worker("c", 10, 8 * GIB),
            worker("d", 10, 8 * GIB));
    assertThat(plan(request(two, four, 2, 1)).workerIds()).containsExactlyInAnyOrder("a", "b");

    // a and b run another job: at half their speed they are no faster than c and d (ties go to
    // the idle ones only by id, so make them busier).
    Plan spread = plan(request(two, four, 2, 1).sharing(Map.of("a", 2, "b", 2)));
    assertThat(spread.workerIds()).as("idle workers first").containsExactlyInAnyOrder("c", "d");
    assertThat(spread.stages().get(0).workers().get(0).gflops())
        .as("the plan shows measured speed")
        .isEqualTo(10.0);

    // One other job on a much faster worker: still the better choice.
    List<WorkerCapabilities> fast =
        List.of(worker("a", 100, 8 * GIB), worker("b", 100, 8 * GIB), worker("c", 10, 8 * GIB));
    assertThat(plan(request(two, fast, 2, 1).sharing(Map.of("a", 1))).workerIds())
        .containsExactlyInAnyOrder("a", "b");
  }

  /** {@code r} with the cut to keep given as the stages' first layers and the layer count. */
  private static PlanRequest cutAt(PlanRequest r, Integer... cut) {
    return new PlanRequest(
        r.jobName(),
        r.layers(),
        r.workers(),
        r.links(),
        r.stages(),
        r.replicas(),
        r.redundancy(),
        r.microBatches(),
        r.microBatchSize(),
        r.schedule(),
        r.gradientSync(),
        r.syncIntervalSteps(),
        r.computeEfficiency(),
        List.of(cut),
        Map.of());
  }

  @Test
  void threeStagesOnUnevenLayers() {
    Plan plan =
        plan(
            request(
                layers(5, 1, 1, 1, 1, 1, 2, 3),
                List.of(worker("a", 10, GIB), worker("b", 10, GIB), worker("c", 10, GIB)),
                3,
                1));
    assertThat(plan.stages())
        .extracting(s -> s.lastLayer() - s.firstLayer() + 1)
        .containsExactly(1, 5, 2);
  }

  @Test
  void fasterWorkerGetsTheHeavierStage() {
    Plan plan =
        plan(
            request(
                layers(1, 1, 1, 1, 1, 1, 1, 1, 1),
                List.of(worker("slow", 100, 8 * GIB), worker("fast", 200, 8 * GIB)),
                2,
                1));
    StagePlan onFast =
        plan.stages().stream()
            .filter(s -> s.workers().get(0).workerId().equals("fast"))
            .findFirst()
            .orElseThrow();
    assertThat(onFast.layerNames()).hasSize(6);
    // 6 GFLOP on 200 GFLOP/s = 3 GFLOP on 100 GFLOP/s, plus 2 ms latency on the sending stage.
    assertThat(plan.slotSeconds()).isCloseTo(0.032, within(1e-12));
  }

  @Test
  void memoryLimitsAreRespected() {
    List<LayerCost> big = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      big.add(new LayerCost("l" + i, 1e9, 2e9, GIB, 0, 0));
    }
    // Each layer needs 4 GiB (weights, gradients, two AdamW moments): the fast worker holds 2.
    List<WorkerCapabilities> workers =
        List.of(worker("fast", 300, 9 * GIB), worker("roomy", 100, 64 * GIB));
    Plan plan = plan(request(big, workers, 2, 1));
    for (StagePlan s : plan.stages()) {
      assertThat(s.memoryBytes()).isLessThanOrEqualTo(s.workers().get(0).memoryBytes());
    }
    assertThat(ranges(plan)).isIn("0-1@fast | 2-5@roomy", "0-3@roomy | 4-5@fast");
    assertThat(plan.stages()).extracting(StagePlan::memoryBytes).contains(8 * GIB, 16 * GIB);
  }

  @Test
  void aFastWorkerWithoutEnoughMemoryIsPassedOver() {
    List<LayerCost> big = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      big.add(new LayerCost("l" + i, 1e9, 2e9, GIB, 0, 0));
    }
    List<WorkerCapabilities> workers =
        List.of(
            worker("tiny-fast", 1000, GIB),
            worker("ok-1", 10, 5 * GIB),
            worker("ok-2", 20, 5 * GIB));
    Plan plan = plan(request(big, workers, 2, 1));
    assertThat(plan.stages())
        .flatExtracting(StagePlan::workers)
        .extracting(p -> p.workerId())
        .containsExactlyInAnyOrder("ok-1", "ok-2");
  }

  @Test
  void outputIsDeterministicWhateverTheWorkerOrder() {
    List<WorkerCapabilities> workers = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      workers.add(worker("w" + i, 50 + (i % 3) * 25, (4 + i % 4) * GIB));
    }
    List<LayerCost> gpt = ModelCostEstimator.estimate(new GptModelSpec(6, 256, 8, 128, 256, 0, ""));
    Plan first = plan(request(gpt, workers, 3, 2));
    Random random = new Random(7);
    for (int round = 0; round < 5; round++) {
      List<WorkerCapabilities> shuffled = new ArrayList<>(workers);
      Collections.shuffle(shuffled, random);
      Plan again = plan(request(gpt, shuffled, 3, 2));
      assertThat(again).isEqualTo(first);
      assertThat(PlanRenderer.render(again)).isEqualTo(PlanRenderer.render(first));
    }
    // The fastest six workers (speed 100 and 75) are used, each once.
    assertThat(first.stages())
        .flatExtracting(StagePlan::workers)
        .extracting(p -> p.gflops())
        .containsOnly(100.0, 75.0)
        .hasSize(6);
  }

  @Test
  void tooFewWorkersWaitsNamingHowManyAreMissing() {
    PlanResult result =
        Planner.plan(
            request(
                layers(1, 1, 1),
                List.of(worker("a", 10, GIB), worker("b", 10, GIB), worker("c", 0, GIB)),
                2,
                2));
    assertThat(result)
        .isEqualTo(
            new Waiting(
                "test",
                "needs 4 workers (2 stages x 2 replicas x redundancy 1); 2 usable registered (1"
                    + " report no speed or memory): waiting for 2 more",
                4,
                2,
                2,
                0));
    assertThat(PlanRenderer.render(result))
        .startsWith("Job test cannot start yet; it waits in the queue.\nneeds 4 workers");
  }

  @Test
  void notEnoughMemoryWaitsNamingTheMemoryNeeded() {
    List<LayerCost> big =
        List.of(
            new LayerCost("l0", 1e9, 2e9, GIB, 0, 0), new LayerCost("l1", 1e9, 2e9, 2 * GIB, 0, 0));
    PlanResult result =
        Planner.plan(
            request(big, List.of(worker("a", 10, 6 * GIB), worker("b", 10, 4 * GIB)), 2, 1));
    assertThat(result).isInstanceOf(Waiting.class);
    Waiting waiting = (Waiting) result;
    assertThat(waiting.memoryBytesNeeded()).isEqualTo(8 * GIB);
    assertThat(waiting.workersMissing()).isEqualTo(2);
    assertThat(waiting.reason())
        .isEqualTo(
            "needs 2 workers (2 stages x 1 replicas x redundancy 1) with at least 8.0 GiB of"
                + " memory each (the least any cut of the model into 2 stages needs); 0 of 2"
                + " usable workers have that much");
  }

  @Test
  void transfersAndAllReduceEnterThePrediction() {
    List<LayerCost> ls =
        List.of(
            new LayerCost("l0", 1e9, 2e9, 1_000_000, 500_000, 0),
            new LayerCost("l1", 1e9, 2e9, 1_000_000, 0, 0));
    List<WorkerCapabilities> ws =
        List.of(
            worker("a", 10, GIB), worker("b", 10, GIB), worker("c", 10, GIB), worker("d", 10, GIB));
    LinkMatrix links = new LinkMatrix(new Link(0.001, 1e8), Map.of());
    PlanRequest base = request(ls, ws, 2, 2);
    Plan plan =
        plan(
            new PlanRequest(
                "t",
                ls,
                ws,
                links,
                2,
                2,
                1,
                4,
                2,
                PipelineSchedule.ONE_F_ONE_B,
                GradientSync.ALLREDUCE,
                1,
                1.0));
    // Slot: 3 GFLOP x 2 examples / 10 GFLOP/s = 0.6 s, plus forward and backward transfer of
    // 1 MB at 100 MB/s with 1 ms latency: 2 x 0.011 s.
    assertThat(plan.slotSeconds()).isCloseTo(0.622, within(1e-9));
    assertThat(plan.transferSeconds()).isCloseTo(0.022, within(1e-9));
    // Ring all-reduce of 1 MB between 2 replicas: 2 x 1/2 x 1e6 / 1e8 + 2 x 1 x 0.001.
    assertThat(plan.allReduceSeconds()).isCloseTo(0.012, within(1e-9));
    assertThat(plan.predictedStepSeconds()).isCloseTo(5 * 0.622 + 0.012, within(1e-9));
    assertThat(base.workersNeeded()).isEqualTo(4);
    // A slow link on a boundary pair lengthens every slot of the sending stage.
    Plan slowLink =
        plan(
            new PlanRequest(
                "t",
                ls,
                ws,
                links.with("a", "c", new Link(0.05, 1e6)),
                2,
                2,
                1,
                4,
                2,
                PipelineSchedule.ONE_F_ONE_B,
                GradientSync.ALLREDUCE,
                1,
                1.0));
    assertThat(slowLink.transferSeconds()).isCloseTo(2 * (0.05 + 1.0), within(1e-9));
  }

  @Test
  void dilocoAmortisesSynchronisation() {
    List<LayerCost> ls = List.of(new LayerCost("l0", 1e9, 2e9, 100_000_000, 0, 0));
    List<WorkerCapabilities> ws = List.of(worker("a", 10, 8 * GIB), worker("b", 10, 8 * GIB));
    Plan every =
        plan(
            new PlanRequest(
                "t",
                ls,
                ws,
                LinkMatrix.unmeasured(),
                1,
                2,
                1,
                1,
                1,
                PipelineSchedule.GPIPE,
                GradientSync.ALLREDUCE,
                1,
                1.0));
    Plan diloco =
        plan(
            new PlanRequest(
                "t",
                ls,
                ws,
                LinkMatrix.unmeasured(),
                1,
                2,
                1,
                1,
                1,
                PipelineSchedule.GPIPE,
                GradientSync.DILOCO,
                100,
                1.0));
    assertThat(diloco.allReduceSeconds()).isCloseTo(every.allReduceSeconds() / 100, within(1e-12));
    // DiLoCo keeps an outer copy and momentum: 6 copies of the parameters instead of 4.
    assertThat(diloco.stages().get(0).memoryBytes()).isEqualTo(600_000_000L);
    assertThat(every.stages().get(0).memoryBytes()).isEqualTo(400_000_000L);
  }

  @Test
  void oneFOneBStashesFewerMicroBatchesThanGpipe() {
    List<LayerCost> ls =
        List.of(
            new LayerCost("l0", 1e9, 2e9, 0, 0, 1000), new LayerCost("l1", 1e9, 2e9, 0, 0, 1000));
    List<WorkerCapabilities> ws = List.of(worker("a", 10, GIB), worker("b", 10, GIB));
    Plan gpipe =
        plan(
            new PlanRequest(
                "t",
                ls,
                ws,
                LinkMatrix.unmeasured(),
                2,
                1,
                1,
                8,
                1,
                PipelineSchedule.GPIPE,
                GradientSync.ALLREDUCE,
                1,
                1.0));
    Plan oneF =
        plan(
            new PlanRequest(
                "t",
                ls,
                ws,
                LinkMatrix.unmeasured(),
                2,
                1,
                1,
                8,
                1,
                PipelineSchedule.ONE_F_ONE_B,
                GradientSync.ALLREDUCE,
                1,
                1.0));
    assertThat(gpipe.stages()).extracting(StagePlan::memoryBytes).containsExactly(8000L, 8000L);
    assertThat(oneF.stages()).extracting(StagePlan::memoryBytes).containsExactly(2000L, 1000L);
  }

  @Test
  void redundantCopiesGoToDistinctWorkers() {
    List<WorkerCapabilities> ws = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      ws.add(worker("w" + i, 10, GIB));
    }
    Plan plan =
        plan(
            new PlanRequest(
                "t",
                layers(1, 1, 1, 1),
                ws,
                LinkMatrix.unmeasured(),
                2,
                2,
                2,
                4,
                1,
                PipelineSchedule.GPIPE,
                GradientSync.ALLREDUCE,
                1,
                1.0));
    assertThat(plan.stages())
        .flatExtracting(StagePlan::workers)
        .extracting(p -> p.workerId())
        .doesNotHaveDuplicates()
        .hasSize(8);
    assertThat(plan.stages().get(0).workers())
        .extracting(p -> p.replica() + "/" + p.copy())
        .containsExactly("0/0", "0/1", "1/0", "1/1");
  }

  @Test
  void gpt2SmallHasItsKnownParameterCount() {
    List<LayerCost> gpt =
        ModelCostEstimator.estimate(new GptModelSpec(12, 768, 12, 1024, 50257, 0.1, ""));
    assertThat(gpt).hasSize(14);
    long total = gpt.stream().mapToLong(LayerCost::paramBytes).sum();
    // The head's matrix is tied to the token embedding: counted once by Hugging Face.
    long tied = 768L * 50257 * 4;
    assertThat((total - tied) / 4).isEqualTo(124_439_808L);
  }
}
