package io.flotilla.protocol.identity;

import java.math.BigInteger;
import java.security.SignatureException;
import java.util.HexFormat;
import java.util.Optional;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;

/**
 * Recovers the address that signed a payload. Any malformed signature yields an empty result, never
 * an exception: signatures arrive from untrusted workers.
 */
public final class SignatureVerifier {

  private static final int SIGNATURE_BYTES = 65;

  private SignatureVerifier() {}

  /**
   * The lower-case {@code 0x} address whose key signed {@code payload} (Ethereum signed-message
   * prefix) producing {@code signatureHex}, or empty when the signature is missing or malformed.
   */
  public static Optional<String> recoverAddress(byte[] payload, String signatureHex) {
    if (signatureHex == null || signatureHex.isEmpty()) {
      return Optional.empty();
    }
    String hex = signatureHex.startsWith("0x") ? signatureHex.substring(2) : signatureHex;
    if (hex.length() != SIGNATURE_BYTES * 2) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes = HexFormat.of().parseHex(hex);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    byte[] r = java.util.Arrays.copyOfRange(bytes, 0, 32);
    byte[] s = java.util.Arrays.copyOfRange(bytes, 32, 64);
    byte v = bytes[64];
    if (v != 27 && v != 28) {
      return Optional.empty();
    }
    try {
      BigInteger publicKey =
          Sign.signedPrefixedMessageToKey(payload, new Sign.SignatureData(v, r, s));
      return Optional.of("0x" + Keys.getAddress(publicKey).toLowerCase(java.util.Locale.ROOT));
    } catch (SignatureException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The address that signed {@code receipt}, or empty when unsigned or malformed. */
  public static Optional<String> signerOf(WorkReceipt receipt) {
    return recoverAddress(receipt.signingPayload(), receipt.signature());
  }

  /** True when {@code registration} is signed by the key of the address it claims. */
  public static boolean isValid(WorkerRegistration registration) {
    return recoverAddress(registration.signingPayload(), registration.signature())
        .filter(a -> a.equalsIgnoreCase(registration.address()))
        .isPresent();
  }

  static String toHex(Sign.SignatureData data) {
    byte[] out = new byte[SIGNATURE_BYTES];
    System.arraycopy(data.getR(), 0, out, 0, 32);
    System.arraycopy(data.getS(), 0, out, 32, 32);
    out[64] = data.getV()[0];
    return "0x" + HexFormat.of().formatHex(out);
  }
}
