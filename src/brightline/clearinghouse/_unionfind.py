"""A union-find (disjoint-set) over ``0..n-1``: union by size, path halving; and its array form
(:func:`component_labels`) for the column-wise stages.

Used by clustering and linking. Connected components do not depend on the order unions are
made in, which is what makes both stages independent of input order (their outputs are sorted
afterwards).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from numpy.typing import NDArray


class UnionFind:
    def __init__(self, n: int) -> None:
        self._parent = list(range(n))
        self._size = [1] * n

    def find(self, x: int) -> int:
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b``; False when they were already one."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]
        return True

    def union_all(self, members: list[int]) -> None:
        first = members[0]
        for other in members[1:]:
            self.union(first, other)

    def components(self, *, min_size: int = 1) -> list[list[int]]:
        """The sets with at least ``min_size`` members, each sorted (the list is unordered)."""
        groups: dict[int, list[int]] = defaultdict(list)
        size = self._size
        for x in range(len(self._parent)):
            root = self.find(x)
            if size[root] >= min_size:
                groups[root].append(x)
        return list(groups.values())


def component_labels(n: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    """Connected components of nodes ``0..n-1`` joined by the edges ``a[i]``—``b[i]``: per node,
    the smallest node of its component.

    The array form of :class:`UnionFind` for millions of nodes: each round hooks the larger of
    two different roots onto the smaller (so a label never exceeds its node and no cycle can
    form) and then follows pointers until every node points at its root. The result, like any
    set of components, does not depend on the order of the edges.
    """
    label = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return label
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    while True:
        la, lb = label[a], label[b]
        differ = la != lb
        if not differ.any():
            return label
        np.minimum.at(label, np.maximum(la, lb)[differ], np.minimum(la, lb)[differ])
        while True:
            parent = label[label]
            if np.array_equal(parent, label):
                break
            label = parent
