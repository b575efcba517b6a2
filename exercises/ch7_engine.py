"""Chapter 7: an autograd engine.

In chapter 5 you walked the graph a = x·y, b = a + z, c = b² backwards by hand. Here you build
the machine that does that walk for you, for any graph.

A `Value` is a number that remembers its history. Each machine (+, ×, **, exp, log, relu,
sigmoid, tanh) makes a new Value for its output, notes which Values went in (`_prev`), and
leaves behind a small function, `_backward`, that knows the machine's own sensitivity. When
you call `out.backward()`, the engine visits every node and applies the one rule of
chapters 2 and 5, everywhere:

    gradient of a node = Σ (upstream gradient × local derivative)

summed over every machine the node was fed into.

What is given: the forward pass of every machine (its output's `data`), the bookkeeping
(`_prev`), and the operators built from the others (`-a`, `a - b`, `a / b`, `2 * a`, `1 - a`,
...). What you write: the inside of each `_backward` that still raises NotImplementedError
(exercises add, mul, pow, exp, log, relu, sigmoid, tanh) and `backward()` (exercise backward).

Each exercise is checked on its own, so you may do them in any order:
- an operation: the tests build that one node, give its inputs a grad they already hold, set
  out.grad to some upstream number, call `out._backward()` once and read the inputs' grads.
  A message shows such an input as `Value(2.0, grad=0.5)`: Value(2.0) whose grad is already 0.5;
- backward: the tests build whole graphs with your Value, but give every node a correct
  `_backward` of their own, so only your `backward()` is graded there.

Run `pytest tests/test_ch7_engine.py` to check your answers against torch.autograd.
"""
import math


