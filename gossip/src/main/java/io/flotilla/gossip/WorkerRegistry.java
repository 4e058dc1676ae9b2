package io.flotilla.gossip;

import io.flotilla.protocol.ControlMessage;
import io.flotilla.protocol.StatusReplies;
import io.flotilla.protocol.worker.WorkerCapabilities;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
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
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.pattern.StatusReply;

/**
 * The worker registry: worker id -&gt; {@link WorkerCapabilities}, held as Distributed Data {@link
 * LWWMap}s split over {@code flotilla.gossip.registry.shards} keys by worker id ({@link #keyOf}) so
 * that a burst of registrations never gossips or hashes the whole registry at once.
 *
 * <p>Only the nodes that plan jobs hold a replica: the nodes with {@code
 * flotilla.gossip.scheduler-state.role} ({@link SchedulerState}), in that state's replicator.
 * Replicating every volunteer's entry to every volunteer would cost each of N nodes the merge and
 * serialisation of N entries, N times over. Every other node runs a {@link #proxy} that sends its
 * workers' registrations to every replica it finds through the receptionist ({@link #SERVICE}),
 * again to each replica that appears later (a scheduler node that started or restarted), and passes
 * reads to one replica.
 *
 * <p>Workers {@link Register} themselves once they are Up and {@link Unregister} when they leave.
 * Entries of a node that crashes cannot be removed by that node, so every replica removes the
 * entries whose {@code nodeAddress} is no longer a cluster member: at once when it sees {@code
 * MemberRemoved}, and in a periodic sweep for entries that arrive by gossip later. Removal is
 * idempotent in the CRDT, so several replicas doing it concurrently is harmless; no node is
 * special, so the crash of any one (the leader included) cannot leave stale entries behind.
 *
 * <p>Readers use {@link GetWorkers} for a snapshot or {@link SubscribeWorkers} to get every change.
 */
public final class WorkerRegistry extends AbstractBehavior<WorkerRegistry.Command> {

  /**
   * The key of the replicated map that holds {@code workerId}'s entry, one of {@code shards} keys;
   * part of the cluster's shared state. {@link String#hashCode()} is the same on every JVM.
   */
  public static Key<LWWMap<String, WorkerCapabilities>> keyOf(String workerId, int shards) {
    return shardKey(Math.floorMod(workerId.hashCode(), shards));
  }

  private static Key<LWWMap<String, WorkerCapabilities>> shardKey(int shard) {
    return LWWMapKey.create("flotilla-workers-" + shard);
  }

  /** Messages the registry understands. */
  public sealed interface Command extends ControlMessage {}

  /**
   * Adds or replaces a worker entry. Replies {@code Done} once a replica holds it (through a proxy:
   * once the first replica does; a proxy that knows no replica yet answers an error saying so, and
   * sends the entry when one appears); it reaches the other replicas by delta propagation within a
   * fraction of a second. The write is local to the replica: every proxy writes to every replica
   * itself, and waiting for a majority would cost every registration a round of messages while
   * thousands of volunteers join at once.
   */
  public record Register(WorkerCapabilities capabilities, ActorRef<StatusReply<Done>> replyTo)
      implements Command {
    public Register {
      Objects.requireNonNull(capabilities, "capabilities");
    }
  }

