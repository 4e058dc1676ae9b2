package io.flotilla.protocol.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobSpecParserTest {

  static final String VALID =
      """
      name: tiny
      model:
        type: gpt
        layers: 4
        width: 64
        heads: 4
        context: 32
      dataset:
        type: addition
      training:
        steps: 100
        global_batch: 32
        micro_batches: 4
        optimizer:
          lr: 3e-4
          betas: [0.9, 0.95]
      parallelism:
        pipeline_stages: 2
        replicas: 2
      """;

  /** Parses {@code yaml}, expecting failure, and returns "path: message" for every error. */
  static List<String> errors(String yaml) {
    InvalidJobSpecException e =
        catchThrowableOfType(InvalidJobSpecException.class, () -> JobSpecParser.parse(yaml));
    assertThat(e).as("spec should be rejected:\n%s", yaml).isNotNull();
    return e.errors().stream().map(x -> x.path() + ": " + x.message()).toList();
  }

  static String replace(String from, String to) {
    assertThat(VALID).contains(from);
    return VALID.replace(from, to);
  }

  @Test
  void validSpecGetsDefaults() {
    JobSpec spec = JobSpecParser.parse(VALID);
    assertThat(spec.name()).isEqualTo("tiny");
    assertThat(spec.model()).isEqualTo(new GptModelSpec(4, 64, 4, 32, 0, 0.0, ""));
    assertThat(spec.dataset().options())
        .isEqualTo(Map.of("digits", "3", "train_examples", "100000", "eval_examples", "1000"));
    assertThat(spec.training().optimizer())
        .isEqualTo(new OptimizerSpec("adamw", 3e-4, 0.9, 0.95, 1e-8, 0.0, 1.0));
    assertThat(spec.training().schedule()).isEqualTo(new LrScheduleSpec("cosine", 0, 0.1));
    assertThat(spec.parallelism())
        .isEqualTo(
            new ParallelismSpec(
                2, 2, PipelineSchedule.ONE_F_ONE_B, GradientSync.ALLREDUCE, DilocoSpec.DEFAULT));
    assertThat(spec.verification())
        .isEqualTo(new VerificationSpec(RedundancyMode.NONE, 1, 1e-4, 0.0));
    assertThat(spec.payment()).isEqualTo(PaymentSpec.NONE);
    assertThat(spec.checkpoint()).isEqualTo(new CheckpointSpec(1000, 3));
    assertThat(spec.microBatchSize()).isEqualTo(4);
  }

  @Test
  void everyErrorIsReportedAtOnceWithItsPath() {
    String yaml =
        """
        name: Bad_Name
        model:
          type: gpt
          layers: 0
          width: "wide"
          heads: 4
          context: 32
        dataset:
          type: addition
        training:
          steps: 100
          global_batch: 32
          optimzer:
            lr: 3e-4
        """;
    assertThat(errors(yaml))
        .containsExactly(
            "name: must be 1..63 lower-case letters, digits and '-', starting and ending with a"
                + " letter or digit; got \"Bad_Name\"",
            "model.layers: must be an integer in 1..1024; got 0",
            "model.width: expected an integer in 1..65536, got string \"wide\"",
            "training.optimzer: unknown field (did you mean \"optimizer\"?); allowed: steps,"
                + " global_batch, micro_batches, seed, eval_interval_steps, optimizer, schedule");
  }

  @Test
  void missingRequiredSections() {
    assertThat(errors("name: x\n"))
        .containsExactly(
            "model: required; type gpt or mlp with its sizes",
            "dataset: required; type addition, text, tokens or idx with its source",
            "training: required; steps, global_batch, optimizer, ...");
  }

  @Test
  void typeErrorsSayWhatWasGiven() {
    assertThat(errors(replace("lr: 3e-4", "lr: \"fast\"")))
        .containsExactly(
            "training.optimizer.lr: expected a number > 0 and <= 10, got string \"fast\"");
    assertThat(errors(replace("steps: 100", "steps: \"100\"")))
        .containsExactly("training.steps: expected an integer in 1..100000000, got string \"100\"");
    assertThat(errors(replace("steps: 100", "steps: 1.5")))
        .containsExactly("training.steps: expected an integer in 1..100000000, got number 1.5");
    assertThat(errors(replace("steps: 100", "steps: [1]")))
        .containsExactly("training.steps: expected an integer in 1..100000000, got a list");
    assertThat(errors(replace("type: addition", "type: {a: 1}")))
        .containsExactly(
            "dataset.type: expected a string (one of addition, text, tokens, idx), got a mapping");
  }

  @Test
  void rangeErrors() {
    assertThat(errors(replace("lr: 3e-4", "lr: 0")))
        .containsExactly("training.optimizer.lr: must be a number > 0 and <= 10; got 0");
    assertThat(errors(replace("betas: [0.9, 0.95]", "betas: [0.9, 1.5]")))
        .containsExactly(
            "training.optimizer.betas[1]: expected a number >= 0 and < 1, got number 1.5");
    assertThat(errors(replace("betas: [0.9, 0.95]", "betas: [0.9]")))
        .containsExactly(
            "training.optimizer.betas: must hold exactly two numbers in [0, 1); got 1");
  }

  @Test
  void choicesSuggestTheClosestValue() {
    assertThat(errors(replace("replicas: 2", "replicas: 2\n  schedule: gpip")))
        .containsExactly(
            "parallelism.schedule: must be one of gpipe, 1f1b; got \"gpip\" (did you mean"
                + " \"gpipe\"?)");
    assertThat(errors(replace("type: gpt", "type: transformer")))
        .containsExactly("model.type: must be one of gpt, mlp; got \"transformer\"");
  }

  @Test
  void unknownFieldsAtEveryLevel() {
    assertThat(errors(VALID + "extra: 1\n"))
        .containsExactly(
            "extra: unknown field; allowed: name, description, model, dataset, training,"
                + " parallelism, verification, payment, checkpoint");
    assertThat(errors(replace("heads: 4", "heads: 4\n  n_head: 4")))
        .containsExactly(
            "model.n_head: unknown field; allowed: type, dropout, init_from, layers, width,"
                + " heads, context, vocab_size");
    assertThat(errors(replace("type: addition", "type: addition\n  options: {digit: 3}")))
        .containsExactly(
            "dataset.options.digit: unknown field (did you mean \"digits\"?); allowed: digits,"
                + " train_examples, eval_examples");
  }

  @Test
  void serverSetFieldsAreRejected() {
    assertThat(errors("team: ml\n" + VALID))
        .containsExactly(
            "team: team is set by the server from the submitter's credentials; remove it from"
                + " the spec");
  }

  @Test
  void duplicateKeysAreErrors() {
    assertThat(errors(replace("steps: 100", "steps: 100\n  steps: 200")))
        .containsExactly("training.steps: appears twice; give each field once");
  }

  @Test
  void globalBatchMustSplitEvenly() {
    assertThat(errors(replace("global_batch: 32", "global_batch: 30")))
        .containsExactly(
            "training.global_batch: must be divisible by parallelism.replicas x"
                + " training.micro_batches = 2 x 4 = 8; got 30 (nearest: 24 or 32)");
  }

  @Test
  void headsMustDivideWidth() {
    assertThat(errors(replace("heads: 4", "heads: 5")))
        .containsExactly(
            "model.heads: must divide model.width (64) so each head gets width/heads dimensions;"
                + " got 5");
  }

  @Test
  void tooManyPipelineStages() {
    assertThat(errors(replace("pipeline_stages: 2", "pipeline_stages: 7")))
        .containsExactly(
            "parallelism.pipeline_stages: must be at most 6, the number of layers the model can"
                + " be cut between (embedding + 4 blocks + head); got 7");
  }

  @Test
  void dilocoRules() {
    assertThat(errors(replace("replicas: 2", "replicas: 1\n  gradient_sync: diloco")))
        .contains(
            "parallelism.gradient_sync: diloco averages across replicas and needs"
                + " parallelism.replicas >= 2; got 1");
    assertThat(errors(replace("replicas: 2", "replicas: 2\n  diloco: {inner_steps: 10}")))
        .containsExactly("parallelism.diloco: only allowed with gradient_sync: diloco");
    assertThat(
            errors(
                replace(
                    "replicas: 2",
                    "replicas: 2\n  gradient_sync: diloco\n  diloco: {inner_steps: 500}")))
        .containsExactly(
            "parallelism.diloco.inner_steps: must be at most training.steps (100); got 500");
    JobSpec spec =
        JobSpecParser.parse(
            replace(
                "replicas: 2",
                "replicas: 2\n  gradient_sync: diloco\n  diloco: {inner_steps: 50, outer_lr: 0.5}"));
    assertThat(spec.parallelism().diloco()).isEqualTo(new DilocoSpec(50, 0.5, 0.9));
  }

  @Test
  void warmupLongerThanTraining() {
    assertThat(
            errors(
                replace("steps: 100", "steps: 100\n  schedule: {type: cosine, warmup_steps: 500}")))
        .containsExactly(
            "training.schedule.warmup_steps: must be at most training.steps (100); got 500");
    assertThat(
            errors(
                replace(
                    "steps: 100", "steps: 100\n  schedule: {type: constant, min_lr_ratio: 0.1}")))
        .containsExactly("training.schedule.min_lr_ratio: only applies to schedule type cosine");
  }

  @Test
  void datasetAndModelMustMatch() {
    assertThat(errors(replace("type: addition", "type: idx\n  source: /data/mnist")))
        .containsExactly("model.type: dataset type idx needs model type mlp; got gpt");
    assertThat(errors(replace("type: addition", "type: tokens\n  source: train.bin")))
        .containsExactly(
            "model.vocab_size: required for dataset type tokens; an integer in 2..16777216 above"
                + " the largest token id");
    assertThat(errors(replace("type: addition", "type: addition\n  source: x.txt")))
        .containsExactly(
            "dataset.source: not allowed for dataset type addition (its examples are generated)");
    assertThat(errors(replace("type: addition", "type: text")))
        .containsExactly("dataset.source: required; a file path");
    assertThat(errors(replace("context: 32", "context: 8")))
        .containsExactly(
            "model.context: must be at least 3 x dataset.options.digits + 3 = 12 to hold one"
                + " addition example; got 8");
  }

  @Test
  void mlpOnImages() {
    String yaml =
        """
        name: mnist
        model: {type: mlp, hidden_sizes: [256, 0, x]}
        dataset: {type: idx, source: /usr/share/datasets/fashion-mnist}
        training: {steps: 10, global_batch: 64}
        """;
    assertThat(errors(yaml))
        .containsExactly(
            "model.hidden_sizes[1]: expected an integer in 1..1048576, got integer 0",
            "model.hidden_sizes[2]: expected an integer in 1..1048576, got string \"x\"");
    JobSpec spec = JobSpecParser.parse(yaml.replace(", 0, x", ", 128"));
    assertThat(spec.model()).isEqualTo(new MlpModelSpec(784, List.of(256, 128), 10, 0.0, ""));
    assertThat(spec.dataset().options())
        .isEqualTo(Map.of("train_prefix", "train", "eval_prefix", "t10k"));
  }

  @Test
  void redundancyForms() {
    assertThat(parseVerification("redundancy: 3"))
        .isEqualTo(new VerificationSpec(RedundancyMode.FIXED, 3, 1e-4, 0.0));
    assertThat(parseVerification("redundancy: adaptive"))
        .isEqualTo(new VerificationSpec(RedundancyMode.ADAPTIVE, 2, 1e-4, 0.05));
    assertThat(parseVerification("redundancy: none\n  tolerance: 1e-5"))
        .isEqualTo(new VerificationSpec(RedundancyMode.NONE, 1, 1e-5, 0.0));
    assertThat(parseVerification("redundancy: adaptive\n  absolute_tolerance: 1e-8"))
        .isEqualTo(new VerificationSpec(RedundancyMode.ADAPTIVE, 2, 1e-4, 0.05, 1e-8));
    assertThat(parseVerification("redundancy: 2").absoluteTolerance())
        .isEqualTo(VerificationSpec.DEFAULT_ABSOLUTE_TOLERANCE);
    assertThat(errors(VALID + "verification:\n  absolute_tolerance: 2\n"))
        .containsExactly("verification.absolute_tolerance: must be a number >= 0 and <= 1; got 2");
    assertThat(errors(VALID + "verification:\n  redundancy: 7\n"))
        .containsExactly(
            "verification.redundancy: must be none, adaptive, or an integer factor 2..5; got 7");
    assertThat(errors(VALID + "verification:\n  redundancy: adaptiv\n"))
        .containsExactly(
            "verification.redundancy: must be none, adaptive, or an integer factor 2..5; got"
                + " string \"adaptiv\" (did you mean \"adaptive\"?)");
    assertThat(errors(VALID + "verification:\n  redundancy: 2\n  spot_check_rate: 0.1\n"))
        .containsExactly(
            "verification.spot_check_rate: only applies to redundancy none or adaptive (fixed"
                + " redundancy checks every task)");
  }

  static VerificationSpec parseVerification(String body) {
    return JobSpecParser.parse(VALID + "verification:\n  " + body + "\n").verification();
  }

  @Test
  void payment() {
    JobSpec spec =
        JobSpecParser.parse(
            VALID + "payment: {unit: per-gflop, price: \"0.000002\", budget: 50, currency: ETH}\n");
    assertThat(spec.payment())
        .isEqualTo(
            new PaymentSpec(
                PricingUnit.PER_GFLOP, new BigDecimal("0.000002"), new BigDecimal("5E+1"), "ETH"));
    assertThat(errors(VALID + "payment: {unit: per-tsk, price: -1, budget: 0.5}\n"))
        .containsExactly(
            "payment.unit: must be one of per-gflop, per-task; got \"per-tsk\" (did you mean"
                + " \"per-task\"?)",
            "payment.price: must be a decimal number > 0, e.g. 0.002; got -1",
            "payment.currency: required; a token or currency symbol, e.g. ETH");
    assertThat(errors(VALID + "payment: {unit: per-task, price: 2, budget: 1, currency: c}\n"))
        .containsExactly(
            "payment.budget: must be at least payment.price (2) or no work can be paid; got 1");
  }

  @Test
  void notYamlOrNotAMapping() {
    assertThat(errors("name: [unclosed\n"))
        .hasSize(1)
        .first()
        .asString()
        .startsWith(": not valid YAML");
    assertThat(errors(""))
        .containsExactly(": spec is empty; expected a mapping with name, model, dataset, training");
    assertThat(errors("- a\n- b\n"))
        .containsExactly(": expected a mapping with name, model, dataset, training; got a list");
  }

  @Test
  void errorsCarryLineNumbers() {
    InvalidJobSpecException e =
        catchThrowableOfType(
            InvalidJobSpecException.class,
            () -> JobSpecParser.parse(replace("steps: 100", "steps: -1")));
    assertThat(e.errors()).singleElement().extracting(SpecError::line).isEqualTo(11);
    assertThat(e.getMessage())
        .isEqualTo(
            "invalid job spec (1 error):\n"
                + "  line 11: training.steps: must be an integer in 1..100000000; got -1");
  }

  @Test
  void jsonIsAccepted() {
    JobSpec fromJson =
        JobSpecParser.parse(
            """
            {"name": "tiny",
             "model": {"type": "gpt", "layers": 4, "width": 64, "heads": 4, "context": 32},
             "dataset": {"type": "addition"},
             "training": {"steps": 100, "global_batch": 32, "micro_batches": 4,
                          "optimizer": {"lr": 3e-4, "betas": [0.9, 0.95]}},
             "parallelism": {"pipeline_stages": 2, "replicas": 2}}
            """);
    assertThat(fromJson).isEqualTo(JobSpecParser.parse(VALID));
  }

  @Test
  void canonicalYamlAndJsonParseBackEqual() {
    JobSpec spec =
        JobSpecParser.parse(
            VALID.replace(
                    "replicas: 2",
                    "replicas: 2\n  gradient_sync: diloco\n  diloco: {inner_steps: 20}")
                + "description: \"a: tricky\\n\\\"text\\\"\"\n"
                + "verification: {redundancy: adaptive, spot_check_rate: 0.2}\n"
                + "payment: {unit: per-task, price: 0.25, budget: 1000, currency: credits}\n");
    String yaml = JobSpecWriter.toYaml(spec);
    String json = JobSpecWriter.toJson(spec);
    assertThat(JobSpecParser.parse(yaml)).isEqualTo(spec);
    assertThat(JobSpecParser.parse(json)).isEqualTo(spec);
    assertThat(yaml)
        .startsWith("name: tiny\ndescription: \"a: tricky\\n\\\"text\\\"\"\nmodel:\n  type: gpt\n")
        .contains("  optimizer:\n    type: adamw\n    lr: 3.0E-4\n    betas: [0.9, 0.95]\n")
        .contains("parallelism:\n  pipeline_stages: 2\n  replicas: 2\n  schedule: \"1f1b\"\n");
    assertThat(json).startsWith("{\n  \"name\": \"tiny\",\n");
  }

  @Test
  void specsBuiltInCodeAreValidatedByTheSameRules() {
    JobSpec valid = JobSpecParser.parse(VALID);
    assertThat(JobSpecParser.validate(valid)).isEmpty();
    JobSpec hostile =
        new JobSpec(
            "tiny",
            "",
            new GptModelSpec(4, 64, 3, 32, 0, 0.0, ""),
            valid.dataset(),
            valid.training(),
            valid.parallelism(),
            valid.verification(),
            valid.payment(),
            new CheckpointSpec(-5, 3));
    assertThat(JobSpecParser.validate(hostile))
        .extracting(e -> e.path() + ": " + e.message())
        .containsExactly(
            "model.heads: must divide model.width (64) so each head gets width/heads dimensions;"
                + " got 3",
            "checkpoint.interval_steps: must be an integer in 1..100000000; got -5");
  }
}
