package io.flotilla.gossip;

import java.time.Duration;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.ddata.ReplicatedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Updates and reads of Distributed Data that survive a replicator that answers late.
 *
 * <p>The replicator answers a write or read with a timeout of its own (UpdateTimeout, GetFailure).
 * Only when it is so far behind that it has not even looked at the request after {@code
 * ask-timeout} does the ask itself time out; {@code ReplicatorMessageAdapter} then fails the asking
 * actor, which for a node-wide registry loses every subscriber and every later write of the node.
 * Here such a late answer becomes an ordinary "not confirmed" response instead.
 */
public final class ReplicatorAsks {

  /** How long past the replicator's own timeout an answer is waited for. */
  public static final Duration GRACE = Duration.ofSeconds(30);

  private ReplicatorAsks() {}

  /**
   * Sends {@code createRequest}'s update; {@code onResponse} gets the replicator's response, or
   * null (with the error) when none came within {@code consistencyTimeout} + {@link #GRACE}.
   */
  public static <A extends ReplicatedData, T> void update(
      ActorContext<T> ctx,
      Duration consistencyTimeout,
      Function<ActorRef<Replicator.UpdateResponse<A>>, Replicator.Update<A>> createRequest,
      BiFunction<Replicator.UpdateResponse<A>, Throwable, T> onResponse) {
    update(
        ctx,
        DistributedData.get(ctx.getSystem()).replicator(),
        consistencyTimeout,
        createRequest,
        onResponse);
  }

  /** Like {@link #update(ActorContext, Duration, Function, BiFunction)}, to {@code replicator}. */
  public static <A extends ReplicatedData, T> void update(
      ActorContext<T> ctx,
      ActorRef<Replicator.Command> replicator,
      Duration consistencyTimeout,
      Function<ActorRef<Replicator.UpdateResponse<A>>, Replicator.Update<A>> createRequest,
      BiFunction<Replicator.UpdateResponse<A>, Throwable, T> onResponse) {
    ask(ctx, replicator, updateResponses(), consistencyTimeout, createRequest, onResponse);
  }

  /**
   * Sends {@code createRequest}'s read to {@code replicator}; {@code onResponse} gets its response,
   * or null (with the error) when none came within {@code consistencyTimeout} + {@link #GRACE}.
   */
  public static <A extends ReplicatedData, T> void get(
      ActorContext<T> ctx,
      ActorRef<Replicator.Command> replicator,
      Duration consistencyTimeout,
      Function<ActorRef<Replicator.GetResponse<A>>, Replicator.Get<A>> createRequest,
      BiFunction<Replicator.GetResponse<A>, Throwable, T> onResponse) {
    ask(ctx, replicator, getResponses(), consistencyTimeout, createRequest, onResponse);
  }

  private static <R, T> void ask(
      ActorContext<T> ctx,
      ActorRef<Replicator.Command> replicator,
      Class<R> responses,
      Duration consistencyTimeout,
      Function<ActorRef<R>, ? extends Replicator.Command> createRequest,
      BiFunction<R, Throwable, T> onResponse) {
    ctx.ask(
        responses,
        replicator,
        consistencyTimeout.plus(GRACE),
        createRequest::apply,
        onResponse::apply);
  }

  @SuppressWarnings("unchecked")
  private static <A extends ReplicatedData> Class<Replicator.UpdateResponse<A>> updateResponses() {
    return (Class<Replicator.UpdateResponse<A>>) (Class<?>) Replicator.UpdateResponse.class;
  }

  @SuppressWarnings("unchecked")
  private static <A extends ReplicatedData> Class<Replicator.GetResponse<A>> getResponses() {
    return (Class<Replicator.GetResponse<A>>) (Class<?>) Replicator.GetResponse.class;
  }
}
