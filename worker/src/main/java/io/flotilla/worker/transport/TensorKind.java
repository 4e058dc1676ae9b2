package io.flotilla.worker.transport;

/** What a tensor on the data plane is for. The code is its value on the wire. */
public enum TensorKind {
  ACTIVATION(1),
  GRADIENT(2),
  PARAMETERS(3),
  ALLREDUCE_CHUNK(4);

  private final int code;

  TensorKind(int code) {
    this.code = code;
  }

  /** Wire code. */
  public int code() {
    return code;
  }

  /** The kind with this wire code, or null when none has it. */
  public static TensorKind fromCode(int code) {
    for (TensorKind kind : values()) {
      if (kind.code == code) {
        return kind;
      }
    }
    return null;
  }
}
