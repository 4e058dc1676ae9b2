package io.flotilla.scheduler.job;

import io.flotilla.protocol.metrics.NodeMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The job meters of one scheduler node, for the job managers that run on it:
 *
 * <ul>
 *   <li>{@code flotilla_jobs{state}}: jobs whose manager runs on this node, by phase;
 *   <li>{@code flotilla_jobs_submitted_total}, {@code flotilla_jobs_ended_total{state}} (completed,
 *       failed, cancelled): transitions journaled on this node;
 *   <li>{@code flotilla_job_step_seconds} (count, sum, max) and {@code flotilla_job_tokens_total}:
 *       every step of every job;
 *   <li>per running job ({@code job} label, removed when its manager stops): {@code
 *       flotilla_job_step_duration_seconds}, {@code flotilla_job_tokens_per_second}, {@code
 *       flotilla_job_bubble_ratio}, {@code flotilla_job_loss}, {@code flotilla_job_steps_completed}
 *       of its last step;
 *   <li>{@code flotilla_verification_results_total{outcome}}: worker results compared with their
 *       replicas' ({@code valid}, {@code invalid}, {@code undecided} when no majority exists);
 *   <li>{@code flotilla_slot_steps_total{run}}: steps of one stage replica computed, by the jobs'
 *       own slots ({@code own}, refused steps included) and by shadows ({@code shadow}); over the
 *       steps kept (stages x replicas x steps journaled) they are the verification overhead.
 * </ul>
 *
 * The managers update these where their events happen; nothing blocks.
 */
public final class JobMetrics implements Extension {

  /** The extension's id. */
  public static final ExtensionId<JobMetrics> ID =
      new ExtensionId<>() {
        @Override
        public JobMetrics createExtension(ActorSystem<?> system) {
          return new JobMetrics(NodeMetrics.get(system).registry());
        }
      };

  /** Outcomes of comparing a worker's result with its replicas'. */
  public enum Verification {
    /** The result agreed with its stage's majority. */
    VALID,
    /** The result was outvoted by a strict majority of its stage. */
    INVALID,
    /** The replicas disagreed without a majority; nobody was blamed. */
    UNDECIDED
  }

  private final MeterRegistry registry;
  private final Map<String, JobView.Phase> phases = new ConcurrentHashMap<>();
  private final Map<String, LiveJob> live = new ConcurrentHashMap<>();
  private final Counter submitted;
  private final Map<JobView.Phase, Counter> ended = new EnumMap<>(JobView.Phase.class);
  private final Map<Verification, Counter> verifications = new EnumMap<>(Verification.class);
  private final Timer stepTime;
  private final Counter tokens;
  private final Counter ownSlotSteps;
  private final Counter shadowSlotSteps;

