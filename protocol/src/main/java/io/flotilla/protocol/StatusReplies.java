package io.flotilla.protocol;

import org.apache.pekko.Done;
import org.apache.pekko.pattern.StatusReply;

/** Helpers for actors that adapt Pekko's {@link StatusReply} answers. */
public final class StatusReplies {

  private StatusReplies() {}

  /**
   * The class of {@code StatusReply<Done>}, for {@code messageAdapter}: Java cannot name a
   * parameterised class literal, so the cast lives here once.
   */
  @SuppressWarnings("unchecked")
  public static Class<StatusReply<Done>> ofDone() {
    return (Class<StatusReply<Done>>) (Class<?>) StatusReply.class;
  }
}
