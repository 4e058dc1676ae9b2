package io.flotilla.scheduler.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.flotilla.protocol.job.JobSpecWriter;
import io.flotilla.protocol.job.SpecError;
import io.flotilla.scheduler.job.JobView;
import io.flotilla.scheduler.job.StepMetrics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The JSON documents of the jobs API (docs/api.md). */
public final class JobJson {

  private static final ObjectMapper MAPPER =
      new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private JobJson() {}

  /** The mapper the API writes with (snake_case names for records). */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** A job without its spec and plan, as {@code GET /jobs} lists it. */
  public static Map<String, Object> summary(JobView view) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("id", view.jobId());
    json.put("name", view.spec() == null ? null : view.spec().name());
    json.put("team", view.team());
    json.put("state", view.phase().name().toLowerCase(Locale.ROOT));
    json.put("submitted_at", view.submittedAt() == null ? null : view.submittedAt().toString());
    json.put("updated_at", view.updatedAt() == null ? null : view.updatedAt().toString());
    json.put("steps_completed", view.stepsCompleted());
    json.put("total_steps", view.spec() == null ? null : view.spec().training().steps());
    json.put("last_loss", view.lastLoss());
    json.put("tokens", view.tokens());
    json.put("tokens_per_second", view.tokensPerSecond());
    json.put("last_step_ms", view.lastStepNanos() / 1e6);
    json.put("restarts", view.restarts());
    json.put("checkpoint_step", view.checkpoint() == null ? null : view.checkpoint().step());
    json.put("waiting", view.waiting());
    json.put("failure_reason", view.failureReason());
    return json;
  }

  /** Work per worker: steps, seconds computing, idle and synchronising, examples, bubble share. */
  public static Map<String, Object> workers(JobView view) {
    Map<String, Object> json = new java.util.TreeMap<>();
    view.workers()
        .forEach(
            (id, w) -> {
              Map<String, Object> one = new LinkedHashMap<>();
              one.put("steps", w.steps());
              one.put("compute_seconds", w.computeNanos() / 1e9);
              one.put("idle_seconds", w.idleNanos() / 1e9);
              one.put("sync_seconds", w.syncNanos() / 1e9);
              one.put("examples", w.examples());
              one.put("bubble_share", w.bubbleShare());
              json.put(id, one);
            });
    return json;
  }

  /**
   * What the ledger accepted to pay, per worker ({@code address}, {@code receipts}, {@code units},
   * {@code amount} in the job's currency) and in all ({@code total_units}, {@code spent}); null for
   * an unpaid job.
   */
  public static Map<String, Object> payments(JobView view, long unitsPerCurrency) {
    if (view.spec() == null
        || view.spec().payment().unit() == io.flotilla.protocol.job.PricingUnit.NONE) {
      return null;
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("currency", view.spec().payment().currency());
    json.put("budget", view.spec().payment().budget());
    json.put("total_units", view.spentUnits());
    json.put(
        "spent",
        io.flotilla.scheduler.job.JobPayments.inCurrency(view.spentUnits(), unitsPerCurrency));
    Map<String, Object> workers = new java.util.TreeMap<>();
    view.payments()
        .forEach(
            (id, p) -> {
              Map<String, Object> one = new LinkedHashMap<>();
              one.put("address", p.address());
              one.put("receipts", p.receipts());
              one.put("units", p.units());
              one.put(
                  "amount",
                  io.flotilla.scheduler.job.JobPayments.inCurrency(p.units(), unitsPerCurrency));
              workers.put(id, one);
            });
    json.put("workers", workers);
    return json;
  }

  /** The job's last checkpoint with a download path per shard, or null before the first. */
  public static Map<String, Object> checkpoint(JobView view) {
    if (view.checkpoint() == null) {
      return null;
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("step", view.checkpoint().step());
    json.put("bytes", view.checkpoint().bytes());
    json.put(
        "shards",
        view.checkpoint().shards().stream()
            .map(
                sh -> {
                  Map<String, Object> one = new LinkedHashMap<>();
                  one.put("stage", sh.stage());
                  one.put("sha256", sh.sha256());
                  one.put("bytes", sh.bytes());
                  one.put(
                      "path",
                      "/jobs/" + view.jobId() + "/checkpoint/stage-" + sh.stage() + ".safetensors");
                  return one;
                })
            .toList());
    return json;
  }

  /** One step's metrics as {@code GET /jobs/{id}/metrics} lists them. */
  public static Map<String, Object> step(StepMetrics m) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("step", m.step());
    json.put("loss", m.loss());
    json.put("tokens", m.tokens());
    json.put("step_ms", m.stepNanos() / 1e6);
    json.put("tokens_per_second", m.tokensPerSecond());
    json.put("bubble_share", m.bubbleShare());
    json.put("grad_norm", m.gradNorm());
    json.put("lr", m.lr());
    return json;
  }

  /** A job with its plan and canonical spec, as {@code GET /jobs/{id}} shows it. */
  public static Map<String, Object> detail(JobView view) {
    Map<String, Object> json = summary(view);
    json.put("plan", view.plan());
    json.put("checkpoint", checkpoint(view));
    json.put("workers", workers(view));
    json.put("spec", view.spec() == null ? null : JobSpecWriter.toTree(view.spec()));
    return json;
  }

  /** {@code {"error": message}}. */
  public static String error(String message) {
    return write(Map.of("error", message));
  }

  /** {@code {"error": ..., "errors": [{path, message, line}]}} for an invalid spec. */
  public static String specErrors(List<SpecError> errors) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("error", "invalid job spec: " + errors.size() + " error(s)");
    json.put(
        "errors",
        errors.stream()
            .map(
                e -> {
                  Map<String, Object> one = new LinkedHashMap<>();
                  one.put("path", e.path());
                  one.put("message", e.message());
                  if (e.line() > 0) {
                    one.put("line", e.line());
                  }
                  return one;
                })
            .toList());
    return write(json);
  }

  /** {@code value} as JSON text. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
    }
  }
}
