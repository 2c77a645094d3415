"""The audit scale benchmark runs end to end on a one-host fleet and prints every figure.

The figures that count come from the lead's run over 3, 6, 12 and 24 hosts on a quiet machine.
This keeps the script, its fleet, the anchor extracted from history, the Mitogen column, the
column over two worker nodes, the fitted projection and both goal lines working."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from lab.fleet.fleet import missing_prerequisites
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

NUMBER = r"(\d+\.\d+)"


def test_bench_audit_scale_times_four_columns_and_prints_the_goals() -> None:
    missing = missing_prerequisites()
    if missing:
        pytest.fail("the test fleet cannot run here: " + "; ".join(missing), pytrace=False)
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_audit_scale", "--sizes", "1", "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert re.search(r"^machine: \d+ cores, ", run.stdout, re.MULTILINE), run.stdout
    # mitogen is one of dlict's dependencies: all columns are measured, the one over two
    # worker nodes (the default --workers 2) included
    columns = ["dlict audit", "ansible-playbook --check", r"ansible-playbook --check \(mitogen\)",
               "dlict audit --workers"]
    for column in columns:
        row = re.search(rf"^{column} +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}$",
                        run.stdout, re.MULTILINE)
        assert row is not None, f"no figures for {column}:\n{run.stdout}"
        assert all(float(value) > 0 for value in row.groups()[:4]), row.group(0)
        # only the run on worker nodes has work done on them
        assert (float(row.group(5)) > 0) == (column == "dlict audit --workers"), row.group(0)
        # every column's audit runs modules on the host: its own CPU is measured
        assert float(row.group(6)) > 0, row.group(0)
    assert re.search(rf"^worker nodes: wall {NUMBER} s \({NUMBER}x dlict audit's\); controller "
                     rf"cpu {NUMBER} s \({NUMBER}x less\), nodes cpu {NUMBER} s$",
                     run.stdout, re.MULTILINE), run.stdout
    ratios = (rf"^ratio anchor/dlict: wall {NUMBER}x, cpu {NUMBER}x; "
              rf"anchor/mitogen: wall {NUMBER}x, cpu {NUMBER}x$")
    assert re.search(ratios, run.stdout, re.MULTILINE), run.stdout
    assert re.search(rf"^dlict audit: seconds per added host: wall {NUMBER} s, cpu {NUMBER} s, "
                     rf"hosts' cpu {NUMBER} s; 500 hosts: wall \d+ s, controller cpu \d+ s / \d+ "
                     r"cores = \d+ s at the least; with the hosts' work elsewhere \d+ s$",
                     run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^with worker nodes, 500 hosts: office controller cpu \d+ s \(\d+\.\d+ s "
                     r"per host\); nodes cpu \d+ s, i\.e\. \d+ nodes of \d+ cores for 900 s",
                     run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^goal: 500 hosts under 15 min \(900 s\): (met|NOT met)",
                     run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^goal: 500 hosts under 15 min with the hosts' work on their own machines: "
                     r"(met|NOT met) \(dlict projected \d+ s: ", run.stdout,
                     re.MULTILINE), run.stdout
    assert ("goal: dlict >= 3x faster than ansible-playbook --check at 12+ hosts: not measured"
            in run.stdout)
