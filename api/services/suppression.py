"""Small-cell suppression with complementary suppression, for tables of any dimension.

A table maps a key tuple (one value per dimension) to a count. Primary suppression hides every
count with ``0 < count < k``. Zeros are not small cells (a zero is nobody) and are never hidden
for their own sake, but in tables of two or more dimensions an empty cell of the grid (every
combination of the values seen in each dimension) may be hidden as a *complement* where no
counted cell can be: it costs no information, though it protects less (counts are never
negative, so margins whose hidden cells sum to 0 say that each of them is 0).

The reader is assumed to know every *margin* that could be published elsewhere: for every subset
of the dimensions, the sum over the others, when that sum is at least ``k`` (a margin below
``k`` is itself a small cell, suppressed wherever it would appear), and the grand total while it
is published. A hidden cell is *disclosed* when those margins pin it down exactly:

* linearly: some combination of published margins minus visible cells equals it (tested
  exactly, by reducing the margin equations over the hidden cells to row echelon form);
* by positivity: every value of a dimension is in the table because some count with it is at
  least 1, so a hidden cell that is the only hidden one of its value's slice, where every
  visible cell is empty, is known to be at least 1 (in one dimension: every hidden row). A
  margin whose hidden part equals the sum of those lower bounds says each hidden cell is at
  its bound (two small schools with one activity each, hidden in one column, are 1 and 1).
  The reader knows the pooled margins too: the total minus the published margins of a set of
  dimensions is the sum of the unpublished ones.
* by emptiness: a margin whose hidden cells sum to 0 says each of them is 0 (no count is
  negative), so hidden empty cells protect nothing on their own there.

While some hidden cell is disclosed, the smallest visible counted cell that shares a published
margin with it (the "next smallest"; an empty cell only where no counted one is left, and never
where the margin's hidden cells are all empty) is hidden too; cells that are alone in a published
margin are skipped, since that margin shows them anyway. When no cell can help, the grand total
is withdrawn as a last resort; it is also withdrawn whenever it is itself below ``k``.
"""

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from itertools import combinations, product

Key = tuple[Hashable, ...]
PRIME = (1 << 61) - 1  # arithmetic modulo a large prime: exact for these small 0/1 systems
GRID_LIMIT = 20_000  # cells in the grid (product of the dimension sizes) we will suppress
# Three or more dimensions need exact elimination, which is costly: past these bounds, every
# cell of the grid is hidden (safe: no cell of a full grid follows from its margins).
ELIMINATION_CELLS = 3_000
ELIMINATION_ROUNDS = 5


class TableTooLarge(ValueError):
    """The grid is too big to suppress; the caller should ask for fewer groups."""


@dataclass
class Suppression:
    hidden: set[Key] = field(default_factory=set)
    total_published: bool = True


def _margins(
    cells: Mapping[Key, int], dims: int, k: int, with_total: bool
) -> tuple[list[list[Key]], int]:
    """The margins a reader knows, each as the list of cells it sums: the published ones,
    then (while the total is published) the pooled unpublished ones of each set of
    dimensions, then the total. Also how many come before the pooled ones."""
    groups: list[list[Key]] = []
    pooled: list[list[Key]] = []
    for size in range(dims - 1, 0, -1):
        for fixed in combinations(range(dims), size):
            by_value: dict[tuple, list[Key]] = defaultdict(list)
            for key in cells:
                by_value[tuple(key[i] for i in fixed)].append(key)
            small: list[Key] = []
            for group in by_value.values():
                (groups if sum(cells[c] for c in group) >= k else small).append(group)
            if small and len(small) < len(by_value):
                pooled.append([cell for group in small for cell in group])
    published = len(groups)
    if with_total and cells:
        groups += pooled + [list(cells)]
    return groups, published


def _linearly_disclosed(groups: list[list[Key]], hidden: set[Key]) -> set[Key]:
    """Hidden cells that some combination of published margins determines exactly."""
    variables = sorted(hidden, key=repr)
    index = {key: i for i, key in enumerate(variables)}
    rows = []
    for group in groups:
        row = {index[c]: 1 for c in group if c in hidden}
        if row:
            rows.append(row)
    pivots: list[tuple[int, dict[int, int]]] = []
    for row in rows:
        for col, pivot_row in pivots:
            factor = row.get(col)
            if factor:
                for j, v in pivot_row.items():
                    row[j] = (row.get(j, 0) - factor * v) % PRIME
                row = {j: v for j, v in row.items() if v}
        if not row:
            continue
        col = min(row)
        inverse = pow(row[col], PRIME - 2, PRIME)
        row = {j: v * inverse % PRIME for j, v in row.items()}
        for i, (other_col, other) in enumerate(pivots):
            factor = other.get(col)
            if factor:
                for j, v in row.items():
                    other[j] = (other.get(j, 0) - factor * v) % PRIME
                pivots[i] = (other_col, {j: v for j, v in other.items() if v})
        pivots.append((col, row))
    return {variables[col] for col, row in pivots if len(row) == 1}


