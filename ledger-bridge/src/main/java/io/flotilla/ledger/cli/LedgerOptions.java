package io.flotilla.ledger.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.flotilla.ledger.Ledger;
import io.flotilla.ledger.LedgerSettings;
import io.flotilla.ledger.SettlementHook;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Which ledger database the inspection commands read: the embedded ledger's H2 file, or the local
 * book the Ethereum backend keeps. Defaults come from {@code flotilla.ledger} (and its environment
 * overrides), so on a ledger node the commands need no options. The database is opened in H2's
 * auto-server mode, so it can be read while the bridge runs.
 */
final class LedgerOptions {

  @Option(
      names = "--backend",
      description =
          "embedded or ethereum (default: flotilla.ledger.backend, FLOTILLA_LEDGER_BACKEND)")
  String backend;

  @Option(
      names = "--ledger-path",
      description =
          "H2 database file without .mv.db: the embedded ledger (FLOTILLA_LEDGER_PATH) or the"
              + " Ethereum backend's book (FLOTILLA_ETH_BOOK_PATH)")
  Path path;

  /** Opens the ledger; fails with a clear message when no database exists there. */
  Ledger open() {
    Config config = ConfigFactory.load();
    if (backend != null) {
      config = config.withValue("flotilla.ledger.backend", ConfigValueFactory.fromAnyRef(backend));
    }
    String effective = config.getString("flotilla.ledger.backend");
    // Inspection only reads the local book; the chain settings are not needed for that.
    Config c =
        config
            .withValue("flotilla.ledger.backend", ConfigValueFactory.fromAnyRef("embedded"))
            .withValue(
                "flotilla.ledger.embedded.path",
                ConfigValueFactory.fromAnyRef(
                    path != null
                        ? path.toString()
                        : effective.equals("ethereum")
                            ? config.getString("flotilla.ledger.ethereum.book-path")
                            : config.getString("flotilla.ledger.embedded.path")));
    LedgerSettings settings = LedgerSettings.create(c);
    Path file = Path.of(settings.embeddedPath() + ".mv.db");
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(
          "no ledger database at "
              + file
              + "; pass --ledger-path (without .mv.db) or set FLOTILLA_LEDGER_PATH");
    }
    return settings.openLedger(SettlementHook.NONE);
  }
}
