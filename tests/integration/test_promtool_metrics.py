"""What dlict serves and writes for Prometheus passes the real `promtool check metrics`
(Debian's prometheus package): a live scrape of `dlict monitor` watching a small loopback
district (an HTTPS site, a Tvheadend receiver), and the textfile of `dlict logs check
--metrics` over a real sealed tree."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from prometheus_client.parser import text_string_to_metric_families

import dlict
from dlict.inventory.loader import OFFICE_SITE_ID
from dlict.logs import keys
from dlict.logs.bundle import build
from dlict.logs.policy import Policy
from lab.logtree import build_tree
from lab.monitoring import School, running_monitor, self_signed_certificate, write_district
from tests.conftest import CliRunner
from tests.httpstub import QuietHandler, serving

TVHEADEND = Path(__file__).parent / "fixtures" / "dltv" / "tvheadend" / "locked"
FAST = {"count": 2, "period_ms": 100, "timeout_ms": 300, "services_interval_s": 5,
        "check_timeout_s": 2}


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: apt-get install prometheus "
                    "(bootstrap.sh installs it)")
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60, check=False)


class _Site(QuietHandler):
    """A school's web site and its Tvheadend status API, on one loopback port."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        name = self.path.removeprefix("/api/status/")
        body = (TVHEADEND / f"{name}.json").read_bytes() if name in (
            "inputs", "subscriptions") else b"ok"
        self.send_body(body)


@pytest.fixture
def receiver_port() -> Iterator[int]:
    with serving(_Site) as served:
        yield served.port


@pytest.fixture
def https_site(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serving(_Site, tls=context) as served:
        yield served.port, cert


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_a_live_monitor_scrape_passes_promtool(
        tmp_path: Path, https_site: tuple[int, Path], receiver_port: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLICT_TVHEADEND_USER", raising=False)
    monkeypatch.delenv("DLICT_TVHEADEND_PASSWORD", raising=False)
    port, cert = https_site
    inventory = write_district(tmp_path / "inv", [
        School("4401010001", probe_targets=["127.0.0.1"],
               services={"http": [f"https://127.0.0.1:{port}/"]},
               dltv={"source": "tvheadend", "address": f"http://127.0.0.1:{receiver_port}",
                     "channels": [1, 2]}),
    ], FAST)
    wanted = {"dlict_http_cert_expiry_timestamp_seconds", "dlict_dltv_uncorrected_blocks_total",
              "dlict_link_up"}
    with running_monitor(inventory, tmp_path) as monitor:
        deadline = time.monotonic() + 30
        while not wanted <= set(samples := _families(text := monitor.metrics())):
            assert time.monotonic() < deadline, f"missing {wanted - set(samples)}:\n{text}"
            time.sleep(0.5)
    checked = promtool_check(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""
    # the certificate's notAfter, as blackbox_exporter serves probe_ssl_earliest_cert_expiry
    not_after = x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_after_utc
    [(labels, expiry)] = samples["dlict_http_cert_expiry_timestamp_seconds"]
    assert labels == {"site": "4401010001", "target": f"https://127.0.0.1:{port}/"}
    assert expiry == not_after.timestamp()
    assert samples["dlict_dltv_uncorrected_blocks_total"] == [({"site": "4401010001"}, 14.0)]
    assert "# TYPE dlict_dltv_uncorrected_blocks_total counter" in text
    assert samples["dlict_build_info"] == [({"version": dlict.__version__}, 1.0)]
    names = {s["site"]: s for s, _value in samples["dlict_site_info"]}
    assert names["4401010001"] == {"site": "4401010001", "name_th": "โรงเรียน 4401010001",
                                   "name_en": "School 4401010001", "amphoe": "เมือง"}
    assert names.keys() == {"4401010001", OFFICE_SITE_ID}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return build_tree(tmp_path_factory.mktemp("sealed"), sources=2, days=3)


def _check_textfile(text: str) -> None:
    checked = promtool_check(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""
    samples = _families(text)
    covered = {s["host"]: v for s, v in samples["dlict_logs_covered_seconds"]}
    required = {s["host"]: v for s, v in samples["dlict_logs_required_seconds"]}
    assert covered == required and len(covered) == 2
    assert set(covered.values()) <= {3 * 86400.0, 2 * 86400.0}  # 2 days before 06:00


def test_the_logs_check_textfile_passes_promtool(
        cli: CliRunner, sealed: Policy, tmp_path: Path) -> None:
    out = tmp_path / "logs.prom"
    result = cli("logs", "check", "--policy", str(sealed.root.parent / "logging.json"),
                 "--root", str(sealed.root), "--state", str(sealed.state_dir),
                 "--key", str(keys.public_path(sealed.signing_key)), "--metrics", str(out))
    assert result.code == 0, result.stderr
    _check_textfile(out.read_text())


def test_the_log_servers_zipapp_writes_the_same_valid_textfile(
        sealed: Policy, tmp_path: Path) -> None:
    """Debian's python3 in isolated mode, as on the log server."""
    archive = tmp_path / "dlict-logs.pyz"
    archive.write_bytes(build())
    out = tmp_path / "logs.prom"
    run = subprocess.run(["/usr/bin/python3", "-I", str(archive), "check",
                          "--policy", str(sealed.root.parent / "logging.json"),
                          "--metrics", str(out)],
                         capture_output=True, text=True, check=False, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    _check_textfile(out.read_text())
