package io.flotilla.protocol.identity;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * Settings of {@code flotilla.identity}.
 *
 * @param keyFile where the worker's signing key is kept (created once, mode 600)
 */
public record IdentitySettings(Path keyFile) {

  /** Reads {@code flotilla.identity} from {@code config}. */
  public static IdentitySettings create(Config config) {
    Config c = config.getConfig("flotilla.identity");
    return new IdentitySettings(Path.of(c.getString("key-file")));
  }
}
