package io.flotilla.protocol.job;

import io.flotilla.protocol.ControlMessage;

/** The network a job trains: a {@link GptModelSpec} or an {@link MlpModelSpec}. */
public sealed interface ModelSpec extends ControlMessage permits GptModelSpec, MlpModelSpec {

  /** The value of {@code model.type} in the spec. */
  String type();

  /** A checkpoint or Hugging Face directory to start from, or empty to initialise randomly. */
  String initFrom();

  /** Dropout probability during training. */
  double dropout();
}
