package io.flotilla.protocol.serialization;

import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * What custom serializers may need from the running node.
 *
 * @param actorRefResolver turns actor references into strings and back
 */
public record SerializerContext(ActorRefResolver actorRefResolver) {}
