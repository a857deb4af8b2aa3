"""Property tests: small-cell suppression never leaves a hidden count recomputable. Then exact
results on small tables, so that a change which hides more or less than the rules fails."""

from fractions import Fraction
from itertools import product

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.services import suppression
from api.services.suppression import _bridges_disclosed, _linearly_disclosed, suppress

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


# --- exact results on small tables (mutation testing: a mutant hiding more or less fails) ---


def _dense(sizes: tuple[int, ...], count: int = 20) -> dict:
    return {key: count for key in product(*(range(n) for n in sizes))}


def test_suppress_three_ones_withdraw_the_total_as_false():
    """Three listed rows of 1 each (each at least 1) and a total of 3 pin every row at 1;
    every cell is hidden already, so the total is withdrawn: ``False``, not just falsy."""
    result = suppress({("a",): 1, ("b",): 1, ("c",): 1}, 2)
    assert result.hidden == {("a",), ("b",), ("c",)}
    assert result.total_published is False


def test_suppress_total_below_k_leaves_no_margin_to_protect():
    """Total 2 < k: it is withdrawn, and every row and column (1 each) is below k too, so no
    margin is known and the empty cells (a, y) and (b, x) stay visible."""
    result = suppress({("a", "x"): 1, ("b", "y"): 1}, 10)
    assert result.hidden == {("a", "x"), ("b", "y")}
    assert result.total_published is False


def test_suppress_no_small_cell_publishes_a_grid_past_the_limit_whole():
    """A count of exactly k is not small: with no small cell nothing is hidden, and the
    grid (150 x 150, past GRID_LIMIT) is never built."""
    table = {(n, n): 10 for n in range(150)}
    result = suppress(table, 10)
    assert result.hidden == set()
    assert result.total_published is True


def test_suppress_two_small_rows_in_one_published_column_stay_two_cells():
    """Column 0 (3) hides 2 and 1; each row is at least 1 there (its other cell is empty),
    but 3 can be 1 + 2 or 2 + 1, so no more is hidden and the total stays."""
    result = suppress({("a", 0): 2, ("b", 0): 1, ("c", 1): 4}, 3)
    assert result.hidden == {("a", 0), ("b", 0)}
    assert result.total_published is True


def test_suppress_rows_pinned_at_one_hide_a_count_then_an_empty_cell():
    """Rows a and b hold one 1 each, in different columns. Column 0 (8) hides (b, 0) and the
    next smallest, (c, 0) = 7; column 1 (4) hides (a, 1) and (c, 1) = 3. Row c (10) then
    hides 7 and 3 with (a, 1) and (b, 0) at least 1 each: the pooled rows a + b = 2 pin them
    at 1 and 1, and with no count left to hide, the empty (a, 0) beside one of them is."""
    result = suppress({("a", 1): 1, ("b", 0): 1, ("c", 0): 7, ("c", 1): 3}, 3)
    assert result.hidden == {("a", 0), ("a", 1), ("b", 0), ("c", 0), ("c", 1)}
    assert result.total_published is True


def test_suppress_three_dimensions_one_small_cell_hides_a_two_by_two_cube():
    """A full 3 x 3 x 3 grid of 20s with one 3: every line through a hidden cell must hide a
    second one, and the 2 x 2 x 2 cube is the least that does (adding +e and -e on
    alternate corners keeps every margin)."""
    table = _dense((3, 3, 3))
    table[(0, 0, 0)] = 3
    result = suppress(table, 10)
    assert result.hidden == set(product(range(2), repeat=3))
    assert result.total_published is True


def test_suppress_three_dimensions_of_exactly_elimination_cells_are_still_eliminated():
    sizes = (10, 15, 20)  # 3,000 grid cells: exactly ELIMINATION_CELLS, not past it
    assert sizes[0] * sizes[1] * sizes[2] == suppression.ELIMINATION_CELLS
    table = _dense(sizes)
    table[(0, 0, 0)] = 3
    result = suppress(table, 10)
    assert result.hidden == set(product(range(2), repeat=3))
    assert result.total_published is True


def test_suppress_two_dimensions_past_elimination_cells_are_still_checked_exactly():
    """The whole-grid fallback is for three or more keys: 55 x 55 = 3,025 cells in two
    keys still hide only the 2 x 2 rectangle around one small cell."""
    table = _dense((55, 55))
    table[(0, 0)] = 3
    result = suppress(table, 10)
    assert len(table) > suppression.ELIMINATION_CELLS
    assert result.hidden == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert result.total_published is True


def test_suppress_three_dimensions_hides_the_grid_and_withdraws_the_total():
    """k = 5: cells 3, 3 and 7 (total 13): the whole 2 x 2 x 2 grid is hidden and the total
    withdrawn."""
    table = {("a", None, 1): 3, ("b", None, 1): 3, ("b", "x", 0): 7}
    result = suppress(table, 5)
    assert result.hidden == set(product(("a", "b"), (None, "x"), (0, 1)))
    assert result.total_published is False


def test_suppress_three_dimensions_hides_the_grid_and_keeps_the_total():
    table = {("a", None, 0): 8, ("b", None, 0): 5, ("b", None, 1): 1, ("b", "x", 1): 14}
    result = suppress(table, 5)
    assert result.hidden == set(product(("a", "b"), (None, "x"), (0, 1)))
    assert result.total_published is True


def test_suppress_three_dimensions_small_cells_in_one_line_withdraw_the_total():
    table = {("a", 0, 1): 2, ("b", 0, 1): 1, ("b", 1, 0): 5}
    result = suppress(table, 3)
    assert result.hidden == set(product(("a", "b"), (0, 1), (0, 1)))
    assert result.total_published is False
    check(table, 3, 3, result)


