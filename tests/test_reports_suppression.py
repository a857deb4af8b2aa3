"""Property tests: small-cell suppression never leaves a hidden count recomputable."""

from fractions import Fraction
from itertools import product

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.services.suppression import suppress

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def count_for(k: int):
    """Counts around the threshold, zeros included: where suppression gets interesting."""
    return st.one_of(
        st.just(0), st.integers(1, max(1, k - 1)), st.integers(k, 3 * k), st.integers(0, 200)
    )


@st.composite
def tables(draw, dims: int, largest: int = 6):
    k = draw(st.integers(2, 12))
    sizes = [draw(st.integers(1, largest)) for _ in range(dims)]
    keys = list(product(*(range(n) for n in sizes)))
    counts = draw(st.lists(count_for(k), min_size=len(keys), max_size=len(keys)))
    table = {key: count for key, count in zip(keys, counts, strict=True) if count > 0}
    return table, k


def margin_groups(grid: list, dims: int):
    """For each set of dimensions short of all: the cells of each of its margins."""
    for fixed_size in range(1, dims):
        for fixed in _subsets(dims, fixed_size):
            groups = {}
            for key in grid:
                groups.setdefault(tuple(key[i] for i in fixed), []).append(key)
            yield list(groups.values())


def published_margins(table: dict, grid: list, dims: int, k: int, with_total: bool) -> list:
    """Every margin a reader may know: sums over any dimensions when >= k, and the total."""
    margins = []
    for groups in margin_groups(grid, dims):
        margins += [g for g in groups if sum(table.get(c, 0) for c in g) >= k]
    if with_total:
        margins.append(list(grid))
    return margins


def _subsets(dims: int, size: int) -> list[tuple]:
    return [c for c in product(range(dims), repeat=size) if list(c) == sorted(set(c))]


def determined(margins: list, hidden: set) -> set:
    """Hidden cells fixed by the margins: exact Gaussian elimination over the rationals."""
    variables = sorted(hidden)
    rows = [[Fraction(int(v in m)) for v in variables] for m in margins if hidden & set(m)]
    pivots = []
    row_index = 0
    for col in range(len(variables)):
        pick = next((r for r in range(row_index, len(rows)) if rows[r][col] != 0), None)
        if pick is None:
            continue
        rows[row_index], rows[pick] = rows[pick], rows[row_index]
        lead = rows[row_index][col]
        rows[row_index] = [v / lead for v in rows[row_index]]
        for r in range(len(rows)):
            if r != row_index and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[row_index], strict=True)]
        pivots.append((col, row_index))
        row_index += 1
    return {variables[col] for col, r in pivots if sum(1 for v in rows[r] if v != 0) == 1}


def known_zeros(table: dict, margins: list, hidden: set) -> set:
    """Hidden cells a reader knows are 0: the hidden part of a published margin sums to 0
    (its total minus its visible cells), and no count is negative."""
    zeros: set = set()
    changed = True
    while changed:
        changed = False
        for margin in margins:
            part = [c for c in margin if c in hidden and c not in zeros]
            if part and sum(table.get(c, 0) for c in part) == 0:
                zeros.update(part)
                changed = True
    return zeros


def check(table: dict, k: int, dims: int, result=None) -> None:
    result = result or suppress(table, k)
    # No visible count is small.
    assert all(key in result.hidden for key, count in table.items() if count < k)
    if not table:
        return
    # A dimension with one value has margins equal to the cells: the table is really smaller.
    varying = [i for i in range(dims) if len({key[i] for key in table}) > 1] or [0]
    table = {tuple(key[i] for i in varying): count for key, count in table.items()}
    hidden = {tuple(key[i] for i in varying) for key in result.hidden}
    dims = len(varying)
    values = [sorted({key[i] for key in table}) for i in range(dims)]
    grid = list(product(*values)) if dims > 1 else list(table)
    # Only cells of the grid are hidden; a total below k is never published.
    assert hidden <= set(grid)
    assert len(hidden) == len(result.hidden)
    if sum(table.values()) < k and hidden:
        assert not result.total_published
    # No hidden cell can be recomputed from any published margin.
    margins = published_margins(table, grid, dims, k, result.total_published)
    assert not determined(margins, hidden)
    # Counts are never negative: hidden cells whose margin hides nothing else are known to
    # be 0, and then protect nothing. Without them, still no hidden cell follows.
    assert not determined(margins, hidden - known_zeros(table, margins, hidden))
    # Counts are never negative and every value is there for a count of at least 1: no
    # margin's hidden cells may all sit at what a reader knows they are at least.
    if result.total_published:
        margins += pooled_margins(table, grid, dims, k)
    assert not pinned_at_lower_bounds(table, grid, dims, margins, hidden)


def pooled_margins(table: dict, grid: list, dims: int, k: int) -> list:
    """Total minus the published margins of a set of dimensions: the unpublished ones' sum."""
    pooled = []
    for groups in margin_groups(grid, dims):
        small = [c for g in groups if sum(table.get(c, 0) for c in g) < k for c in g]
        if small:
            pooled.append(small)
    return pooled


def pinned_at_lower_bounds(table: dict, grid: list, dims: int, margins: list, hidden: set):
    """Margins whose hidden part sums to the number of its hidden cells known to be >= 1 (the
    only hidden cell, bar known zeros, of a slice whose visible cells are all empty)."""
    zeros = known_zeros(table, margins, hidden)
    at_least_one = set()
    for i in range(dims):
        for value in {key[i] for key in grid}:
            cells = [c for c in grid if c[i] == value]
            unknown = [c for c in cells if c in hidden and c not in zeros]
            if len(unknown) == 1 and not any(table.get(c, 0) for c in cells if c not in hidden):
                at_least_one.add(unknown[0])
    pinned = []
    for margin in margins:
        part = [c for c in margin if c in hidden]
        ones = sum(1 for c in part if c in at_least_one)
        if len(part) > 1 and 0 < ones == sum(table.get(c, 0) for c in part):
            pinned.append(part)
    return pinned


