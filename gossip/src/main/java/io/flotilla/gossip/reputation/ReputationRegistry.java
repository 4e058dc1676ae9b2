package io.flotilla.gossip.reputation;

import io.flotilla.protocol.ControlMessage;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.PNCounterMap;
import org.apache.pekko.cluster.ddata.PNCounterMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.pattern.StatusReply;

/**
 * This node's view of every worker's reputation, replicated with Pekko Distributed Data so that
 * every scheduler node sees and updates the same records. Only the nodes of {@link
 * io.flotilla.gossip.SchedulerState#role()} hold a replica; the others run a {@link #proxy()} that
 * passes every command to one of them.
 *
 * <p>Two CRDTs hold the state:
 *
 * <ul>
 *   <li>{@link #COUNTERS}, a {@link PNCounterMap}: per worker the counts of valid results, invalid
 *       results and tasks done, and the valid results within each <em>run</em>. A run is numbered
 *       by the worker's invalid count when its valid results were recorded, so the worker's
 *       consecutive valid results are the counter of the run numbered with its current invalid
 *       count, and one invalid result starts a new run at zero. Counters merge by adding what every
 *       node recorded, so two scheduler nodes that record results for the same worker at the same
 *       time lose no count. A valid result recorded concurrently with an invalid one lands in the
 *       old run: consecutive valid results are under-counted, never over-counted.
 *   <li>{@link #QUARANTINE}, an {@link LWWMap} of worker -&gt; {@link QuarantineStatus}: quarantine
 *       and release are decisions, the last one wins.
 * </ul>
 *
 * <p>Every node checks the threshold whenever the replicated state changes: a worker whose invalid
 * results since its last release reach {@link ReputationSettings#quarantineAfterInvalid()} is
 * quarantined, so the quarantine takes effect cluster-wide even when no single node recorded enough
 * invalid results by itself. Counter writes are local (they spread by gossip within the
 * distributed-data gossip interval); quarantine and release wait for a majority.
 */
public final class ReputationRegistry extends AbstractBehavior<ReputationRegistry.Command> {

  /** Per-worker counters; part of the cluster's shared state. */
  public static final Key<PNCounterMap<String>> COUNTERS =
      PNCounterMapKey.create("flotilla-reputation-counters");

  /** Per-worker quarantine status; part of the cluster's shared state. */
  public static final Key<LWWMap<String, QuarantineStatus>> QUARANTINE =
      LWWMapKey.create("flotilla-reputation-quarantine");

  private static final char SEP = '\u001f';
  private static final String VALID = "valid";
  private static final String INVALID = "invalid";
  private static final String TASKS = "tasks";
  private static final String RUN = "run@";

  /** Messages the reputation registry understands. */
  public sealed interface Command extends ControlMessage {}

  /**
   * A verifier accepted a result of {@code workerId}: one more valid result, consecutive valid
   * result and task done. Replies once the local replica holds it ({@code replyTo} may be null).
   */
  public record RecordValid(String workerId, long results, ActorRef<StatusReply<Done>> replyTo)
      implements Command {
    public RecordValid {
      checkWorkerId(workerId);
      if (results < 1) {
        throw new IllegalArgumentException("results must be >= 1, was " + results);
      }
    }

    /** One valid result. */
    public RecordValid(String workerId, ActorRef<StatusReply<Done>> replyTo) {
      this(workerId, 1, replyTo);
    }
  }

