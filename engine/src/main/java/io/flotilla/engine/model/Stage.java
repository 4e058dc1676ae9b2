package io.flotilla.engine.model;

import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.nn.Layer;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A contiguous run of a model's layers: what one pipeline stage computes. {@link #forward} maps
 * input activations to output activations; {@link #backward} takes the gradient of the output,
 * accumulates this stage's parameter gradients and returns the gradient of the input (null for the
 * first stage, whose input is token ids or raw features).
 */
public final class Stage {
  private final List<Layer> layers;
  private final int firstLayer;
  private final List<Parameter> parameters;

  Stage(List<Layer> layers, int firstLayer) {
    this.layers = List.copyOf(layers);
    this.firstLayer = firstLayer;
    Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<Parameter> ps = new ArrayList<>();
    for (Layer l : layers) {
      for (Parameter p : l.parameters()) {
        if (seen.add(p)) {
          ps.add(p);
        }
      }
    }
    this.parameters = List.copyOf(ps);
  }

  /** Index of this stage's first layer in the whole model. */
  public int firstLayer() {
    return firstLayer;
  }

  /** Number of layers in this stage. */
  public int layerCount() {
    return layers.size();
  }

  /** Forward through every layer of the stage. */
  public Tensor forward(Tensor input, ForwardContext ctx) {
    Tensor x = input;
    for (Layer l : layers) {
      x = l.forward(x, ctx);
    }
    return x;
  }

  /** Backward through the stage in reverse order; returns the input gradient (may be null). */
  public Tensor backward(Tensor gradOutput) {
    Tensor g = gradOutput;
    for (int i = layers.size() - 1; i >= 0; i--) {
      g = layers.get(i).backward(g);
    }
    return g;
  }

  /** The parameters of this stage (each once, in layer order). */
  public List<Parameter> parameters() {
    return parameters;
  }

  /** Sets every parameter gradient of this stage to zero. */
  public void zeroGrad() {
    for (Parameter p : parameters) {
      p.grad().zero();
    }
  }
}
