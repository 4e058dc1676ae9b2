package io.flotilla.protocol.identity;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.InvalidAlgorithmParameterException;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;

/**
 * A worker's secp256k1 signing key and the payment address derived from it.
 *
 * <p>The key lives in a file that only its owner may read or write (POSIX mode 600), created once
 * by {@link #loadOrCreate(Path)} and reused on every later start. A key file that others can read
 * is refused rather than used, since anyone who can read it can take the worker's pay.
 */
public final class WorkerIdentity {

  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  private static final int KEY_HEX_CHARS = 64;

  private final ECKeyPair keyPair;
  private final String address;

  private WorkerIdentity(ECKeyPair keyPair) {
    this.keyPair = keyPair;
    this.address = "0x" + Keys.getAddress(keyPair).toLowerCase(Locale.ROOT);
  }

  /** An identity from a private key given as hex (with or without {@code 0x}). */
  public static WorkerIdentity fromPrivateKeyHex(String hex) {
    String h = hex.strip();
    if (h.startsWith("0x")) {
      h = h.substring(2);
    }
    if (h.length() != KEY_HEX_CHARS || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw new IllegalArgumentException(
          "a private key must be " + KEY_HEX_CHARS + " hex digits (optionally after 0x)");
    }
    return new WorkerIdentity(ECKeyPair.create(new BigInteger(h, 16)));
  }

  /** A fresh random identity that is not stored anywhere (tests, throwaway clients). */
  public static WorkerIdentity generate() {
    try {
      return new WorkerIdentity(Keys.createEcKeyPair());
    } catch (InvalidAlgorithmParameterException
        | NoSuchAlgorithmException
        | NoSuchProviderException e) {
      throw new IllegalStateException("secp256k1 key generation is unavailable", e);
    }
  }

  /**
   * Loads the key in {@code keyFile}, creating it (and its parent directories) with mode 600 when
   * it does not exist yet.
   *
   * @throws IOException when the file cannot be read or written, holds no valid key, or can be read
   *     or written by anyone but its owner
   */
  public static WorkerIdentity loadOrCreate(Path keyFile) throws IOException {
    if (Files.exists(keyFile)) {
      return load(keyFile);
    }
    Path parent = keyFile.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    WorkerIdentity identity = generate();
    String hex = String.format("%064x", identity.keyPair.getPrivateKey()) + "\n";
    try {
      // Created with owner-only permissions in one step, so the key is never readable by others.
      Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (FileAlreadyExistsException raced) {
      return load(keyFile);
    } catch (UnsupportedOperationException noPosix) {
      throw new IOException(
          "cannot create key file "
              + keyFile
              + " with owner-only permissions: not a POSIX file system",
          noPosix);
    }
    Files.writeString(keyFile, hex, StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
    return identity;
  }

  private static WorkerIdentity load(Path keyFile) throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(keyFile, PosixFileAttributeView.class);
    if (view != null) {
      Set<PosixFilePermission> perms = view.readAttributes().permissions();
      if (!OWNER_ONLY.containsAll(perms)) {
        throw new IOException(
            "key file "
                + keyFile
                + " has permissions "
                + PosixFilePermissions.toString(perms)
                + "; it must be readable and writable by its owner only (chmod 600)");
      }
    }
    String text = Files.readString(keyFile, StandardCharsets.US_ASCII);
    try {
      return fromPrivateKeyHex(text);
    } catch (IllegalArgumentException e) {
      throw new IOException("key file " + keyFile + " holds no valid key: " + e.getMessage(), e);
    }
  }

  /** The payment address: {@code 0x} + 40 lower-case hex digits. */
  public String address() {
    return address;
  }

  /** {@code receipt} signed with this key (any earlier signature is replaced). */
  public WorkReceipt sign(WorkReceipt receipt) {
    return receipt.withSignature(signHex(receipt.signingPayload()));
  }

  /** A registration of this identity's address for {@code workerId}, signed with this key. */
  public WorkerRegistration registration(String workerId) {
    WorkerRegistration unsigned = new WorkerRegistration(workerId, address, "");
    return new WorkerRegistration(workerId, address, signHex(unsigned.signingPayload()));
  }

  /** The private key as 64 hex digits, for operator tooling that must hand it to a chain client. */
  public String privateKeyHex() {
    return String.format("%064x", keyPair.getPrivateKey());
  }

  private String signHex(byte[] payload) {
    return SignatureVerifier.toHex(Sign.signPrefixedMessage(payload, keyPair));
  }

  @Override
  public String toString() {
    return "WorkerIdentity[" + address + "]";
  }
}