  /**
   * A verifier rejected a result of {@code workerId}: one more invalid result and task done, and
   * its consecutive valid results start again at zero. May quarantine the worker.
   */
  public record RecordInvalid(String workerId, String reason, ActorRef<StatusReply<Done>> replyTo)
      implements Command {
    public RecordInvalid {
      checkWorkerId(workerId);
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** {@code workerId} finished a task whose result was not checked: one more task done. */
  public record RecordUnverified(String workerId, ActorRef<StatusReply<Done>> replyTo)
      implements Command {
    public RecordUnverified {
      checkWorkerId(workerId);
    }
  }

  /** Quarantines a worker cluster-wide at once (an operator's decision). */
  public record Quarantine(String workerId, String reason, ActorRef<StatusReply<Done>> replyTo)
      implements Command {
    public Quarantine {
      checkWorkerId(workerId);
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * Releases a quarantined worker (an operator's decision). Its invalid results so far are
   * forgiven: only later ones count towards the threshold. Replies an error when the worker is not
   * quarantined in this node's replica.
   */
  public record Unquarantine(String workerId, String reason, ActorRef<StatusReply<Done>> replyTo)
      implements Command {
    public Unquarantine {
      checkWorkerId(workerId);
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** Asks for one worker's record; an unknown worker's record is all zeros. */
  public record GetReputation(String workerId, ActorRef<WorkerReputation> replyTo)
      implements Command {}

  /** Asks for every record in the local replica. */
  public record GetReputations(ActorRef<Reputations> replyTo) implements Command {}

  /** Sends {@link Reputations} to {@code subscriber} now and after every change. */
  public record SubscribeReputations(ActorRef<Reputations> subscriber) implements Command {}

  /** Stops sending changes to {@code subscriber}. */
  public record UnsubscribeReputations(ActorRef<Reputations> subscriber) implements Command {}

  /**
   * A snapshot of every known worker's record, by worker id, and the ids of the quarantined ones
   * (derived from the records, computed once for the many readers of each snapshot).
   */
  public record Reputations(Map<String, WorkerReputation> byId, Set<String> quarantinedIds)
      implements ControlMessage {
    public Reputations {
      byId = byId == null ? Map.of() : Map.copyOf(byId);
      quarantinedIds =
          byId.values().stream()
              .filter(WorkerReputation::quarantined)
              .map(WorkerReputation::workerId)
              .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** The snapshot of {@code byId}. */
    public Reputations(Map<String, WorkerReputation> byId) {
      this(byId, Set.of());
    }

    /** The record of {@code workerId}, all zeros when unknown. */
    public WorkerReputation of(String workerId) {
      return byId.getOrDefault(workerId, WorkerReputation.unknown(workerId));
    }

    /** The records sorted by worker id. */
    public List<WorkerReputation> sorted() {
      return new ArrayList<>(new TreeMap<>(byId).values());
    }

    /** The quarantined workers' records, sorted by worker id. */
    public List<WorkerReputation> quarantined() {
      return sorted().stream().filter(WorkerReputation::quarantined).toList();
    }
  }

  private static void checkWorkerId(String workerId) {
    Objects.requireNonNull(workerId, "workerId");
    if (workerId.isBlank() || workerId.length() > 128) {
      throw new IllegalArgumentException("workerId must be 1..128 characters");
    }
    for (int i = 0; i < workerId.length(); i++) {
      if (Character.isISOControl(workerId.charAt(i))) {
        throw new IllegalArgumentException("workerId must not contain control characters");
      }
    }
  }

  private sealed interface Internal extends Command, NoSerializationVerificationNeeded {}

  private record CountersChanged(Replicator.SubscribeResponse<PNCounterMap<String>> r)
      implements Internal {}

  private record QuarantineChanged(Replicator.SubscribeResponse<LWWMap<String, QuarantineStatus>> r)
      implements Internal {}

  private record CountersUpdated(Replicator.UpdateResponse<PNCounterMap<String>> r)
      implements Internal {}

  /** Writes the valid results recorded since the last flush, as one update. */
  private enum FlushValid implements Internal {
    INSTANCE
  }

  private record ReleaseCountsRead(
      Replicator.GetResponse<PNCounterMap<String>> r, Unquarantine command) implements Internal {}

  private record QuarantineUpdated(
      Replicator.UpdateResponse<LWWMap<String, QuarantineStatus>> r,
      String workerId,
      ActorRef<StatusReply<Done>> replyTo,
      String description)
      implements Internal {}

  /**
   * Creates the registry of a node that holds a replica, in {@code replicator} (see {@link
   * io.flotilla.gossip.SchedulerState}); it registers itself with the receptionist under {@link
   * #SERVICE}.
   */
  public static Behavior<Command> create(
      ReputationSettings settings,
      Clock clock,
      ActorRef<Replicator.Command> replicator,
      Duration unexpectedAskTimeout) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new ReputationRegistry(
                        ctx,
                        timers,
                        new ReplicatorMessageAdapter<>(ctx, replicator, unexpectedAskTimeout),
                        new ReplicatorMessageAdapter<>(ctx, replicator, unexpectedAskTimeout),
                        replicator,
                        settings,
                        clock)));
  }

  /**
   * The reputation actor of a node that holds no replica: every command goes to the registry of a
   * node that does, found through the receptionist ({@link #SERVICE}). While none is known (a
   * cluster without scheduler nodes, or before the first joined), reads answer that no worker has a
   * record, writes answer an error that says so, and subscriptions wait for one.
   */
  public static Behavior<Command> proxy() {
    return Behaviors.setup(Proxy::new);
  }

  /** The registries of the nodes that hold a replica. */
  public static final ServiceKey<Command> SERVICE =
      ServiceKey.create(Command.class, "flotilla-reputation");

  private record Registries(Receptionist.Listing listing) implements Internal {}

  private static final class Proxy extends AbstractBehavior<Command> {
    private static final String NONE =
        "no node that keeps workers' reputation (role "
            + "flotilla.gossip.scheduler-state.role) is in the cluster";
    private final Set<ActorRef<Reputations>> waitingSubscribers = new HashSet<>();
    private ActorRef<Command> target;

    private Proxy(ActorContext<Command> context) {
      super(context);
      context
          .getSystem()
          .receptionist()
          .tell(
              Receptionist.subscribe(
                  SERVICE, context.messageAdapter(Receptionist.Listing.class, Registries::new)));
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Registries.class, this::onRegistries)
          .onMessage(Command.class, this::onCommand)
          .build();
    }

    private Behavior<Command> onRegistries(Registries msg) {
      // The same choice on every node while the set is stable, so reads agree with each other.
      target =
          msg.listing().getServiceInstances(SERVICE).stream()
              .min(java.util.Comparator.comparing(r -> r.path().toString()))
              .orElse(null);
      if (target != null) {
        waitingSubscribers.forEach(s -> target.tell(new SubscribeReputations(s)));
        waitingSubscribers.clear();
      }
      return this;
    }

    private Behavior<Command> onCommand(Command cmd) {
      if (target != null) {
        target.tell(cmd);
        return this;
      }
      switch (cmd) {
        case GetReputation get -> get.replyTo().tell(WorkerReputation.unknown(get.workerId()));
        case GetReputations get -> get.replyTo().tell(new Reputations(Map.of()));
        case SubscribeReputations sub -> {
          waitingSubscribers.add(sub.subscriber());
          sub.subscriber().tell(new Reputations(Map.of()));
        }
        case UnsubscribeReputations unsub -> waitingSubscribers.remove(unsub.subscriber());
        case RecordValid r -> refuse(r.replyTo());
        case RecordInvalid r -> refuse(r.replyTo());
        case RecordUnverified r -> refuse(r.replyTo());
        case Quarantine r -> refuse(r.replyTo());
        case Unquarantine r -> refuse(r.replyTo());
        default -> {}
      }
      return this;
    }

    private void refuse(ActorRef<StatusReply<Done>> replyTo) {
      if (replyTo != null) {
        replyTo.tell(StatusReply.error(NONE));
      } else {
        getContext().getLog().warn("Reputation: {}; a record was dropped", NONE);
      }
    }
  }

  private final TimerScheduler<Command> timers;
  private final ReplicatorMessageAdapter<Command, PNCounterMap<String>> counters;
  private final ReplicatorMessageAdapter<Command, LWWMap<String, QuarantineStatus>> quarantine;
  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final ReputationSettings settings;
  private final Clock clock;
  private final Set<ActorRef<Reputations>> subscribers = new HashSet<>();
  private final Map<String, String> lastInvalidReason = new HashMap<>();
  private final Set<String> quarantining = new HashSet<>();
  private final Map<String, Long> pendingValid = new LinkedHashMap<>();
  private final List<ActorRef<StatusReply<Done>>> pendingReplies = new ArrayList<>();
  private final java.util.ArrayDeque<List<ActorRef<StatusReply<Done>>>> awaitingUpdates =
      new java.util.ArrayDeque<>();
  private final ActorRef<Replicator.UpdateResponse<PNCounterMap<String>>> counterUpdates;
  private Map<String, BigInteger> counterEntries = Map.of();
  private Map<String, QuarantineStatus> statuses = Map.of();
  private Reputations current = new Reputations(Map.of());
  private final io.flotilla.gossip.GossipMetrics metrics;

  private ReputationRegistry(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ReplicatorMessageAdapter<Command, PNCounterMap<String>> counters,
      ReplicatorMessageAdapter<Command, LWWMap<String, QuarantineStatus>> quarantine,
      ActorRef<Replicator.Command> replicator,
      ReputationSettings settings,
      Clock clock) {
    super(context);
    this.timers = timers;
    this.counters = counters;
    this.quarantine = quarantine;
    this.replicator = replicator;
    this.self = DistributedData.get(context.getSystem()).selfUniqueAddress();
    this.settings = settings;
    this.clock = clock;
    this.metrics = io.flotilla.gossip.GossipMetrics.get(context.getSystem());
    this.counterUpdates = context.messageAdapter(counterResponses(), CountersUpdated::new);
    counters.subscribe(COUNTERS, CountersChanged::new);
    quarantine.subscribe(QUARANTINE, QuarantineChanged::new);
    context.getSystem().receptionist().tell(Receptionist.register(SERVICE, context.getSelf()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RecordValid.class, this::onRecordValid)
        .onMessageEquals(FlushValid.INSTANCE, this::onFlushValid)
        .onMessage(RecordInvalid.class, this::onRecordInvalid)
        .onMessage(RecordUnverified.class, this::onRecordUnverified)
        .onMessage(Quarantine.class, this::onQuarantine)
        .onMessage(Unquarantine.class, this::onUnquarantine)
        .onMessage(GetReputation.class, this::onGetReputation)
        .onMessage(GetReputations.class, this::onGetReputations)
        .onMessage(SubscribeReputations.class, this::onSubscribe)
        .onMessage(UnsubscribeReputations.class, this::onUnsubscribe)
        .onMessage(CountersChanged.class, this::onCountersChanged)
        .onMessage(QuarantineChanged.class, this::onQuarantineChanged)
        .onMessage(CountersUpdated.class, this::onCountersUpdated)
        .onMessage(QuarantineUpdated.class, this::onQuarantineUpdated)
        .onMessage(ReleaseCountsRead.class, this::onReleaseCountsRead)
        .build();
  }

  private static String key(String workerId, String counter) {
    return workerId + SEP + counter;
  }

  private static long count(PNCounterMap<String> map, String key) {
    // One lookup: getEntries() would copy the whole map, once per worker of a flush.
    BigInteger value = map.contains(key) ? map.getValue(key) : null;
    return value == null ? 0 : value.longValue();
  }

  /**
   * Valid results are the bulk of the traffic (one per worker per verified step): they are counted
   * here and written as one update every {@code valid-flush-interval}, so a busy cluster sends the
   * replicator a few updates a second instead of thousands.
   */
  private Behavior<Command> onRecordValid(RecordValid cmd) {
    if (pendingValid.isEmpty()) {
      if (settings.validFlushInterval().isZero()) {
        getContext().getSelf().tell(FlushValid.INSTANCE);
      } else {
        timers.startSingleTimer(FlushValid.INSTANCE, settings.validFlushInterval());
      }
    }
    pendingValid.merge(cmd.workerId(), cmd.results(), Long::sum);
    if (cmd.replyTo() != null) {
      pendingReplies.add(cmd.replyTo());
    }
    return this;
  }

  private Behavior<Command> onFlushValid() {
    timers.cancel(FlushValid.INSTANCE);
    if (pendingValid.isEmpty()) {
      return this;
    }
    Map<String, Long> valid = new LinkedHashMap<>(pendingValid);
    List<ActorRef<StatusReply<Done>>> replies = List.copyOf(pendingReplies);
    pendingValid.clear();
    pendingReplies.clear();
    updateCounters(
        map -> {
          PNCounterMap<String> result = map;
          for (Map.Entry<String, Long> e : valid.entrySet()) {
            String w = e.getKey();
            long n = e.getValue();
            long run = count(result, key(w, INVALID));
            result =
                result
                    .increment(self, key(w, VALID), n)
                    .increment(self, key(w, RUN + run), n)
                    .increment(self, key(w, TASKS), n);
          }
          return result;
        },
        replies);
    return this;
  }

  private Behavior<Command> onRecordInvalid(RecordInvalid cmd) {
    onFlushValid(); // valid results recorded before this one count in the run before it
    String w = cmd.workerId();
    lastInvalidReason.put(w, cmd.reason());
    getContext().getLog().info("Reputation: invalid result of {}: {}", w, cmd.reason());
    updateCounters(
        map -> map.increment(self, key(w, INVALID), 1).increment(self, key(w, TASKS), 1),
        replies(cmd.replyTo()));
    return this;
  }

  private Behavior<Command> onRecordUnverified(RecordUnverified cmd) {
    updateCounters(
        map -> map.increment(self, key(cmd.workerId(), TASKS), 1), replies(cmd.replyTo()));
    return this;
  }

  private static List<ActorRef<StatusReply<Done>>> replies(ActorRef<StatusReply<Done>> replyTo) {
    return replyTo == null ? List.of() : List.of(replyTo);
  }

  private void updateCounters(
      Function<PNCounterMap<String>, PNCounterMap<String>> modify,
      List<ActorRef<StatusReply<Done>>> replyTo) {
    // Told, not asked: a replicator backlogged past the ask timeout would otherwise fail this
    // actor, and every reputation of the node with it; a late local write is still a write.
    // Local writes are answered in order, so the waiting replies form a queue.
    awaitingUpdates.addLast(replyTo);
    replicator.tell(
        new Replicator.Update<>(
            COUNTERS, PNCounterMap.empty(), Replicator.writeLocal(), counterUpdates, modify));
  }

  /** The class of the replicator's answers to counter updates, for a message adapter. */
  private static Class<Replicator.UpdateResponse<PNCounterMap<String>>> counterResponses() {
    @SuppressWarnings("unchecked")
    Class<Replicator.UpdateResponse<PNCounterMap<String>>> c =
        (Class<Replicator.UpdateResponse<PNCounterMap<String>>>)
            (Class<?>) Replicator.UpdateResponse.class;
    return c;
  }

  private Behavior<Command> onQuarantine(Quarantine cmd) {
    writeStatus(
        cmd.workerId(),
        new QuarantineStatus(true, cmd.reason(), clock.millis(), baselineOf(cmd.workerId())),
        cmd.replyTo(),
        "quarantine " + cmd.workerId());
    return this;
  }

  private Behavior<Command> onUnquarantine(Unquarantine cmd) {
    WorkerReputation rep = current.of(cmd.workerId());
    if (!rep.quarantined()) {
      if (cmd.replyTo() != null) {
        cmd.replyTo().tell(StatusReply.error("worker " + cmd.workerId() + " is not quarantined"));
      }
      return this;
    }
    // The snapshot lags the replicator by its notification interval, and other nodes may hold
    // invalid results not yet gossiped here: read the counters from a majority, so the release
    // forgives every invalid result recorded so far and a late one cannot re-quarantine at once.
    io.flotilla.gossip.ReplicatorAsks.get(
        getContext(),
        replicator,
        settings.writeTimeout(),
        (ActorRef<Replicator.GetResponse<PNCounterMap<String>>> r) ->
            new Replicator.Get<>(COUNTERS, new Replicator.ReadMajority(settings.writeTimeout()), r),
        (r, e) -> new ReleaseCountsRead(r, cmd));
    return this;
  }

  private Behavior<Command> onReleaseCountsRead(ReleaseCountsRead msg) {
    Unquarantine cmd = msg.command();
    long invalid = current.of(cmd.workerId()).invalidResults();
    if (msg.r() instanceof Replicator.GetSuccess<PNCounterMap<String>> success) {
      invalid = Math.max(invalid, count(success.dataValue(), key(cmd.workerId(), INVALID)));
    }
    getContext()
        .getLog()
        .info("Reputation: releasing {} from quarantine: {}", cmd.workerId(), cmd.reason());
    writeStatus(
        cmd.workerId(),
        new QuarantineStatus(false, cmd.reason(), clock.millis(), invalid),
        cmd.replyTo(),
        "release " + cmd.workerId());
    return this;
  }

  private long baselineOf(String workerId) {
    QuarantineStatus s = statuses.get(workerId);
    return s == null ? 0 : s.invalidBaseline();
  }

  private void writeStatus(
      String workerId,
      QuarantineStatus status,
      ActorRef<StatusReply<Done>> replyTo,
      String description) {
    io.flotilla.gossip.ReplicatorAsks.update(
        getContext(),
        replicator,
        settings.writeTimeout(),
        (ActorRef<Replicator.UpdateResponse<LWWMap<String, QuarantineStatus>>> r) ->
            new Replicator.Update<>(
                QUARANTINE,
                LWWMap.empty(),
                new Replicator.WriteMajority(settings.writeTimeout()),
                r,
                map -> map.put(self, workerId, status)),
        (r, e) -> new QuarantineUpdated(r, workerId, replyTo, description));
  }

  private Behavior<Command> onGetReputation(GetReputation cmd) {
    cmd.replyTo().tell(current.of(cmd.workerId()));
    return this;
  }

  private Behavior<Command> onGetReputations(GetReputations cmd) {
    cmd.replyTo().tell(current);
    return this;
  }

  private Behavior<Command> onSubscribe(SubscribeReputations cmd) {
    subscribers.add(cmd.subscriber());
    getContext().watchWith(cmd.subscriber(), new UnsubscribeReputations(cmd.subscriber()));
    cmd.subscriber().tell(current);
    return this;
  }

  private Behavior<Command> onUnsubscribe(UnsubscribeReputations cmd) {
    subscribers.remove(cmd.subscriber());
    return this;
  }

  private Behavior<Command> onCountersChanged(CountersChanged msg) {
    onChanged(msg.r());
    return this;
  }

  private Behavior<Command> onQuarantineChanged(QuarantineChanged msg) {
    onChanged(msg.r());
    return this;
  }

  /**
   * Takes in a change of either key. Both subscriptions share one message adapter per response
   * class, so a change may arrive wrapped for the other key: dispatch on the key itself.
   */
  private void onChanged(Replicator.SubscribeResponse<?> response) {
    if (!(response instanceof Replicator.Changed<?> changed)) {
      return;
    }
    if (changed.key().equals(COUNTERS) && changed.dataValue() instanceof PNCounterMap<?> map) {
      Map<String, BigInteger> entries = new HashMap<>();
      map.getEntries().forEach((k, v) -> entries.put(String.valueOf(k), v));
      counterEntries = Map.copyOf(entries);
    } else if (changed.key().equals(QUARANTINE)
        && changed.dataValue() instanceof LWWMap<?, ?> map) {
      Map<String, QuarantineStatus> entries = new HashMap<>();
      map.getEntries()
          .forEach(
              (k, v) -> {
                if (v instanceof QuarantineStatus status) {
                  entries.put(String.valueOf(k), status);
                }
              });
      statuses = Map.copyOf(entries);
    } else {
      return;
    }
    refresh();
  }

  private Behavior<Command> onCountersUpdated(CountersUpdated msg) {
    List<ActorRef<StatusReply<Done>>> replyTo = awaitingUpdates.pollFirst();
    if (replyTo == null) {
      return this;
    }
    StatusReply<Done> reply =
        msg.r() instanceof Replicator.UpdateSuccess<?>
            ? StatusReply.ack()
            : StatusReply.error("reputation update failed: " + msg.r().getClass().getSimpleName());
    replyTo.forEach(r -> r.tell(reply));
    return this;
  }

  private Behavior<Command> onQuarantineUpdated(QuarantineUpdated msg) {
    boolean ok = msg.r() instanceof Replicator.UpdateSuccess<?>;
    if (!ok) {
      quarantining.remove(msg.workerId());
      getContext()
          .getLog()
          .warn(
              "Reputation: {} was applied locally but not confirmed by a majority within {} ({});"
                  + " it spreads by gossip",
              msg.description(),
              settings.writeTimeout(),
              msg.r() == null
                  ? "no answer from the replicator"
                  : msg.r().getClass().getSimpleName());
    }
    if (msg.replyTo() != null) {
      msg.replyTo()
          .tell(
              ok
                  ? StatusReply.ack()
                  : StatusReply.error(
                      msg.description()
                          + " not confirmed by a majority within "
                          + settings.writeTimeout()));
    }
    return this;
  }

  /** Rebuilds the snapshot, tells subscribers, and quarantines workers over the threshold. */
  private void refresh() {
    Map<String, long[]> byWorker = new HashMap<>();
    Map<String, Map<String, Long>> runs = new HashMap<>();
    for (Map.Entry<String, BigInteger> e : counterEntries.entrySet()) {
      int sep = e.getKey().lastIndexOf(SEP);
      if (sep < 0) {
        continue;
      }
      String worker = e.getKey().substring(0, sep);
      String counter = e.getKey().substring(sep + 1);
      long value = e.getValue().longValue();
      long[] c = byWorker.computeIfAbsent(worker, w -> new long[3]);
      switch (counter) {
        case VALID -> c[0] = value;
        case INVALID -> c[1] = value;
        case TASKS -> c[2] = value;
        default -> {
          if (counter.startsWith(RUN)) {
            runs.computeIfAbsent(worker, w -> new HashMap<>()).put(counter, value);
          }
        }
      }
    }
    for (String worker : statuses.keySet()) {
      byWorker.computeIfAbsent(worker, w -> new long[3]);
    }
    Map<String, WorkerReputation> records = new HashMap<>();
    for (Map.Entry<String, long[]> e : byWorker.entrySet()) {
      String worker = e.getKey();
      long[] c = e.getValue();
      long consecutive = runs.getOrDefault(worker, Map.of()).getOrDefault(RUN + c[1], 0L);
      QuarantineStatus s = statuses.get(worker);
      records.put(
          worker,
          new WorkerReputation(
              worker,
              consecutive,
              c[0],
              c[1],
              c[2],
              s != null && s.quarantined(),
              s == null ? "" : s.reason(),
              s == null ? 0 : s.atEpochMs()));
    }
    Reputations snapshot = new Reputations(records);
    metrics.quarantinedWorkers(snapshot.quarantinedIds().size());
    if (!snapshot.equals(current)) {
      current = snapshot;
      subscribers.forEach(sub -> sub.tell(current));
    }
    enforceThreshold();
  }

  private void enforceThreshold() {
    for (WorkerReputation rep : current.byId().values()) {
      String w = rep.workerId();
      if (rep.quarantined()) {
        // The quarantine reached this replica; a later release may make it count again.
        quarantining.remove(w);
        continue;
      }
      long counted = rep.invalidResults() - baselineOf(w);
      if (counted >= settings.quarantineAfterInvalid() && quarantining.add(w)) {
        String last = lastInvalidReason.get(w);
        String reason =
            counted
                + " invalid results (threshold "
                + settings.quarantineAfterInvalid()
                + ")"
                + (last == null ? "" : "; last: " + last);
        getContext().getLog().warn("Reputation: quarantining {}: {}", w, reason);
        writeStatus(
            w,
            new QuarantineStatus(true, reason, clock.millis(), baselineOf(w)),
            null,
            "quarantine " + w);
      }
    }
  }
}
