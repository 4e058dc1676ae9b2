package io.flotilla.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.engine.tensor.Tensor;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

/** Central finite differences against analytic gradients. */
public final class GradientCheck {
  private GradientCheck() {}

  /** Random tensor with values in [-scale, scale]. */
  public static Tensor random(Random rnd, float scale, int... shape) {
    Tensor t = Tensor.zeros(shape);
    for (int i = 0; i < t.size(); i++) {
      t.data()[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
    }
    return t;
  }

  /**
   * Checks a layer with objective {@code sum(out * r)}: input gradient (if {@code checkInput}) and
   * every parameter gradient, at up to {@code samples} coordinates each.
   */
  public static void checkLayer(Layer layer, Tensor x, boolean checkInput, long seed) {
    Random rnd = new Random(seed);
    ForwardContext ctx = new ForwardContext(true, 7);
    Tensor out = layer.forward(x, ctx);
    Tensor r = random(rnd, 1f, out.shape());
    for (Parameter p : layer.parameters()) {
      p.grad().zero();
    }
    Tensor dx = layer.backward(r);
    Tensor dxCopy = dx == null ? null : dx.copy();
    DoubleSupplier objective =
        () -> {
          Tensor o = layer.forward(x, ctx);
          double s = 0;
          for (int i = 0; i < o.size(); i++) {
            s += (double) o.data()[i] * r.data()[i];
          }
          return s;
        };
    if (checkInput) {
      compare("input", x, dxCopy, objective, rnd);
    }
    for (Parameter p : layer.parameters()) {
      compare(p.name(), p.value(), p.grad().copy(), objective, rnd);
    }
  }

  /** Compares analytic {@code grad} of {@code values} with central differences of objective. */
  public static void compare(
      String what, Tensor values, Tensor grad, DoubleSupplier objective, Random rnd) {
    compare(what, values, grad, objective, rnd, 1e-2f);
  }

  /** As {@link #compare(String, Tensor, Tensor, DoubleSupplier, Random)} with step {@code h}. */
  public static void compare(
      String what, Tensor values, Tensor grad, DoubleSupplier objective, Random rnd, float h) {
    int samples = Math.min(values.size(), 12);
    List<Integer> idx = new java.util.ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      idx.add(i);
    }
    java.util.Collections.shuffle(idx, rnd);
    for (int s = 0; s < samples; s++) {
      int i = idx.get(s);
      float orig = values.data()[i];
      values.data()[i] = orig + h;
      double plus = objective.getAsDouble();
      values.data()[i] = orig - h;
      double minus = objective.getAsDouble();
      values.data()[i] = orig;
      double fd = (plus - minus) / (2 * h);
      double an = grad.data()[i];
      assertThat(Math.abs(fd - an))
          .as("%s[%d]: analytic %s vs finite difference %s", what, i, an, fd)
          .isLessThanOrEqualTo(3e-3 + 3e-2 * Math.max(Math.abs(fd), Math.abs(an)));
    }
  }
}
