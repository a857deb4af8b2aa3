"""`make mutate`: run mutmut over the modules in pyproject.toml's [tool.mutmut] (the rules that
guard people and data), then print the score of each module and every surviving mutant.

MUTATE_CHILDREN (default 2) sets mutmut's parallel test processes; MUTANTS (a glob such as
"api.services.privacy*") limits the run to some mutants. mutmut keeps its results under
mutants/, so a second run only tests what changed; `--report-only` prints the last results
without running (an interrupted run keeps what it decided)."""

import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

BIN = Path(sys.executable).parent
LINE = re.compile(r"^\s+(?P<name>\S+)__mutmut_\d+: (?P<status>.+)$")


def _module(mangled: str) -> str:
    """api.services.privacy.x_identifier_problems -> api.services.privacy"""
    parts = mangled.split(".")
    return ".".join(p for p in parts if not p.startswith(("x_", "xǁ")))


def main(argv: list[str]) -> int:
    if "--report-only" not in argv:
        children = os.environ.get("MUTATE_CHILDREN", "2")
        run = [str(BIN / "mutmut"), "run", "--max-children", children]
        if os.environ.get("MUTANTS"):
            run.append(os.environ["MUTANTS"])
        subprocess.run(run, check=False)
    listed = subprocess.run(
        [str(BIN / "mutmut"), "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_module: dict[str, Counter] = defaultdict(Counter)
    survivors = []
    for line in listed.splitlines():
        found = LINE.match(line)
        if not found:
            continue
        status = found["status"].strip()
        by_module[_module(found["name"])][status] += 1
        if status == "survived":
            survivors.append(line.strip().split(":")[0])
    return _report(by_module, survivors)


def _report(by_module: dict[str, Counter], survivors: list[str]) -> int:
    total = Counter()
    print(f"\n{'module':40} {'killed':>7} {'survived':>9} {'other':>6} {'score':>7}")
    for module, counts in sorted(by_module.items()):
        total += counts
        print(_row(module, counts))
    print(_row("all", total))
    print(f"\nSurviving mutants ({len(survivors)}; `mutmut show NAME` for each diff):")
    for name in survivors:
        print(f"  {name}")
    return 0


def _row(name: str, counts: Counter) -> str:
    killed, survived = counts["killed"], counts["survived"]
    other = sum(counts.values()) - killed - survived
    decided = killed + survived
    score = f"{100 * killed / decided:.1f} %" if decided else "-"
    return f"{name:40} {killed:>7} {survived:>9} {other:>6} {score:>7}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