def _bridges_disclosed(table: dict[Key, int], hidden: set[Key], k: int, total: bool) -> set:
    """Two dimensions: hidden cells fixed by the row, column and grand totals.

    Rows and columns are nodes and hidden cells are edges; a cell is fixed exactly when it is a
    bridge. Unpublished rows (and columns) collapse into one node whose sum the grand total
    gives away; without the grand total, all unpublished margins collapse into one node.
    """
    sums: dict[tuple, int] = defaultdict(int)
    for (row, column), count in table.items():
        sums[("r", row)] += count
        sums[("c", column)] += count

    def node(side: str, value) -> tuple:
        if sums[(side, value)] >= k:
            return (side, True, value)
        # Pooled apart from every real value (None included: a group may be empty).
        return (side, False) if total else ("free", False)

    edges = [(node("r", cell[0]), node("c", cell[1]), cell) for cell in hidden]
    return {edges[i][2] for i in _bridges([(a, b) for a, b, _ in edges])}


def _bridges(edges: list[tuple]) -> set[int]:
    """Indexes of the bridges of a multigraph (iterative Tarjan, parallel edges allowed)."""
    adjacency: dict = defaultdict(list)
    for index, (a, b) in enumerate(edges):
        if a != b:
            adjacency[a].append((b, index))
            adjacency[b].append((a, index))
    order: dict = {}
    low: dict = {}
    bridges: set[int] = set()
    for root in adjacency:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            vertex, via, neighbours = stack[-1]
            advanced = False
            for other, index in neighbours:
                if index == via:
                    continue
                if other in order:
                    low[vertex] = min(low[vertex], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, index, iter(adjacency[other])))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > order[parent]:
                        bridges.add(via)
    return bridges


def _grid(cells: dict[Key, int], dims: int) -> dict[Key, int]:
    """The table with its empty cells filled in as zeros (two or more dimensions)."""
    values = [sorted({key[i] for key in cells}, key=repr) for i in range(dims)]
    size = 1
    for column in values:
        size *= len(column)
    if size > GRID_LIMIT:
        raise TableTooLarge(f"A suppressed table may have at most {GRID_LIMIT} cells.")
    if dims < 2:
        return dict(cells)
    return {key: cells.get(key, 0) for key in product(*values)}


def suppress(cells: Mapping[Key, int], k: int) -> Suppression:
    """Which cells to hide (and whether the grand total may stay) for threshold ``k``.

    The hidden set may include empty cells of the grid (zeros) that are not in ``cells``.
    A dimension with a single value adds nothing (its margins are the cells themselves, which
    the report without it suppresses the same way), so it is set aside first.
    """
    counts = {key: count for key, count in cells.items() if count > 0}
    if not any(count < k for count in counts.values()):
        return Suppression()
    width = len(next(iter(counts)))
    varying = [i for i in range(width) if len({key[i] for key in counts}) > 1] or [0]
    fixed = next(iter(counts))
    reduced = {tuple(key[i] for i in varying): count for key, count in counts.items()}
    result = _suppress_table(reduced, k)

    def widen(short: Key) -> Key:
        full = list(fixed)
        for position, value in zip(varying, short, strict=True):
            full[position] = value
        return tuple(full)

    result.hidden = {widen(key) for key in result.hidden}
    return result


def _suppress_table(counts: dict[Key, int], k: int) -> Suppression:
    result = Suppression(hidden={key for key, count in counts.items() if count < k})
    dims = len(next(iter(counts)))
    table = _grid(counts, dims)
    result.total_published = sum(counts.values()) >= k
    if dims > 2 and len(table) > ELIMINATION_CELLS:
        result.hidden = set(table)
        return result
    groups, published = _margins(table, dims, k, result.total_published)
    _Complement(table, groups, published, result, k).run()
    return result