  /** Removes a worker entry, e.g. when the worker leaves the cluster gracefully. */
  public record Unregister(String workerId, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /**
   * Asks for the whole registry: a replica answers from its content, a proxy reads a replica page
   * by page ({@link GetWorkersPage}).
   */
  public record GetWorkers(ActorRef<Workers> replyTo) implements Command {}

  /** Sends {@link Workers} to {@code subscriber} now and after every change. */
  public record SubscribeWorkers(ActorRef<Workers> subscriber) implements Command {}

  /** Stops sending changes to {@code subscriber}. */
  public record UnsubscribeWorkers(ActorRef<Workers> subscriber) implements Command {}

  /** A snapshot of the registry: worker id -&gt; capabilities, sorted by id. */
  public record Workers(Map<String, WorkerCapabilities> byId) implements ControlMessage {
    public Workers {
      byId = byId == null ? Map.of() : Map.copyOf(byId);
    }

    /** The entries sorted by worker id. */
    public List<WorkerCapabilities> sorted() {
      return new ArrayList<>(new TreeMap<>(byId).values());
    }
  }

  /**
   * Asks a replica for up to {@code limit} entries (1..{@value #MAX_PAGE}) whose worker id sorts
   * after {@code after} (empty: from the first). Nodes without a replica read the registry page by
   * page: a registry of thousands of workers does not fit in one message.
   */
  public record GetWorkersPage(String after, int limit, ActorRef<WorkersPage> replyTo)
      implements Command {
    public GetWorkersPage {
      Objects.requireNonNull(after, "after");
      if (limit < 1 || limit > MAX_PAGE) {
        throw new IllegalArgumentException("limit must be in 1.." + MAX_PAGE + ", was " + limit);
      }
    }
  }

  /** Entries sorted by worker id, and whether more follow the last of them. */
  public record WorkersPage(List<WorkerCapabilities> entries, boolean more)
      implements ControlMessage {
    public WorkersPage {
      entries = entries == null ? List.of() : List.copyOf(entries);
    }
  }

  /** Tells {@code watcher} {@link WorkersChanged} after every change of a replica's registry. */
  public record WatchWorkers(ActorRef<WorkersChanged> watcher) implements Command {}

  /** The registry changed; it now holds {@code workers} entries. */
  public record WorkersChanged(int workers) implements ControlMessage {}

  /** The most entries one {@link GetWorkersPage} returns. */
  public static final int MAX_PAGE = 250;

  private sealed interface Internal extends Command, NoSerializationVerificationNeeded {}

  private record InternalChanged(Replicator.SubscribeResponse<LWWMap<String, WorkerCapabilities>> r)
      implements Internal {}

  private record InternalUpdated(
      Replicator.UpdateResponse<LWWMap<String, WorkerCapabilities>> r, Write write)
      implements Internal {}

  /**
   * One change to the registry, written as one update per shard it touches: answered and, when some
   * shard's write was not confirmed, logged once, after the last of them.
   */
  private static final class Write {
    final String description;
    final ActorRef<StatusReply<Done>> replyTo;
    final int writes;
    int outstanding;
    int unconfirmed;
    String reason;

    Write(String description, ActorRef<StatusReply<Done>> replyTo, int writes) {
      this.description = description;
      this.replyTo = replyTo;
      this.writes = writes;
      this.outstanding = writes;
    }
  }

  private record MemberRemovedEvent(ClusterEvent.MemberRemoved event) implements Internal {}

  private record Unwatch(ActorRef<WorkersChanged> watcher) implements Internal {}

  private enum Prune implements Internal {
    INSTANCE
  }

  /** Publishes the shards' changes taken in since the last one, once the mailbox holds no more. */
  private enum Publish implements Internal {
    INSTANCE
  }

  /** The replicas of the registry, as the receptionist lists them. */
  public static final ServiceKey<Command> SERVICE =
      ServiceKey.create(Command.class, "flotilla-worker-registry");

  /**
   * Creates the registry replica of a node that holds one, in {@code replicator} (see {@link
   * SchedulerState}); it registers itself with the receptionist under {@link #SERVICE}.
   */
  public static Behavior<Command> create(
      GossipSettings settings,
      ActorRef<Replicator.Command> replicator,
      Duration unexpectedAskTimeout) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new WorkerRegistry(
                        ctx,
                        new ReplicatorMessageAdapter<>(ctx, replicator, unexpectedAskTimeout),
                        replicator,
                        timers,
                        settings)));
  }

  /**
   * The registry of a node that holds no replica: registrations reach every replica, now and as
   * replicas appear; reads go to one replica (see {@link Proxy}).
   */
  public static Behavior<Command> proxy() {
    return Behaviors.setup(Proxy::new);
  }

  private record ProxyReplicas(Receptionist.Listing listing) implements Internal {}

  private record ProxyWritten(String what, StatusReply<Done> reply) implements Internal {}

  private record ProxyChanged(WorkersChanged changed) implements Internal {}

  private record ProxySnapshot(Workers workers) implements Internal {}

  private record ProxyReadFailed() implements Internal {}

  /**
   * The worker registry of a node that holds no replica (a volunteer's node, a seed): it keeps the
   * registrations of this node's workers and writes each to every replica the receptionist lists
   * under {@link #SERVICE}, and to every replica that appears later, so that a scheduler node that
   * starts (or restarts with an empty registry) learns of the workers that are already there.
   * Entries of this node's workers are removed by the replicas when the node leaves the cluster; an
   * {@link Unregister} removes one at once.
   *
   * <p>Reads go to one replica (the same on every node while the set of replicas is stable), page
   * by page ({@link GetWorkersPage}); subscribers get a full read now and again after every change
   * the replica notices ({@link WatchWorkers}). While no replica is known, reads answer an empty
   * registry, subscribers get an empty registry and are served by the first replica that appears,
   * and a registration is answered with an error that says it is kept and will be sent.
   */
  private static final class Proxy extends AbstractBehavior<Command> {

    private static final String NO_REPLICA =
        "no node that keeps the worker registry (role flotilla.gossip.scheduler-state.role) is in"
            + " the cluster yet; the registration is kept and sent when one joins";

    /** This node's workers' entries, written to every replica. */
    private final Map<String, WorkerCapabilities> local = new LinkedHashMap<>();

    private final Set<ActorRef<Command>> replicas = new HashSet<>();
    private final Set<ActorRef<Workers>> subscribers = new HashSet<>();
    private final ActorRef<StatusReply<Done>> quiet;
    private final ActorRef<WorkersChanged> changes;
    private final ActorRef<Workers> snapshots;
    private ActorRef<Command> target;

    /** Whether a read for the subscribers runs, and whether another change came meanwhile. */
    private boolean reading;

    private boolean changedWhileReading;

    private Proxy(ActorContext<Command> context) {
      super(context);
      // Answers of the replicas that are not the caller's: a failure there is only logged.
      this.quiet =
          context.messageAdapter(
              StatusReplies.ofDone(), reply -> new ProxyWritten("a registry write", reply));
      this.changes = context.messageAdapter(WorkersChanged.class, ProxyChanged::new);
      this.snapshots = context.messageAdapter(Workers.class, ProxySnapshot::new);
      context
          .getSystem()
          .receptionist()
          .tell(
              Receptionist.subscribe(
                  SERVICE, context.messageAdapter(Receptionist.Listing.class, ProxyReplicas::new)));
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(ProxyReplicas.class, this::onReplicas)
          .onMessage(ProxyWritten.class, this::onWritten)
          .onMessage(ProxyChanged.class, m -> readForSubscribers())
          .onMessage(ProxySnapshot.class, this::onSnapshot)
          .onMessage(ProxyReadFailed.class, this::onReadFailed)
          .onMessage(Register.class, this::onRegister)
          .onMessage(Unregister.class, this::onUnregister)
          .onMessage(GetWorkers.class, this::onGetWorkers)
          .onMessage(SubscribeWorkers.class, this::onSubscribe)
          .onMessage(UnsubscribeWorkers.class, this::onUnsubscribe)
          .build();
    }

    private Behavior<Command> onReplicas(ProxyReplicas msg) {
      Set<ActorRef<Command>> listed = msg.listing().getServiceInstances(SERVICE);
      for (ActorRef<Command> replica : listed) {
        if (replicas.add(replica)) {
          local.values().forEach(caps -> replica.tell(new Register(caps, quiet)));
        }
      }
      replicas.retainAll(listed);
      ActorRef<Command> chosen =
          replicas.stream().min(Comparator.comparing(r -> r.path().toString())).orElse(null);
      boolean changed = chosen != null && !chosen.equals(target);
      target = chosen;
      if (changed && !subscribers.isEmpty()) {
        target.tell(new WatchWorkers(changes));
        readForSubscribers();
      }
      return this;
    }

    private Behavior<Command> onWritten(ProxyWritten msg) {
      if (msg.reply().isError()) {
        getContext()
            .getLog()
            .warn(
                "Worker registry: {} failed: {}", msg.what(), msg.reply().getError().getMessage());
      }
      return this;
    }

    private Behavior<Command> onRegister(Register cmd) {
      WorkerCapabilities caps = cmd.capabilities();
      local.put(caps.workerId(), caps);
      writeToAll(replyTo -> new Register(caps, replyTo), cmd.replyTo());
      if (target == null && cmd.replyTo() != null) {
        cmd.replyTo().tell(StatusReply.error(NO_REPLICA));
      }
      return this;
    }

    private Behavior<Command> onUnregister(Unregister cmd) {
      local.remove(cmd.workerId());
      writeToAll(replyTo -> new Unregister(cmd.workerId(), replyTo), cmd.replyTo());
      if (target == null && cmd.replyTo() != null) {
        cmd.replyTo().tell(StatusReply.ack()); // no replica holds it
      }
      return this;
    }

    /** Writes to every replica; the chosen one answers the caller, the others this proxy. */
    private void writeToAll(
        Function<ActorRef<StatusReply<Done>>, Command> write, ActorRef<StatusReply<Done>> replyTo) {
      for (ActorRef<Command> replica : replicas) {
        replica.tell(write.apply(replica.equals(target) && replyTo != null ? replyTo : quiet));
      }
    }

    private Behavior<Command> onGetWorkers(GetWorkers cmd) {
      if (target != null) {
        getContext().spawnAnonymous(PagedRead.create(target, cmd.replyTo(), null, null));
      } else {
        cmd.replyTo().tell(new Workers(Map.of()));
      }
      return this;
    }

    private Behavior<Command> onSubscribe(SubscribeWorkers cmd) {
      if (subscribers.add(cmd.subscriber())) {
        getContext().watchWith(cmd.subscriber(), new UnsubscribeWorkers(cmd.subscriber()));
        if (subscribers.size() == 1 && target != null) {
          target.tell(new WatchWorkers(changes));
        }
      }
      if (target != null) {
        getContext().spawnAnonymous(PagedRead.create(target, cmd.subscriber(), null, null));
      } else {
        cmd.subscriber().tell(new Workers(Map.of()));
      }
      return this;
    }

    private Behavior<Command> onUnsubscribe(UnsubscribeWorkers cmd) {
      subscribers.remove(cmd.subscriber());
      return this;
    }

    /** Reads the whole registry for the subscribers; once at a time, again if it changed. */
    private Behavior<Command> readForSubscribers() {
      if (subscribers.isEmpty() || target == null) {
        return this;
      }
      if (reading) {
        changedWhileReading = true;
      } else {
        reading = true;
        getContext()
            .spawnAnonymous(
                PagedRead.create(target, snapshots, getContext().getSelf(), new ProxyReadFailed()));
      }
      return this;
    }

    /** The replica did not answer a page: the subscribers' read starts again. */
    private Behavior<Command> onReadFailed(ProxyReadFailed msg) {
      reading = false;
      changedWhileReading = false;
      return readForSubscribers();
    }

    private Behavior<Command> onSnapshot(ProxySnapshot msg) {
      reading = false;
      subscribers.forEach(s -> s.tell(msg.workers()));
      if (changedWhileReading) {
        changedWhileReading = false;
        readForSubscribers();
      }
      return this;
    }
  }

  /**
   * Reads a replica's registry page by page and answers the whole of it to {@code replyTo}; a
   * replica that stops answering ends the read with a warning that names the cause and, when given,
   * {@code failed} to {@code onFailure} ({@code replyTo} gets no answer: an asker's own timeout
   * says so).
   */
  private static final class PagedRead {
    private static final Duration PAGE_TIMEOUT = Duration.ofSeconds(5);

    private record Page(WorkersPage page, Throwable failure) {}

    static Behavior<Object> create(
        ActorRef<Command> replica,
        ActorRef<Workers> replyTo,
        ActorRef<Command> onFailure,
        Command failed) {
      return Behaviors.setup(
          ctx -> {
            Map<String, WorkerCapabilities> read = new java.util.HashMap<>();
            askPage(ctx, replica, "");
            return Behaviors.receive(Object.class)
                .onMessage(
                    Page.class,
                    p -> {
                      if (p.failure() != null) {
                        ctx.getLog()
                            .warn(
                                "Worker registry: reading {} failed after {} entries: {}",
                                replica.path(),
                                read.size(),
                                p.failure().toString());
                        if (onFailure != null) {
                          onFailure.tell(failed);
                        }
                        return Behaviors.stopped();
                      }
                      List<WorkerCapabilities> entries = p.page().entries();
                      entries.forEach(w -> read.put(w.workerId(), w));
                      if (p.page().more() && !entries.isEmpty()) {
                        askPage(ctx, replica, entries.get(entries.size() - 1).workerId());
                        return Behaviors.same();
                      }
                      replyTo.tell(new Workers(read));
                      return Behaviors.stopped();
                    })
                .build();
          });
    }

    private static void askPage(ActorContext<Object> ctx, ActorRef<Command> replica, String after) {
      ctx.ask(
          WorkersPage.class,
          replica,
          PAGE_TIMEOUT,
          replyTo -> new GetWorkersPage(after, MAX_PAGE, replyTo),
          Page::new);
    }
  }

  private final ReplicatorMessageAdapter<Command, LWWMap<String, WorkerCapabilities>> replicator;
  private final ActorRef<Replicator.Command> replicatorRef;
  private final SelfUniqueAddress self;
  private final org.apache.pekko.actor.typed.ActorRefResolver resolver;
  private final Cluster cluster;
  private final Duration writeTimeout;
  private final Set<ActorRef<Workers>> subscribers = new HashSet<>();
  private final Set<ActorRef<WorkersChanged>> watchers = new HashSet<>();

  /** {@link #current} sorted by worker id, for pages; null until a page is asked for. */
  private List<WorkerCapabilities> sorted;

  private final int shards;
  private final Map<Key<?>, Integer> shardOfKey = new java.util.HashMap<>();
  private final List<Map<String, WorkerCapabilities>> shardEntries = new ArrayList<>();
  private boolean publishQueued;
  private Map<String, WorkerCapabilities> current = Map.of();
  private final GossipMetrics metrics;

  private WorkerRegistry(
      ActorContext<Command> context,
      ReplicatorMessageAdapter<Command, LWWMap<String, WorkerCapabilities>> replicator,
      ActorRef<Replicator.Command> replicatorRef,
      TimerScheduler<Command> timers,
      GossipSettings settings) {
    super(context);
    this.replicator = replicator;
    this.replicatorRef = replicatorRef;
    this.self = DistributedData.get(context.getSystem()).selfUniqueAddress();
    this.resolver = org.apache.pekko.actor.typed.ActorRefResolver.get(context.getSystem());
    this.cluster = Cluster.get(context.getSystem());
    this.writeTimeout = settings.registryWriteTimeout();
    this.metrics = GossipMetrics.get(context.getSystem());
    this.shards = settings.registryShards();
    for (int i = 0; i < shards; i++) {
      shardOfKey.put(shardKey(i), i);
      shardEntries.add(Map.of());
      replicator.subscribe(shardKey(i), InternalChanged::new);
    }
    cluster
        .subscriptions()
        .tell(
            Subscribe.create(
                context.messageAdapter(ClusterEvent.MemberRemoved.class, MemberRemovedEvent::new),
                ClusterEvent.MemberRemoved.class));
    timers.startTimerWithFixedDelay(Prune.INSTANCE, settings.registryPruneInterval());
    context.getSystem().receptionist().tell(Receptionist.register(SERVICE, context.getSelf()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(GetWorkers.class, this::onGetWorkers)
        .onMessage(GetWorkersPage.class, this::onGetWorkersPage)
        .onMessage(SubscribeWorkers.class, this::onSubscribe)
        .onMessage(UnsubscribeWorkers.class, this::onUnsubscribe)
        .onMessage(WatchWorkers.class, this::onWatch)
        .onMessage(Unwatch.class, m -> onUnwatch(m.watcher()))
        .onMessage(InternalChanged.class, this::onChanged)
        .onMessage(InternalUpdated.class, this::onUpdated)
        .onMessage(MemberRemovedEvent.class, this::onMemberRemoved)
        .onMessageEquals(Prune.INSTANCE, this::onPrune)
        .onMessageEquals(Publish.INSTANCE, this::onPublish)
        .build();
  }

  private Behavior<Command> onRegister(Register cmd) {
    WorkerCapabilities caps = cmd.capabilities();
    String misplaced = misplacedStageHost(caps);
    if (misplaced != null) {
      getContext().getLog().warn("Worker registry: refused {}: {}", caps.workerId(), misplaced);
      if (cmd.replyTo() != null) {
        cmd.replyTo().tell(StatusReply.error(misplaced));
      }
      return this;
    }
    ReplicatorAsks.update(
        getContext(),
        replicatorRef,
        writeTimeout,
        (ActorRef<Replicator.UpdateResponse<LWWMap<String, WorkerCapabilities>>> replyTo) ->
            new Replicator.Update<>(
                keyOf(caps.workerId(), shards),
                LWWMap.empty(),
                Replicator.writeLocal(),
                replyTo,
                map -> map.put(self, caps.workerId(), caps)),
        (r, e) ->
            new InternalUpdated(r, new Write("register " + caps.workerId(), cmd.replyTo(), 1)));
    return this;
  }

  /**
   * Why {@code caps} names a stage host that is not on the worker's own node, or null when it is
   * (or names none): job managers send that actor the worker's orders, so an entry must not point
   * them at another node's actors.
   */
  private String misplacedStageHost(WorkerCapabilities caps) {
    if (caps.stageHost() == null) {
      return null;
    }
    String host = resolver.toSerializationFormat(caps.stageHost());
    if (host.startsWith(caps.nodeAddress() + "/")) {
      return null;
    }
    return "the stage host "
        + host
        + " of worker "
        + caps.workerId()
        + " is not on the worker's node "
        + caps.nodeAddress();
  }

  private Behavior<Command> onUnregister(Unregister cmd) {
    removeEntries(Set.of(cmd.workerId()), cmd.replyTo(), "unregister " + cmd.workerId());
    return this;
  }

  /** One write per shard concerned; {@code replyTo} (if any) is answered when all are done. */
  private void removeEntries(
      Set<String> workerIds, ActorRef<StatusReply<Done>> replyTo, String description) {
    Map<Key<LWWMap<String, WorkerCapabilities>>, Set<String>> byKey = new java.util.HashMap<>();
    for (String id : workerIds) {
      byKey.computeIfAbsent(keyOf(id, shards), k -> new HashSet<>()).add(id);
    }
    Write write = new Write(description, replyTo, byKey.size());
    for (var e : byKey.entrySet()) {
      removeEntries(e.getKey(), e.getValue(), write);
    }
  }

  private void removeEntries(
      Key<LWWMap<String, WorkerCapabilities>> key, Set<String> workerIds, Write write) {
    ReplicatorAsks.update(
        getContext(),
        replicatorRef,
        writeTimeout,
        (ActorRef<Replicator.UpdateResponse<LWWMap<String, WorkerCapabilities>>> r) ->
            new Replicator.Update<>(
                key,
                LWWMap.empty(),
                new Replicator.WriteMajority(writeTimeout),
                r,
                map -> {
                  LWWMap<String, WorkerCapabilities> result = map;
                  for (String id : workerIds) {
                    if (result.contains(id)) {
                      result = result.remove(self, id);
                    }
                  }
                  return result;
                }),
        (r, e) -> new InternalUpdated(r, write));
  }

  private Behavior<Command> onGetWorkers(GetWorkers cmd) {
    cmd.replyTo().tell(new Workers(current));
    return this;
  }

  private Behavior<Command> onGetWorkersPage(GetWorkersPage cmd) {
    if (sorted == null) {
      sorted = new ArrayList<>(new TreeMap<>(current).values());
    }
    int lo = 0;
    int hi = sorted.size();
    while (lo < hi) { // the first entry whose id sorts after cmd.after()
      int mid = (lo + hi) >>> 1;
      if (sorted.get(mid).workerId().compareTo(cmd.after()) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    int to = Math.min(sorted.size(), lo + cmd.limit());
    cmd.replyTo().tell(new WorkersPage(sorted.subList(lo, to), to < sorted.size()));
    return this;
  }

  private Behavior<Command> onWatch(WatchWorkers cmd) {
    if (watchers.add(cmd.watcher())) {
      getContext().watchWith(cmd.watcher(), new Unwatch(cmd.watcher()));
    }
    return this;
  }

  private Behavior<Command> onUnwatch(ActorRef<WorkersChanged> watcher) {
    watchers.remove(watcher);
    return this;
  }

  private Behavior<Command> onSubscribe(SubscribeWorkers cmd) {
    subscribers.add(cmd.subscriber());
    getContext().watchWith(cmd.subscriber(), new UnsubscribeWorkers(cmd.subscriber()));
    cmd.subscriber().tell(new Workers(current));
    return this;
  }

  private Behavior<Command> onUnsubscribe(UnsubscribeWorkers cmd) {
    subscribers.remove(cmd.subscriber());
    return this;
  }

  private Behavior<Command> onChanged(InternalChanged msg) {
    Integer shard = shardOfKey.get(msg.r().key());
    if (shard == null) {
      return this;
    }
    if (msg.r() instanceof Replicator.Changed<LWWMap<String, WorkerCapabilities>> changed) {
      shardEntries.set(shard, Map.copyOf(changed.dataValue().getEntries()));
    } else if (msg.r() instanceof Replicator.Deleted<?>) {
      shardEntries.set(shard, Map.of());
    } else {
      return this;
    }
    // The replicator notifies each changed key apart: publish once after the batch, not per key.
    if (!publishQueued) {
      publishQueued = true;
      getContext().getSelf().tell(Publish.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onPublish() {
    publishQueued = false;
    Map<String, WorkerCapabilities> all = new java.util.HashMap<>();
    shardEntries.forEach(all::putAll);
    current = Map.copyOf(all);
    metrics.registeredWorkers(current.size());
    sorted = null;
    Workers snapshot = new Workers(current);
    subscribers.forEach(s -> s.tell(snapshot));
    WorkersChanged changed = new WorkersChanged(current.size());
    watchers.forEach(w -> w.tell(changed));
    pruneDeparted();
    return this;
  }

  private Behavior<Command> onUpdated(InternalUpdated msg) {
    Write write = msg.write();
    write.outstanding--;
    if (!(msg.r() instanceof Replicator.UpdateSuccess<?>)) {
      write.unconfirmed++;
      write.reason =
          msg.r() == null ? "no answer from the replicator" : msg.r().getClass().getSimpleName();
    }
    if (write.outstanding > 0) {
      return this;
    }
    boolean ok = write.unconfirmed == 0;
    if (!ok) {
      getContext()
          .getLog()
          .warn(
              "Worker registry: {} was applied locally but {} of its {} shard writes were not"
                  + " confirmed by a majority within {} ({}); it spreads by gossip",
              write.description,
              write.unconfirmed,
              write.writes,
              writeTimeout,
              write.reason);
    }
    if (write.replyTo != null) {
      write.replyTo.tell(
          ok
              ? StatusReply.ack()
              : StatusReply.error(
                  write.description + " not confirmed by a majority within " + writeTimeout));
    }
    return this;
  }

  private Behavior<Command> onMemberRemoved(MemberRemovedEvent msg) {
    String address = msg.event().member().address().toString();
    Set<String> stale = new HashSet<>();
    for (WorkerCapabilities caps : current.values()) {
      if (caps.nodeAddress().equals(address) && !isMember(address)) {
        stale.add(caps.workerId());
      }
    }
    if (!stale.isEmpty()) {
      getContext()
          .getLog()
          .info("Worker registry: removing {} of removed member {}", stale, address);
      removeEntries(stale, null, "remove entries of " + address);
    }
    return this;
  }

  private Behavior<Command> onPrune() {
    pruneDeparted();
    return this;
  }

  /** Removes entries whose node is not a member; only once this node itself is a member. */
  private void pruneDeparted() {
    if (cluster.selfMember().status() != MemberStatus.up()) {
      return;
    }
    Set<String> stale = new HashSet<>();
    for (WorkerCapabilities caps : current.values()) {
      if (!isMember(caps.nodeAddress())) {
        stale.add(caps.workerId());
      }
    }
    if (!stale.isEmpty()) {
      getContext().getLog().info("Worker registry: removing {} of departed members", stale);
      removeEntries(stale, null, "pruning " + stale.size() + " entries of departed members");
    }
  }

  private boolean isMember(String address) {
    for (Member m : cluster.state().getMembers()) {
      if (m.address().toString().equals(address)
          && m.status() != MemberStatus.down()
          && m.status() != MemberStatus.removed()) {
        return true;
      }
    }
    return false;
  }
}
