package io.flotilla.protocol.job;

/** Dataset readers the engine provides. */
public enum DatasetType {
  /** Synthetic n-digit addition ("123+456=579"), generated from the seed; no file. */
  ADDITION,
  /** Character-level text from a UTF-8 file. */
  TEXT,
  /** nanoGPT token file: flat little-endian uint16 token ids. */
  TOKENS,
  /** IDX image and label files (MNIST, Fashion-MNIST), plain or gzipped. */
  IDX;

  /** The spelling in a spec file. */
  public String specName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
