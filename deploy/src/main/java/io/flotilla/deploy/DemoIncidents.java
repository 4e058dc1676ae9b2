package io.flotilla.deploy;

import io.flotilla.gossip.reputation.ReputationRegistry;
import io.flotilla.gossip.reputation.WorkerReputation;
import io.flotilla.scheduler.job.JobEvent;
import io.flotilla.scheduler.job.JobManager;
import io.flotilla.scheduler.planner.PlanResult;
import io.flotilla.scheduler.verify.Verdict;
import io.flotilla.scheduler.verify.VerificationLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * What went wrong during a demo run with {@code --faulty} or {@code --churn}, and what the cluster
 * did about it, for a person to read: the workers the replica vote caught (from the job's
 * verification log) and quarantined (from the reputation registry, with its reason), the workers
 * killed and their replacements, and every interruption of the job with the placement that followed
 * (from the job's journal).
 *
 * @param events the job's journaled events, in order
 * @param verdicts the job's verification log
 * @param reputations every worker's record in the scheduler node's reputation replica
 * @param kills the workers killed by the churn, in order
 * @param faulty the workers started with a fault
 * @param logCopy where the verification log was copied for the reader
 */
public record DemoIncidents(
    List<Object> events,
    List<VerificationLog.Entry> verdicts,
    Map<String, WorkerReputation> reputations,
    List<WorkerChurn.Kill> kills,
    List<String> faulty,
    String logCopy) {

  private static final String QUERY_PLUGIN = "flotilla.scheduler.persistence.query";

  public DemoIncidents {
    events = List.copyOf(events);
    verdicts = List.copyOf(verdicts);
    reputations = Map.copyOf(reputations);
    kills = List.copyOf(kills);
    faulty = List.copyOf(faulty);
  }

  /** The events job {@code jobId} journaled, read from the journal of {@code system}. */
  public static List<Object> journal(ActorSystem<?> system, String jobId) throws Exception {
    JdbcReadJournal journal =
        PersistenceQuery.get(Adapter.toClassic(system))
            .getReadJournalFor(JdbcReadJournal.class, QUERY_PLUGIN);
    return journal
        .currentEventsByPersistenceId(JobManager.persistenceId(jobId), 0, Long.MAX_VALUE)
        .map(EventEnvelope::event)
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  /** Every worker's record in the replica of {@code system}'s reputation registry. */
  public static Map<String, WorkerReputation> reputations(
      ActorSystem<?> system,
      org.apache.pekko.actor.typed.ActorRef<ReputationRegistry.Command> registry)
      throws Exception {
    return AskPattern.<ReputationRegistry.Command, ReputationRegistry.Reputations>ask(
            registry,
            ReputationRegistry.GetReputations::new,
            Duration.ofSeconds(10),
            system.scheduler())
        .toCompletableFuture()
        .get(15, TimeUnit.SECONDS)
        .byId();
  }

  /** Results the replica vote threw away: outvoted ones, and all of a vote without a majority. */
  public long rejectedResults() {
    long n = 0;
    for (VerificationLog.Entry e : verdicts) {
      n += e.outcome() == Verdict.Outcome.ACCEPTED ? e.dissenting().size() : e.executions().size();
    }
    return n;
  }

  /** How often each worker was outvoted, by worker id. */
  public Map<String, Long> outvoted() {
    Map<String, Long> counts = new TreeMap<>();
    for (VerificationLog.Entry e : verdicts) {
      e.dissenting().forEach(w -> counts.merge(w, 1L, Long::sum));
    }
    return counts;
  }

  /** The report. */
  public String render() {
    StringBuilder out = new StringBuilder();
    renderVotes(out);
    if (!kills.isEmpty()) {
      out.append('\n');
      renderKills(out);
    }
    out.append('\n');
    renderRestarts(out);
    return out.toString();
  }

  private void renderVotes(StringBuilder out) {
    long unanimous =
        verdicts.stream()
            .filter(e -> e.outcome() == Verdict.Outcome.ACCEPTED && e.dissenting().isEmpty())
            .count();
    long outvoting =
        verdicts.stream()
            .filter(e -> e.outcome() == Verdict.Outcome.ACCEPTED && !e.dissenting().isEmpty())
            .count();
    long undecided = verdicts.size() - unanimous - outvoting;
    out.append("Caught by the replica vote (verification log: ").append(logCopy).append(")\n");
    out.append(
        String.format(
            Locale.ROOT,
            "  %,d votes: %,d unanimous, %,d outvoted a replica, %,d without a majority;"
                + " %,d results rejected, none of them entered the model.%n",
            verdicts.size(),
            unanimous,
            outvoting,
            undecided,
            rejectedResults()));
    Map<String, Long> outvoted = outvoted();
    Set<String> shown = new TreeSet<>(outvoted.keySet());
    shown.addAll(faulty);
    reputations.values().stream()
        .filter(WorkerReputation::quarantined)
        .forEach(r -> shown.add(r.workerId()));
    if (shown.isEmpty()) {
      out.append("  No worker was outvoted or quarantined.\n");
      return;
    }
    out.append(
        String.format(
            Locale.ROOT,
            "  %-10s %-6s %8s %11s  %s%n",
            "WORKER",
            "FAULTY",
            "OUTVOTED",
            "QUARANTINED",
            "WHY"));
    for (String w : shown) {
      WorkerReputation r = reputations.getOrDefault(w, WorkerReputation.unknown(w));
      out.append(
          String.format(
              Locale.ROOT,
              "  %-10s %-6s %8d %11s  %s%n",
              w,
              faulty.contains(w) ? "yes" : "no",
              outvoted.getOrDefault(w, 0L),
              r.quarantined() ? "yes" : "no",
              (r.quarantined() ? brief(r.quarantineReason()) + "; " : "")
                  + caught(w, outvoted.getOrDefault(w, 0L))));
    }
  }

  private void renderKills(StringBuilder out) {
    out.append("Workers killed (crashed: no leave, no goodbye; a fresh worker joined each time)\n");
    out.append(
        String.format(
            Locale.ROOT,
            "  %-8s %-10s %5s %7s  %s%n",
            "AT STEP",
            "WORKER",
            "STAGE",
            "REPLICA",
            "REPLACED BY"));
    for (WorkerChurn.Kill k : kills) {
      out.append(
          String.format(
              Locale.ROOT,
              "  %-8d %-10s %5d %7d  %s%n",
              k.step(),
              k.workerId(),
              k.stage(),
              k.replica(),
              k.replacement()));
    }
  }

  /** One interruption of the job and what followed it. */
  private static final class Restart {
    final long afterStep;
    final String reason;
    String waited;
    Set<String> out;
    Set<String> in;
    Long resumedFrom;

    Restart(long afterStep, String reason) {
      this.afterStep = afterStep;
      this.reason = reason;
    }
  }

  /** The job's interruptions, from its journal, in order. */
  private List<Restart> restarts() {
    List<Restart> restarts = new ArrayList<>();
    long steps = 0;
    Set<String> placed = Set.of();
    Restart open = null;
    for (Object e : events) {
      if (e instanceof JobEvent.StepCompleted c) {
        steps = c.metrics().step();
      } else if (e instanceof JobEvent.JobInterrupted i) {
        if (open != null) {
          restarts.add(open);
        }
        open = new Restart(steps, i.reason());
      } else if (e instanceof JobEvent.JobQueued q && open != null) {
        open.waited = q.waiting().reason();
      } else if (e instanceof JobEvent.JobPlanned p) {
        Set<String> now = workers(p.plan());
        if (open != null && open.out == null) {
          open.out = new TreeSet<>(placed);
          open.out.removeAll(now);
          open.in = new TreeSet<>(now);
          open.in.removeAll(placed);
        }
        placed = now;
      } else if (e instanceof JobEvent.JobStarted s) {
        steps = s.fromStep();
        if (open != null) {
          open.resumedFrom = s.fromStep();
          restarts.add(open);
          open = null;
        }
      }
    }
    if (open != null) {
      restarts.add(open);
    }
    return restarts;
  }

  private void renderRestarts(StringBuilder out) {
    List<Restart> restarts = restarts();
    out.append("Interruptions and re-placements (the job's journal)\n");
    if (restarts.isEmpty()) {
      out.append("  None: the job ran on its first placement from start to end.\n");
      return;
    }
    int n = 0;
    for (Restart r : restarts) {
      n++;
      out.append(
          String.format(
              Locale.ROOT, "  %2d. after step %d: %s%n", n, r.afterStep, brief(r.reason)));
      if (r.waited != null) {
        out.append("      waited for workers: ").append(r.waited).append('\n');
      }
      String placement;
      if (r.out == null) {
        placement = "not placed again before the next interruption";
      } else if (r.out.isEmpty() && r.in.isEmpty()) {
        placement = "placed again on the same workers";
      } else {
        placement = "placed again: " + list(r.out) + " out, " + list(r.in) + " in";
      }
      out.append("      ").append(placement);
      if (r.resumedFrom != null) {
        out.append("; resumed from step ").append(r.resumedFrom);
        if (r.resumedFrom < r.afterStep) {
          out.append(" (its last checkpoint)");
        }
      } else if (r.out != null && n < restarts.size()) {
        out.append("; interrupted again before it resumed");
      }
      out.append('\n');
    }
  }

  /** A reason cut to a readable length (failures that cascade over peers name each of them). */
  static String brief(String reason) {
    int max = 200;
    return reason.length() <= max ? reason : reason.substring(0, max - 3) + "...";
  }

  /** Why the vote caught {@code workerId}: where it was first outvoted, and by whom. */
  private String caught(String workerId, long times) {
    for (VerificationLog.Entry e : verdicts) {
      if (e.dissenting().contains(workerId)) {
        return String.format(
            Locale.ROOT,
            "outvoted %d time%s, first in stage %d after step %d by %s",
            times,
            times == 1 ? "" : "s",
            e.stage(),
            e.step() + 1,
            String.join(", ", e.agreeing()));
      }
    }
    return "never outvoted";
  }

  private static String list(Set<String> workers) {
    return workers.isEmpty() ? "none" : String.join(", ", workers);
  }

  private static Set<String> workers(PlanResult.Plan plan) {
    Map<String, Boolean> ids = new LinkedHashMap<>();
    plan.stages().forEach(s -> s.workers().forEach(p -> ids.put(p.workerId(), true)));
    return ids.keySet().stream().collect(Collectors.toCollection(TreeSet::new));
  }
}