def test_linear_elimination_solves_an_odd_cycle_of_margins():
    """x + y, x + z and y + z fix all three: x = (a + b - c) / 2. Reducing them meets a pivot
    of 2 (not 1), which the modular inverse must undo exactly."""
    x, y, z = ("x",), ("y",), ("z",)
    assert _linearly_disclosed([[x, y], [x, z], [y, z]], {x, y, z}) == {x, y, z}
    assert _linearly_disclosed([[x, y], [x, z]], {x, y, z}) == set()


def test_bridges_with_the_total_tell_pooled_rows_from_pooled_columns():
    """Row b (2) and column y (1) are below k, so unpublished; the total (22) gives both
    pools away: column y = 22 - 21 = 1, and (a, y) is visible 0, so the hidden (b, y) is 1.
    Without the total they are one free node and nothing is fixed."""
    table = {("a", "x"): 20, ("a", "y"): 0, ("b", "x"): 1, ("b", "y"): 1}
    assert _bridges_disclosed(table, {("b", "y")}, 10, True) == {("b", "y")}
    assert _bridges_disclosed(table, {("b", "y")}, 10, False) == set()


def _eliminations(monkeypatch, table: dict, k: int) -> int:
    """How many rounds of elimination the table needs with no limit on them."""
    calls = []
    eliminate = suppression._linearly_disclosed

    def counted(*args):
        calls.append(1)
        return eliminate(*args)

    with monkeypatch.context() as patch:
        patch.setattr(suppression, "_linearly_disclosed", counted)
        patch.setattr(suppression, "ELIMINATION_ROUNDS", 100)
        suppress(table, k)
    return len(calls)


def test_suppress_three_dimensions_needing_five_rounds_is_not_given_up(monkeypatch):
    """Five rounds of elimination (ELIMINATION_ROUNDS) are allowed: a table whose fifth
    finds nothing disclosed keeps 2 of its 12 cells visible."""
    table = {(0, 0, 0): 1, (0, 1, 0): 1, (1, 0, 1): 1, (2, 0, 1): 1, (2, 1, 0): 2}
    assert _eliminations(monkeypatch, table, 3) == suppression.ELIMINATION_ROUNDS
    result = suppress(table, 3)
    assert result.hidden == set(product(range(3), range(2), range(2))) - {(2, 0, 0), (2, 1, 1)}
    assert result.total_published is True
    check(table, 3, 3, result)


def test_suppress_three_dimensions_needing_six_rounds_hides_every_cell(monkeypatch):
    table = {
        (0, 0, 2): 8, (0, 1, 0): 3, (0, 1, 1): 4, (0, 2, 2): 8, (1, 0, 1): 2, (1, 1, 0): 2,
        (1, 1, 1): 4, (1, 1, 2): 4, (1, 2, 0): 6, (1, 2, 1): 8, (1, 2, 2): 1, (2, 0, 0): 7,
        (2, 2, 0): 2, (2, 2, 2): 7,
    }  # fmt: skip
    assert _eliminations(monkeypatch, table, 3) == suppression.ELIMINATION_ROUNDS + 1
    result = suppress(table, 3)
    assert result.hidden == set(product(range(3), repeat=3))
    assert result.total_published is True


def test_suppress_pooled_rows_and_pooled_columns_stay_apart_with_the_total():
    """Every count is below k = 10, and so are rows a (4) and b (6) and columns None (7) and
    y (2); with the total (22) a reader knows rows a + b = 10 and columns None + y = 9, so
    hiding only the five counts would give (c, x) = row c - 9 = 12 - 9 = 3 away. One more
    cell, the empty (a, y) (by repr before (a, None)), is hidden."""
    table = {("a", "x"): 4, ("b", "x"): 6, ("c", None): 7, ("c", "x"): 3, ("c", "y"): 2}
    result = suppress(table, 10)
    assert result.hidden == {
        ("a", "x"), ("a", "y"), ("b", "x"), ("c", "x"), ("c", "y"), ("c", None),
    }  # fmt: skip
    assert result.total_published is True


def test_suppress_empty_cells_beside_none_keys_are_picked_by_repr():
    """Loosening a margin pinned at its lower bounds hides an empty cell beside a row held
    at 1; with None and text in one key the candidates are compared by repr, never as is."""
    table = {("a", None): 4, ("a", "z"): 1, ("b", None): 2, ("c", "x"): 1}
    result = suppress(table, 3)
    assert result.hidden == {
        ("a", "x"), ("a", "z"), ("a", None), ("b", None), ("c", "x"), ("c", "z"),
    }  # fmt: skip
    assert result.total_published is True


def test_suppress_three_dimensions_ties_are_broken_by_repr():
    table = {
        ("a", None, 0): 7, ("a", None, 1): 25, ("a", "x", 0): 1, ("a", "x", 1): 15,
        ("b", None, 0): 27, ("b", None, 1): 27, ("b", "x", 2): 19,
    }  # fmt: skip
    result = suppress(table, 10)
    assert result.hidden == set(product(("a", "b"), (None, "x"), (0, 1, 2)))
    assert result.total_published is True


def test_suppress_three_dimensions_past_elimination_cells_hide_all_not_a_cube():
    """Past ELIMINATION_CELLS the whole grid is hidden even where elimination would have
    found the 2 x 2 x 2 cube (compare the 3,000-cell grid above)."""
    sizes = (15, 15, 14)
    table = _dense(sizes)
    table[(0, 0, 0)] = 3
    assert suppress(table, 10).hidden == set(table)
