package io.flotilla.ledger.ethereum;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Hash;

/**
 * Calls of the {@code FlotillaEscrow} contract ({@code
 * ledger-bridge/contracts/FlotillaEscrow.sol}), encoded by hand from its ABI, and the contract's
 * committed creation bytecode.
 */
public final class EscrowContract {

  private EscrowContract() {}

  /** The creation bytecode compiled by {@code contracts/compile.sh}, as {@code 0x} hex. */
  public static String bytecode() {
    try (InputStream in = EscrowContract.class.getResourceAsStream("FlotillaEscrow.bin")) {
      if (in == null) {
        throw new IllegalStateException("FlotillaEscrow.bin is missing from the class path");
      }
      return "0x" + new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The 32-byte on-chain id of a ledger id (job or batch): keccak256 of its UTF-8 bytes. */
  public static Bytes32 id(String ledgerId) {
    return new Bytes32(Hash.sha3(ledgerId.getBytes(StandardCharsets.UTF_8)));
  }

  /** {@code deposit(jobId)} (payable). */
  public static String deposit(String jobId) {
    return FunctionEncoder.encode(new Function("deposit", List.of(id(jobId)), List.of()));
  }

  /** {@code settle(batchId, jobIds, payees, amounts)}. */
  public static String settle(
      String batchId, List<String> jobIds, List<String> payees, List<BigInteger> amounts) {
    return FunctionEncoder.encode(
        new Function(
            "settle",
            List.of(
                id(batchId),
                new DynamicArray<>(Bytes32.class, jobIds.stream().map(EscrowContract::id).toList()),
                new DynamicArray<>(Address.class, payees.stream().map(Address::new).toList()),
                new DynamicArray<>(Uint256.class, amounts.stream().map(Uint256::new).toList())),
            List.of()));
  }

  /** {@code refund(jobId)}. */
  public static String refund(String jobId) {
    return FunctionEncoder.encode(new Function("refund", List.of(id(jobId)), List.of()));
  }

  /** {@code batchSettled(batchId)} view. */
  public static Function batchSettled(String batchId) {
    return new Function(
        "batchSettled", List.of(id(batchId)), List.of(new TypeReference<Bool>() {}));
  }

  /** {@code escrowOf(jobId)} view. */
  public static Function escrowOf(String jobId) {
    return new Function("escrowOf", List.of(id(jobId)), List.of(new TypeReference<Uint256>() {}));
  }

  /** {@code funderOf(jobId)} view. */
  public static Function funderOf(String jobId) {
    return new Function("funderOf", List.of(id(jobId)), List.of(new TypeReference<Address>() {}));
  }

  /** {@code balanceOf(payee)} view. */
  public static Function balanceOf(String payee) {
    return new Function(
        "balanceOf", List.of(new Address(payee)), List.of(new TypeReference<Uint256>() {}));
  }
}
