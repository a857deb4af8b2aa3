"""Print the coverage of api/ measured by `make test`: the files not fully covered, then the
totals of lines and of branches apart (coverage's own "Cover" column mixes the two)."""

import json
import sys
import tempfile
from pathlib import Path

import coverage


def main() -> int:
    measured = coverage.Coverage()
    measured.load()
    measured.report(skip_covered=True, show_missing=True)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coverage.json"
        measured.json_report(outfile=str(path))
        totals = json.loads(path.read_text())["totals"]
    lines = 100 * totals["covered_lines"] / max(totals["num_statements"], 1)
    branches = 100 * totals["covered_branches"] / max(totals["num_branches"], 1)
    print(
        f"Coverage of api/: lines {lines:.1f} % ({totals['covered_lines']}/"
        f"{totals['num_statements']}), branches {branches:.1f} % "
        f"({totals['covered_branches']}/{totals['num_branches']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
