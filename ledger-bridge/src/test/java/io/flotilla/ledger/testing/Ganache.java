package io.flotilla.ledger.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real ganache chain on a free loopback port, started from {@code ledger-bridge/node_modules}
 * (installed by the build with {@code npm ci}). Deterministic accounts: account 0 is the operator.
 * Fails loudly when ganache is not installed; never skips.
 */
public final class Ganache implements AutoCloseable {

  /** Private key of ganache's deterministic account 0. */
  public static final String ACCOUNT_0_KEY =
      "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d";

  private static final Path EXECUTABLE = Path.of("node_modules", ".bin", "ganache");

  private final int port;
  private final Path databaseDir;
  private Process process;

  private Ganache(int port, Path databaseDir) {
    this.port = port;
    this.databaseDir = databaseDir;
  }

  /** Starts ganache keeping its chain in {@code databaseDir}, so a restart keeps the chain. */
  public static Ganache start(Path databaseDir) throws IOException, InterruptedException {
    Ganache g = new Ganache(freePort(), databaseDir);
    g.launch();
    return g;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The JSON-RPC URL. */
  public String rpcUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** Starts (again) on the same port and database. */
  public void launch() throws IOException, InterruptedException {
    if (!Files.isExecutable(EXECUTABLE)) {
      throw new IllegalStateException(
          "ganache is not installed at "
              + EXECUTABLE.toAbsolutePath()
              + ": run `npm ci` in ledger-bridge/ (mvn does so when node_modules is missing;"
              + " node and npm must be on the PATH)");
    }
    List<String> command = new ArrayList<>();
    command.add(EXECUTABLE.toString());
    command.addAll(
        List.of(
            "--server.host",
            "127.0.0.1",
            "--server.port",
            Integer.toString(port),
            "--wallet.deterministic",
            "--database.dbPath",
            databaseDir.toString(),
            "--chain.hardfork",
            "shanghai",
            "--miner.instamine",
            "eager"));
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    CountDownLatch listening = new CountDownLatch(1);
    StringBuilder output = new StringBuilder();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (output) {
                    if (output.length() < 20_000) {
                      output.append(line).append('\n');
                    }
                  }
                  if (line.contains("RPC Listening on")) {
                    listening.countDown();
                  }
                }
              } catch (IOException ignored) {
                // the process ended; its exit is checked below
              }
            },
            "ganache-output");
    reader.setDaemon(true);
    reader.start();
    if (!listening.await(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      synchronized (output) {
        throw new IllegalStateException("ganache did not start within 60 s:\n" + output);
      }
    }
  }

  /** Stops the chain (it can be {@link #launch() launched} again with its state). */
  public void stop() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    stop();
  }
}