class _Complement:
    """Hide further cells until no hidden one is disclosed by the published margins."""

    def __init__(self, table, groups, published: int, result: Suppression, k: int):
        self.table, self.groups, self.result = table, groups, result
        self.dims, self.k = len(next(iter(table))), k
        self.one_dimension = self.dims == 1
        self.total = len(groups) - 1 if result.total_published else None
        self.derived = set(range(published, len(groups)))  # known while the total is
        self.slices = [
            [cell for cell in table if cell[i] == value]
            for i in range(self.dims)
            for value in {cell[i] for cell in table}
        ]
        self.member = defaultdict(list)
        for number, group in enumerate(groups):
            for cell in group:
                self.member[cell].append(number)
        self.alone = {group[0] for group in groups if len(group) == 1}
        self.hidden_count = [sum(1 for c in g if c in result.hidden) for g in groups]
        self.hidden_sum = [sum(table[c] for c in g if c in result.hidden) for g in groups]
        self.settled: set[int] = set()
        self.queue = list(range(len(groups)))

    def run(self) -> None:
        given_up: set[Key] = set()
        eliminations = 0
        # Each round hides a cell, gives up on a cell or a margin, or withdraws the total.
        for _ in range(2 * len(self.table) + len(self.groups) + 2):
            self._margin_rules()
            tight = self._at_lower_bounds()
            if tight:
                self._loosen(*tight[0])
                continue
            if self.one_dimension:
                return  # one equation: the margin rules are exact
            if self.dims == 2:
                published = self.result.total_published
                disclosed = _bridges_disclosed(self.table, self.result.hidden, self.k, published)
            elif eliminations >= ELIMINATION_ROUNDS:
                self.result.hidden = set(self.table)
                return
            else:
                eliminations += 1
                active = [g for n, g in enumerate(self.groups) if n not in self.settled]
                disclosed = _linearly_disclosed(active, self.result.hidden)
            disclosed -= given_up
            if not disclosed:
                return
            for key in sorted(disclosed, key=repr):
                around = [n for n in self.member[key] if n not in self.settled]
                if not self._widen(around, key):
                    given_up.add(key)

    def _margin_rules(self) -> None:
        """A margin with one hidden cell gives it away; so does one whose hidden cells are all
        empty (no count is negative, so each is 0 and protects nothing): a count is hidden
        there too."""
        while self.queue:
            number = self.queue.pop()
            if number in self.settled:
                continue
            hidden = self.hidden_count[number]
            empty = hidden > 0 and self.hidden_sum[number] == 0
            if hidden == 1 or empty:
                self._widen([number], None, counted=empty)

    def _at_lower_bounds(self) -> list[tuple[int, list[Key]]]:
        """Margins whose hidden counts are each at the least a reader knows it to be (see
        the module's "by positivity"), with their cells known to be at least 1: their
        hidden cells are disclosed."""
        hidden = self.result.hidden
        zeros = {  # hidden in a margin whose hidden part sums to 0: known to be 0
            c for n, g in enumerate(self.groups) if self.hidden_sum[n] == 0 for c in g
        }
        at_least_one: dict[Key, list[Key]] = {}  # cell -> the slice that says so
        for cells in self.slices:
            unknown = [c for c in cells if c in hidden and c not in zeros]
            if len(unknown) == 1 and all(self.table[c] == 0 for c in cells if c not in hidden):
                at_least_one[unknown[0]] = cells
        tight = []
        for number, group in enumerate(self.groups):
            if number in self.settled or self.hidden_count[number] < 2:
                continue
            ones = [(c, at_least_one[c]) for c in group if c in at_least_one]
            if 0 < self.hidden_sum[number] == len(ones):
                tight.append((number, ones))
        return tight

    def _loosen(self, number: int, ones: list[tuple[Key, list[Key]]]) -> None:
        """Make a margin whose hidden counts sit at their lower bounds uncertain again: hide
        its smallest visible count; else an empty cell of the slice that says one of them is
        at least 1 (the slice's count could then be in either); else withdraw the total if
        it is part of what the reader knows, or give up on the margin."""
        hidden = self.result.hidden
        counts = [
            c
            for c in self.groups[number]
            if c not in hidden and c not in self.alone and self.table[c]
        ]
        if counts:
            self._hide(min(counts, key=lambda c: (self.table[c], repr(c))))
            return
        for _, cells in ones:
            empty = [c for c in cells if c not in hidden and c not in self.alone]
            if empty:
                self._hide(min(empty, key=repr))
                return
        if self.total is not None and (number == self.total or number in self.derived):
            self._withdraw_total()
        else:
            self.settled.add(number)

    def _widen(self, numbers: list[int], key: Key | None, counted: bool = False) -> bool:
        """Hide the smallest visible cell (non-empty if ``counted``) of these margins; False
        if there is none."""
        hidden = self.result.hidden
        candidates = [
            c
            for n in numbers
            for c in self.groups[n]
            if c not in hidden
            and c not in self.alone
            and c != key
            and (self.table[c] > 0 or not counted)
        ]
        if candidates:
            # Counted cells before empty ones: a hidden empty cell protects only while no
            # combination of margins says it is 0 (counts are never negative).
            smallest = min(candidates, key=lambda c: (self.table[c] == 0, self.table[c], repr(c)))
            self._hide(smallest)
            return True
        if self.total is not None and self.total in numbers:
            self._withdraw_total()  # the last resort
            return True
        # A margin published elsewhere fixes it and nothing here can help.
        self.settled.update(numbers)
        return False

    def _withdraw_total(self) -> None:
        """Withdraw the grand total, and with it the pooled margins it gave away."""
        self.result.total_published = False
        self.settled.add(self.total)
        self.settled.update(self.derived)
        self.total = None

    def _hide(self, cell: Key) -> None:
        self.result.hidden.add(cell)
        for number in self.member[cell]:
            self.hidden_count[number] += 1
            self.hidden_sum[number] += self.table[cell]
            self.queue.append(number)
