"""Attention flow (Abnar and Zuidema 2020, "Quantifying Attention Flow in Transformers").

The layers make a graph: node ``(l, i)`` is token ``i`` after ``l`` layers, and the edge from
``(l, j)`` to ``(l + 1, i)`` has the capacity of the residual-augmented, head-averaged weight
``A'_l[i, j]`` (``A' = residual I + (1 - residual) A``, rows renormalised, as in rollout).
The flow of input token ``j`` to output position ``q`` is the maximum flow from ``(0, j)`` to
``(L, q)``. As in the paper's code, each output row is then divided by its sum.

The maximum flows are exact: a push-relabel (Goldberg and Tarjan 1988) on the layered graph
itself, in numpy, every problem of a batch (one per input token; they share the graph and the
sink) at once. A node has edges only to the layers above and below, so the residual graph is
``L`` dense ``[n, n]`` blocks, and one round pushes from every active node of every problem in a
few array operations. Heights are exact residual distances to the sink (global relabelling, a
breadth-first search in the same blocks that visits only the layers next to its frontier) every
few rounds. Cost: ``O(L n^2)`` memory per problem of a batch and one problem per (query, input
token) pair. Measured (``benchmarks/bench_flow.py``, 2 shared cores): a 12-layer, 128-token query
(128 maximum flows) in 4 s on an idle machine, 13 s under load, 60 times faster than networkx
(about 750 s); every query of a 128-token input is 128 times that, so pass `query` for long inputs.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ArgumentError, AttentionInputError
from ..input.corpus import refuse_pooled
from ..input.data import as_attention
from ..views.arguments import check_real

# Residual capacities and excesses at or below this are zero: float rounding of pushes leaves
# crumbs of ~1e-17 that would otherwise keep nodes active for no flow.
EPSILON = 1e-13
# Global relabelling every this many rounds (heights become exact distances to the sink).
RELABEL_EVERY = 4
# Problems solved at once: memory is about 40 bytes x BATCH x layers x tokens^2. Small batches
# stay in cache and finished problems leave early: 8 was fastest at 12 layers x 64 and 128 tokens.
BATCH = 8


def residual_attention(attention, tokens=None, *, residual: float = 0.5, start_layer: int = 0) -> np.ndarray:
    """``[layers, q, k]`` float64: head-averaged weights with the residual added, rows renormalised.

    The per-layer matrices that attention rollout multiplies and attention flow uses as capacities.

    >>> import numpy as np
    >>> residual_attention(np.full((1, 1, 2, 2), 0.5)).tolist()
    [[[0.75, 0.25], [0.25, 0.75]]]
    """
    data = refuse_pooled(as_attention(attention, tokens), "attention_rollout and attention_flow")
    if not data.normalized:
        raise AttentionInputError(
            f"Attention rollout and flow multiply attention weights whose rows sum to 1, but these values are "
            f"{data.value_label}s with `normalized=False` (rows do not sum to 1), and rolling them out has no "
            "defined meaning (Kobayashi et al. 2020 do not roll out norms). Draw them as they are with "
            "`attnfig.heatmap` or `attnfig.model_view`, or roll out the attention weights "
            "(`attnfig.from_model`)."
        )
    if not data.is_self_attention:
        raise AttentionInputError("Attention rollout and flow need self-attention (square [q, k] with the same tokens).")
    check_real("residual", residual, low=0, high=1)
    first = data.layer_position(start_layer)
    identity = np.eye(data.weights.shape[-1])
    mixed = (1 - residual) * data.weights[first:].mean(axis=1, dtype=np.float64) + residual * identity
    return mixed / mixed.sum(axis=-1, keepdims=True)


def attention_flow(attention: Any, tokens: Sequence[str] | None = None, *, query: int | Sequence[int] | None = None,
                   residual: float = 0.5, start_layer: int = 0,
                   normalize: bool = True) -> np.ndarray:
    """Attention flow ``[q, k]``: the maximum flow from each input token to each output position.

    Parameters
    ----------
    attention : array-like or AttentionData
        Self-attention in any form `attnfig.as_attention` reads.
    tokens : sequence of str, optional
        The tokens, when `attention` does not carry them.
    query : int or sequence of int, optional
        The output position(s) whose flows to compute (negative counts back); None, every
        position. An integer gives a ``[k]`` vector, a sequence ``[len(query), k]``.
    residual : float
        The weight of the identity added to each layer's head average (0.5 in the paper).
    start_layer : int
        The original index of the first layer in the graph.
    normalize : bool
        Divide each output row by its sum, as the paper's code does (default); False keeps
        the maximum flow values themselves (each at most 1).

    Returns
    -------
    numpy.ndarray
        float64 ``[q, k]`` (or ``[k]`` for one integer `query`).

    Raises
    ------
    AttentionInputError
        If the attention is not self-attention weights (norms and other ``normalized=False``
        values are refused) or `start_layer` is not in it.
    ArgumentError
        If `query` names no position or `residual` is outside [0, 1].

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.zeros((2, 1, 2, 2)); weights[..., 0] = 1    # everything attends to token 0
    >>> attnfig.attention_flow(weights, query=1, normalize=False).round(3).tolist()
    [1.0, 0.5]
    """
    capacities = residual_attention(attention, tokens, residual=residual, start_layer=start_layer)
    n = capacities.shape[-1]
    queries = _query_positions(query, n)
    flows = np.stack([layered_max_flows(capacities, q) for q in queries])
    if normalize:
        totals = flows.sum(axis=-1, keepdims=True)
        flows = np.divide(flows, totals, out=np.zeros_like(flows), where=totals > 0)
    return flows[0] if isinstance(query, (int, np.integer)) else flows


def _query_positions(query, n: int) -> list[int]:
    if query is None:
        return list(range(n))
    chosen = [query] if isinstance(query, (int, np.integer)) and not isinstance(query, bool) else query
    try:
        chosen = list(chosen)
    except TypeError:
        chosen = None
    if not chosen or not all(isinstance(q, (int, np.integer)) and not isinstance(q, bool) and -n <= q < n
                             for q in chosen):
        raise ArgumentError(
            f"`query` must be None (every position), a position or a list of positions in [-{n}, {n}), "
            f"but {query!r} was passed."
        )
    return [int(q) % n for q in chosen]


def layered_max_flows(capacities: np.ndarray, sink: int, sources=None) -> np.ndarray:
    """Maximum flow from ``(0, s)`` to ``(L, sink)`` for each source `s`, through the layered graph.

    `capacities` is ``[L, n, n]``: ``capacities[l, i, j]`` is the capacity of the edge from
    token ``j`` after ``l`` layers to token ``i`` after ``l + 1``. Returns float64 ``[len(sources)]``
    (every token by default).

    >>> import numpy as np
    >>> layered_max_flows(np.full((2, 2, 2), 0.5), sink=0).tolist()
    [1.0, 1.0]
    """
    capacities = np.asarray(capacities, dtype=np.float64)
    sources = np.arange(capacities.shape[-1]) if sources is None else np.asarray(sources)
    if capacities.shape[0] == 1:
        return capacities[0, sink, sources].copy()
    return np.concatenate([_PushRelabel(capacities, sink, sources[i:i + BATCH]).run()
                           for i in range(0, len(sources), BATCH)])


class _PushRelabel:
    """Push-relabel on a batch of problems that share the graph and the sink, one source each.

    Nodes are ``[batch, L + 1, n]``: layer 0 holds the source, layer L the sink. The state is the
    residual capacities: ``up[b, l, i, i']`` from node ``(l, i)`` to ``(l + 1, i')`` and
    ``down[b, l, i, j]`` from ``(l, i)`` back to ``(l - 1, j)`` (the flow on that edge). A round
    touches only the rows of the active nodes.
    """

    def __init__(self, capacities: np.ndarray, sink: int, sources: np.ndarray):
        n_layers, n = capacities.shape[0], capacities.shape[-1]
        batch = len(sources)
        self.up = np.zeros((batch, n_layers + 1, n, n))
        self.up[:, :-1] = np.swapaxes(capacities, -1, -2)
        # Only the edges into the sink matter at the top: flow into another top node would be stuck.
        others = np.arange(n) != sink
        self.up[:, -2, :, others] = 0
        self.down = np.zeros_like(self.up)
        self.excess = np.zeros((batch, n_layers + 1, n))
        self.n_nodes = (n_layers + 1) * n
        self.is_end = np.zeros((batch, n_layers + 1, n), dtype=bool)
        rows = np.arange(batch)
        self.is_end[rows, 0, sources] = True
        self.is_end[:, -1, sink] = True
        self.sink = sink
        # Saturate the source's edges.
        sent = self.up[rows, 0, sources].copy()
        self.up[rows, 0, sources] = 0
        self.down[rows, 1, :, sources] = sent
        self.excess[:, 1] = sent
        self.height = np.zeros((batch, n_layers + 1, n))

    def global_relabel(self) -> None:
        """Heights = breadth-first distance to the sink in the residual graph (n_nodes if none).

        A step of the search looks only at the layers next to the frontier: heights stay close
        to the layer distances, so the frontier is a layer or two wide.
        """
        up = (self.up[:, :-1] > EPSILON).astype(np.float32)   # up[:, l]: (l, i) -> (l + 1, i')
        down = (self.down[:, 1:] > EPSILON).astype(np.float32)  # down[:, l]: (l + 1, i) -> (l, j)
        batch, layers, n = self.excess.shape
        height = np.full((batch, layers, n), float(self.n_nodes))
        frontier = np.zeros((batch, layers, n), dtype=np.float32)
        frontier[:, -1, self.sink] = 1
        height[:, -1, self.sink] = 0
        distance = 0
        live = [layers - 1]
        while live:
            distance += 1
            reached = np.zeros((batch, layers, n), dtype=bool)
            for layer in live:
                if layer > 0:
                    reached[:, layer - 1] |= (up[:, layer - 1] @ frontier[:, layer, :, None])[..., 0] > 0
                if layer < layers - 1:
                    reached[:, layer + 1] |= (down[:, layer] @ frontier[:, layer, :, None])[..., 0] > 0
            new = reached & (height == self.n_nodes)
            height[new] = distance
            frontier = new.astype(np.float32)
            live = np.flatnonzero(new.any(axis=(0, 2))).tolist()
        height[self.is_end & (height > 0)] = self.n_nodes  # the source
        self.height = height

    def active(self) -> np.ndarray:
        return (self.excess > EPSILON) & (self.height < self.n_nodes) & ~self.is_end

    def run(self) -> np.ndarray:
        """The maximum flow of each problem; a problem leaves the batch when it is done."""
        flows = np.zeros(len(self.excess))
        remaining = np.arange(len(self.excess))  # original index of each problem still in the batch
        rounds = 0
        limit = 4 * self.n_nodes**2 + 100  # far above the bound of synchronous push-relabel
        while True:
            if rounds % RELABEL_EVERY == 0:
                self.global_relabel()
            active = self.active()
            if not active.any(axis=(1, 2)).all():
                self.global_relabel()  # done only if exact heights agree: no excess can reach the sink
                active = self.active()
                done = ~np.asarray(active.any(axis=(1, 2)))
                flows[remaining[done]] = self.excess[done, -1, self.sink]
                remaining = remaining[~done]
                self.keep(~done)
                active = active[~done]
                if not len(remaining):
                    return flows
            self.push_and_relabel(*np.nonzero(active))
            rounds += 1
            if rounds > limit:
                raise RuntimeError("attention flow: push-relabel did not converge (please report this input).")

    def keep(self, problems: np.ndarray) -> None:
        """Drop the finished problems from every array of the state."""
        if not problems.all():
            for name in ("up", "down", "excess", "is_end", "height"):
                setattr(self, name, getattr(self, name)[problems])

    def push_and_relabel(self, b: np.ndarray, l: np.ndarray, i: np.ndarray) -> None:
        """One synchronous round: the active nodes ``(b, l, i)`` push on their admissible edges, then relabel.

        Active nodes are never in layer 0 or the top layer (only the source and the sink get
        flow there), so each has a layer above and below. Two ends of an edge never both push
        on it in a round (admissibility points one way), so the updates do not collide.
        """
        height = self.height
        n = height.shape[-1]
        own = height[b, l, i][:, None]
        up_height, down_height = height[b, l + 1], height[b, l - 1]
        up, down = self.up[b, l, i], self.down[b, l, i]
        offers = np.concatenate([np.where((up > EPSILON) & (own == up_height + 1), up, 0),
                                 np.where((down > EPSILON) & (own == down_height + 1), down, 0)], axis=-1)
        before = np.cumsum(offers, axis=-1) - offers
        pushed = np.clip(self.excess[b, l, i][:, None] - before, 0, offers)
        pushed_up, pushed_down = pushed[:, :n], pushed[:, n:]
        self.up[b, l, i] -= pushed_up
        self.down[b, l + 1, :, i] += pushed_up
        self.down[b, l, i] -= pushed_down
        self.up[b, l - 1, :, i] += pushed_down
        self.excess[b, l, i] -= pushed.sum(axis=-1)
        size = self.excess.size
        layers = self.excess.shape[1]
        targets = np.arange(n)
        received = np.bincount((((b * layers + l + 1) * n)[:, None] + targets).ravel(), pushed_up.ravel(), size)
        received += np.bincount((((b * layers + l - 1) * n)[:, None] + targets).ravel(), pushed_down.ravel(), size)
        self.excess += received.reshape(self.excess.shape)
        # Nodes that pushed everything they could and kept excess have no admissible edge left.
        stuck = self.excess[b, l, i] > EPSILON
        if stuck.any():
            b, l, i = b[stuck], l[stuck], i[stuck]
            up, down = self.up[b, l, i], self.down[b, l, i]
            lowest = np.minimum(np.where(up > EPSILON, height[b, l + 1], np.inf).min(axis=-1),
                                np.where(down > EPSILON, height[b, l - 1], np.inf).min(axis=-1)) + 1
            self.height[b, l, i] = np.minimum(np.maximum(lowest, height[b, l, i] + 1), self.n_nodes)
