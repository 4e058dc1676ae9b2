package io.flotilla.ledger.cli;

import io.flotilla.ledger.ethereum.ChainClient;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Chain endpoint and operator key. The key is read from a file or the environment, never from a
 * command-line argument (which other users can see in the process list).
 */
final class ChainOptions {

  @Option(
      names = "--rpc-url",
      defaultValue = "${env:FLOTILLA_ETH_RPC_URL}",
      description = "JSON-RPC URL of the chain (default: FLOTILLA_ETH_RPC_URL)")
  String rpcUrl;

  @Option(
      names = "--operator-key-file",
      description =
          "file holding the operator's private key in hex (default: the FLOTILLA_ETH_OPERATOR_KEY"
              + " environment variable)")
  Path operatorKeyFile;

  @Option(
      names = "--gas-limit",
      defaultValue = "6000000",
      description = "gas limit per transaction (default: ${DEFAULT-VALUE})")
  long gasLimit;

  ChainClient connect() throws IOException {
    if (rpcUrl == null || rpcUrl.isBlank()) {
      throw new IllegalArgumentException(
          "no chain given: pass --rpc-url or set FLOTILLA_ETH_RPC_URL");
    }
    String key;
    if (operatorKeyFile != null) {
      key = Files.readString(operatorKeyFile, StandardCharsets.US_ASCII).strip();
    } else {
      key = System.getenv("FLOTILLA_ETH_OPERATOR_KEY");
    }
    if (key == null || !key.strip().matches("(0x)?[0-9a-fA-F]{64}")) {
      throw new IllegalArgumentException(
          "no valid operator key: pass --operator-key-file or set FLOTILLA_ETH_OPERATOR_KEY"
              + " (64 hex digits, optionally after 0x)");
    }
    return new ChainClient(rpcUrl, key.strip(), BigInteger.valueOf(gasLimit), 60_000);
  }
}