class Value:
    """One number in a computation, and how it was made.

    - `data`: the number itself.
    - `grad`: how far the final output moves per unit nudge of this number, d(out)/d(self).
      It is 0.0 when the Value is made, and gradients are added into it.
    - `_prev`: the Values this one was made from; empty for a Value you make yourself (a leaf).
    - `_backward`: a function of no arguments that passes this node's `grad` back into the
      `grad` of each Value in `_prev`. A leaf's `_backward` does nothing.

    Inside every `_backward` the pattern is the same. For each input `v` of the machine:

        v.grad += out.grad * (d out / d v)

    `out.grad` is the *upstream* gradient: how much the final output cares about this
    machine's output. `d out / d v` is the *local* derivative: the machine's own sensitivity,
    computed from the numbers it saw on the way forward (`self.data`, `other.data`,
    `out.data`). The machine needs to know nothing about the rest of the graph.

    Why `+=` and never `=`: one Value may feed several machines, or one machine twice (`a * a`).
    Each of them sends its share, and the gradient is the sum of all shares. With `=`, the last
    share to arrive would wipe out the others.

    A number on either side of an operator is made into a Value first (`a + 1`, `2 * a`): it is
    a leaf, and its grad is computed like any other, and never read.
    """

    def __init__(self, data, _prev=()):
        self.data = data
        self.grad = 0.0
        self._prev = tuple(_prev)
        self._backward = lambda: None

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # ---- the machines you teach to go backward ---------------------------------------------

    def __add__(self, other):
        """out = self + other.                                         (exercise ch7_engine.add)

        Derive: hold other still and move self by 1; how far does the sum move? And the other way
        round? Each input gets out.grad times its own answer.
        Mind `a + a`: then self and other are the same Value, and it must receive both shares.
        Domain in the tests: data in [-10, 10], inputs that already hold a grad, a number on
        either side, or the same Value twice.
        Worked number: a = Value(2.0), b = Value(-3.0), out = a + b, out.grad = 1.5;
        out._backward() adds 1.5 to a.grad and 1.5 to b.grad.
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            # add out.grad × (local derivative) into self.grad and into other.grad
            raise NotImplementedError("ch7_engine.add")

        out._backward = _backward
        return out

    def __mul__(self, other):
        """out = self * other.                                         (exercise ch7_engine.mul)

        The hourly wage of chapter 4: pay = hours × wage. One more hour adds one wage to the
        pay; a raise of 1 adds one pay per hour worked. Derive each input's local derivative the
        same way, and remember `a * a`, where both shares go to a.
        Domain in the tests: as for add.
        Worked number: a = Value(2.0), b = Value(3.0), out = a * b, out.grad = 0.5;
        out._backward() adds 1.5 to a.grad and 1.0 to b.grad.
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            # add out.grad × (local derivative) into self.grad and into other.grad
            raise NotImplementedError("ch7_engine.mul")

        out._backward = _backward
        return out

    def __pow__(self, n):
        """out = self ** n, for a constant number n.                   (exercise ch7_engine.pow)

        n is a plain number, not a Value, so only self receives a gradient. Derive with the
        power rule of chapter 3; it holds for any real n (n = 0.5 is a square root, n = -1 is 1/x).
        Domain in the tests: n an int in [-3, 4] with self.data in [-3, 3] away from 0, or n a
        float in [-3, 3] with self.data in [0.1, 5].
        Worked number: a = Value(3.0), out = a ** 2, out.grad = 1.5;
        out._backward() adds 9.0 to a.grad.
        """
        assert isinstance(n, (int, float)), "the exponent is a plain number"
        out = Value(self.data ** n, (self,))

        def _backward():
            # add out.grad × (local derivative) into self.grad
            raise NotImplementedError("ch7_engine.pow")

        out._backward = _backward
        return out

    def exp(self):
        """out = e ** self.                                            (exercise ch7_engine.exp)

        Derive: what is the slope of eˣ at x? Look at what the forward pass already stored.
        Domain in the tests: self.data in [-5, 5].
        Worked number: a = Value(1.0), out = a.exp(), out.grad = 0.5;
        out._backward() adds 0.5·e = 1.3591409142295225 to a.grad.
        """
        out = Value(math.exp(self.data), (self,))

        def _backward():
            # add out.grad × (local derivative) into self.grad
            raise NotImplementedError("ch7_engine.exp")

        out._backward = _backward
        return out

    def log(self):
        """out = ln(self), the natural logarithm, for self.data > 0.   (exercise ch7_engine.log)

        Derive: the slope of ln at x (chapter 6). It grows as x shrinks towards 0.
        Domain in the tests: self.data in [0.01, 100].
        Worked number: a = Value(2.0), out = a.log(), out.grad = 3.0;
        out._backward() adds 1.5 to a.grad.
        """
        out = Value(math.log(self.data), (self,))

        def _backward():
            # add out.grad × (local derivative) into self.grad
            raise NotImplementedError("ch7_engine.log")

        out._backward = _backward
        return out

    def relu(self):
        """out = max(0, self).                                        (exercise ch7_engine.relu)

        A switch: a positive input passes through unchanged, any other input becomes 0. Derive
        the slope on each side. At exactly 0, use the slope 0, as torch does.
        Domain in the tests: self.data in [-5, 5], exactly 0 included.
        Worked number: out.grad = 3.0; for a = Value(2.0), out._backward() adds 3.0 to a.grad;
        for a = Value(-1.0) or Value(0.0) it adds 0.
        """
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def _backward():
            # add out.grad × (local derivative) into self.grad
            raise NotImplementedError("ch7_engine.relu")

        out._backward = _backward
        return out

    def sigmoid(self):
        """out = σ(self) = 1 / (1 + e^-self).                      (exercise ch7_engine.sigmoid)

        Derive σ'(x) and write it with σ(x) itself (chapter 6): the forward pass has already
        stored σ(self) in out.data. σ' is never negative, and 0.25 at its largest, at 0.
        Domain in the tests: self.data in [-10, 10].
        Worked number: a = Value(0.0), out = a.sigmoid(), out.grad = 2.0;
        out._backward() adds 0.5 to a.grad.
        """
        x = self.data
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))  # never overflows
        out = Value(s, (self,))

        def _backward():
            # add out.grad × (local derivative) into self.grad
            raise NotImplementedError("ch7_engine.sigmoid")

        out._backward = _backward
        return out

    def tanh(self):
        """out = tanh(self) = (e^self - e^-self) / (e^self + e^-self).  (exercise ch7_engine.tanh)

        Derive tanh'(x) and write it with tanh(x) itself, which is out.data. Careful: with the
        input self.data in its place instead, the answer is right at 0 and wrong everywhere else.
        Domain in the tests: self.data in [-5, 5].
        Worked number: a = Value(0.5), out = a.tanh(), out.grad = 1.5;
        out._backward() adds 1.179671599448891 to a.grad.
        """
        out = Value(math.tanh(self.data), (self,))

        def _backward():
            # add out.grad × (local derivative) into self.grad
            raise NotImplementedError("ch7_engine.tanh")

        out._backward = _backward
        return out

    # ---- the walk backward -----------------------------------------------------------------

    def backward(self):
        """Fill in grad for every Value this one was made from.    (exercise ch7_engine.backward)

        Three things to get right:

        1. Start: self.grad = 1.0. The output moves one for one with itself, so this is the
           first upstream gradient of the whole walk. (Every other grad is 0 until shares arrive.)
        2. Order: a node may send its grad on only when its grad is complete, that is, after
           every node made from it has sent its share. List the nodes in a *topological order*,
           each node after all the nodes in its `_prev` (walk `_prev` depth first and add a node
           to the list once its parents are in it), then call `_backward` on them in the
           reverse of that order: from self back to the leaves. Starting from the leaves, or
           calling a node's `_backward` as soon as you reach it, sends shares that are not yet
           complete.
        3. Once each: a node reached along two paths (a diamond, or `a * a`) must be in the list
           once, or its share is sent twice. Keep a set of the nodes you have already listed.

        backward() does not set grads back to 0: like torch, it adds into whatever is there.
        The tests call it on Values made fresh, with every grad 0, and give every node a correct
        `_backward`, so here only your order is graded.
        Domain in the tests: graphs of up to 3 leaves and 7 operations: chains, diamonds, nodes
        used several times, every operator, constants on either side.
        Worked number (chapter 5's graph): x = Value(2.0), y = Value(-3.0), z = Value(1.0),
        c = (x * y + z) ** 2; after c.backward(): c.grad == 1.0, x.grad == 30.0,
        y.grad == -20.0, z.grad == -10.0.
        """
        raise NotImplementedError("ch7_engine.backward")

    # ---- given: operators built from the machines above --------------------------------------
    # Each is a combination of +, × and **, so its nodes go backward with the _backward you
    # wrote for those: no new derivative to write.

    def __radd__(self, other):  # other + self, when other is a number
        return self + other

    def __rmul__(self, other):  # other * self
        return self * other

    def __neg__(self):  # -self
        return self * -1

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __truediv__(self, other):  # self / other
        return self * other ** -1

    def __rtruediv__(self, other):  # other / self
        return other * self ** -1