@SETTINGS
@given(tables(1))
def test_suppress_one_dimension_hides_small_and_derivable_cells(case):
    table, k = case
    check(table, k, 1)


@SETTINGS
@given(tables(2))
def test_suppress_two_dimensions_no_hidden_cell_follows_from_margins(case):
    table, k = case
    check(table, k, 2)


@st.composite
def tables_with_none(draw, dims: int):
    """A table where one dimension has a real None value (an empty outcome, no referral)."""
    table, k = draw(tables(dims))
    side = draw(st.integers(0, dims - 1))
    rename = {0: None}
    return {
        tuple(rename.get(v, v) if i == side else v for i, v in enumerate(key)): count
        for key, count in table.items()
    }, k


@SETTINGS
@given(tables_with_none(2))
def test_suppress_two_dimensions_with_none_keys_no_hidden_cell_follows(case):
    table, k = case
    result = suppress(table, k)

    def plain(key):  # the checker sorts keys: None becomes -1 there
        return tuple(-1 if v is None else v for v in key)

    result.hidden = {plain(key) for key in result.hidden}
    check({plain(key): count for key, count in table.items()}, k, 2, result)


@settings(max_examples=60, deadline=None)
@given(tables(3, largest=4))
def test_suppress_three_dimensions_no_hidden_cell_follows_from_margins(case):
    table, k = case
    check(table, k, 3)


def test_suppress_no_small_cells_hides_nothing():
    result = suppress({("a",): 10, ("b",): 25}, 10)
    assert result.hidden == set()
    assert result.total_published


def test_suppress_one_small_cell_hides_next_smallest():
    result = suppress({("a",): 40, ("b",): 3, ("c",): 12, ("d",): 15}, 10)
    assert result.hidden == {("b",), ("c",)}
    assert result.total_published


def test_suppress_two_ones_hide_a_third_cell():
    # 52 - 50 = 2 split over two listed rows would mean 1 and 1.
    result = suppress({("a",): 1, ("b",): 1, ("c",): 50, ("d",): 60}, 10)
    assert result.hidden == {("a",), ("b",), ("c",)}


def test_suppress_total_below_threshold_is_withdrawn():
    result = suppress({("a",): 3}, 10)
    assert result.hidden == {("a",)}
    assert not result.total_published


def test_suppress_zero_counts_are_not_small_cells():
    result = suppress({("a",): 0, ("b",): 20}, 10)
    assert result.hidden == set()


def test_suppress_total_of_exactly_k_stays_published():
    result = suppress({("a",): 3, ("b",): 7}, 10)
    assert result.hidden == {("a",), ("b",)}
    assert result.total_published


def test_suppress_keys_may_be_none_beside_text():
    """Report keys hold None (no referral, no outcome) beside text: the order used to pick
    cells never compares None with a string. A 2x2 grid with one small cell must hide the
    whole grid (any fewer hidden cells leave one fixed by its row or column)."""
    table = {
        ("education", None): 3,
        ("education", "police"): 20,
        ("mediation", None): 15,
        ("mediation", "police"): 25,
    }
    result = suppress(table, 10)
    assert result.hidden == set(table)
    assert result.total_published


def test_suppress_three_dimensions_with_none_keys_hides_a_safe_set():
    table = {key: 12 for key in product(("a", None), ("x", None), ("p", "q"))}
    table[("a", None, "p")] = 1
    result = suppress(table, 10)
    assert ("a", None, "p") in result.hidden
    relabel = {"a": 0, None: 1, "x": 0, "p": 0, "q": 1}
    numbered = {tuple(relabel[v] for v in key): count for key, count in table.items()}
    hidden = {tuple(relabel[v] for v in key) for key in result.hidden}
    grid = list(product(range(2), repeat=3))
    margins = published_margins(numbered, grid, 3, 10, result.total_published)
    assert not determined(margins, hidden)
    check(numbered, 10, 3)


def test_suppress_two_small_cells_of_one_row_with_none_keys():
    """Two cells disclosed together whose keys differ only where one holds None."""
    table = {("e", None): 3, ("e", "p"): 4, ("m", None): 15, ("m", "p"): 25}
    result = suppress(table, 10)
    relabel = {"e": 0, "m": 1, None: 0, "p": 1}
    numbered = {tuple(relabel[v] for v in key): count for key, count in table.items()}
    hidden = {tuple(relabel[v] for v in key) for key in result.hidden}
    assert {(0, 0), (0, 1)} <= hidden
    grid = list(product(range(2), repeat=2))
    margins = published_margins(numbered, grid, 2, 10, result.total_published)
    assert not determined(margins, hidden)


def test_suppress_two_small_schools_of_one_activity_are_not_pinned_as_ones():
    """Two schools with one activity each, both in one category: hiding both cells is not
    enough (each school is listed, so each hidden cell is at least 1, and the column says
    they add up to 2); more is hidden until they could be other than 1 and 1."""
    table = {("big", "edu"): 10, ("big", "couns"): 10, ("s1", "edu"): 1, ("s2", "edu"): 1}
    result = suppress(table, 10)
    assert {("s1", "edu"), ("s2", "edu")} < result.hidden
    check(table, 10, 2, result)