  private JobMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (JobView.Phase phase : JobView.Phase.values()) {
      if (phase == JobView.Phase.NEW) {
        continue;
      }
      Gauge.builder("flotilla.jobs", phases, p -> count(p, phase))
          .description("Jobs whose manager runs on this node, by state")
          .tag("state", label(phase))
          .strongReference(true)
          .register(registry);
      if (phase.isTerminal()) {
        ended.put(
            phase,
            Counter.builder("flotilla.jobs.ended")
                .description("Jobs that ended on this node, by final state")
                .tag("state", label(phase))
                .register(registry));
      }
    }
    this.submitted =
        Counter.builder("flotilla.jobs.submitted")
            .description("Jobs submitted to this node's job managers")
            .register(registry);
    for (Verification v : Verification.values()) {
      verifications.put(
          v,
          Counter.builder("flotilla.verification.results")
              .description("Worker results compared with their replicas', by outcome")
              .tag("outcome", v.name().toLowerCase(Locale.ROOT))
              .register(registry));
    }
    this.stepTime =
        Timer.builder("flotilla.job.step")
            .description("Wall time of optimizer steps, from the orders to the last report")
            .register(registry);
    this.ownSlotSteps = slotSteps(registry, "own");
    this.shadowSlotSteps = slotSteps(registry, "shadow");
    this.tokens =
        Counter.builder("flotilla.job.tokens")
            .description("Tokens (or examples) trained on, over all jobs")
            .register(registry);
  }

  private static Counter slotSteps(MeterRegistry registry, String run) {
    return Counter.builder("flotilla.slot.steps")
        .description("Steps of one stage replica computed, by the jobs' own slots and by shadows")
        .tag("run", run)
        .register(registry);
  }

  /** A stage replica reported a step: of the job's own slots, or of a shadow. */
  void slotStepped(boolean shadow) {
    (shadow ? shadowSlotSteps : ownSlotSteps).increment();
  }

  /** Stage-replica steps computed on this node's jobs so far, by own slots or by shadows. */
  public long slotSteps(boolean shadow) {
    return (long) (shadow ? shadowSlotSteps : ownSlotSteps).count();
  }

  /** The extension of {@code system}, created on first use. */
  public static JobMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** A job manager recovered {@code state}: shows it without counting its past again. */
  void recovered(JobView state) {
    phase(state);
    if (state.stepsCompleted() > 0) {
      LiveJob job = live(state.jobId());
      job.stepSeconds = state.lastStepNanos() / 1e9;
      job.tokensPerSecond = state.tokensPerSecond();
      job.loss = state.lastLoss() == null ? Double.NaN : state.lastLoss();
      job.steps = state.stepsCompleted();
    }
  }

  /**
   * A job manager journaled {@code event}, which took the job from {@code before} to {@code after}.
   */
  void applied(JobView before, JobEvent event, JobView after) {
    phase(after);
    if (event instanceof JobEvent.JobSubmitted) {
      submitted.increment();
    } else if (event instanceof JobEvent.StepCompleted step) {
      StepMetrics m = step.metrics();
      stepTime.record(Duration.ofNanos(m.stepNanos()));
      tokens.increment(m.tokens());
      LiveJob job = live(after.jobId());
      job.stepSeconds = m.stepNanos() / 1e9;
      job.tokensPerSecond = m.tokensPerSecond();
      job.bubble = m.bubbleShare();
      job.loss = m.loss();
      job.steps = after.stepsCompleted();
    }
    if (after.phase().isTerminal() && !before.phase().isTerminal()) {
      ended.get(after.phase()).increment();
    }
  }

  /** Counts {@code results} worker results with {@code outcome}. */
  void verified(Verification outcome, int results) {
    verifications.get(outcome).increment(results);
  }

  /** The manager of {@code jobId} stopped on this node (passivated, moved, or the node stops). */
  void stopped(String jobId) {
    phases.remove(jobId);
    LiveJob job = live.remove(jobId);
    if (job != null) {
      job.meters.forEach(registry::remove);
    }
  }

  private void phase(JobView state) {
    if (state.phase() == JobView.Phase.NEW) {
      phases.remove(state.jobId());
    } else {
      phases.put(state.jobId(), state.phase());
    }
  }

  private LiveJob live(String jobId) {
    return live.computeIfAbsent(jobId, id -> new LiveJob(id, registry));
  }

  private static double count(Map<String, JobView.Phase> phases, JobView.Phase phase) {
    return phases.values().stream().filter(p -> p == phase).count();
  }

  private static String label(JobView.Phase phase) {
    return phase.name().toLowerCase(Locale.ROOT);
  }

  /** The last step of one job whose manager runs here, read by its gauges. */
  private static final class LiveJob {
    volatile double stepSeconds;
    volatile double tokensPerSecond;
    volatile double bubble;
    volatile double loss = Double.NaN;
    volatile long steps;
    final List<Meter> meters;

    LiveJob(String jobId, MeterRegistry registry) {
      this.meters =
          List.of(
              gauge(registry, jobId, "flotilla.job.step.duration", "seconds", j -> j.stepSeconds),
              gauge(
                  registry, jobId, "flotilla.job.tokens.per.second", null, j -> j.tokensPerSecond),
              gauge(registry, jobId, "flotilla.job.bubble.ratio", null, j -> j.bubble),
              gauge(registry, jobId, "flotilla.job.loss", null, j -> j.loss),
              gauge(registry, jobId, "flotilla.job.steps.completed", null, j -> j.steps));
    }

    private Gauge gauge(
        MeterRegistry registry,
        String jobId,
        String name,
        String unit,
        ToDoubleFunction<LiveJob> value) {
      return Gauge.builder(name, this, value)
          .description("Of the job's last completed step")
          .tag("job", jobId)
          .baseUnit(unit)
          .strongReference(true)
          .register(registry);
    }
  }
}
