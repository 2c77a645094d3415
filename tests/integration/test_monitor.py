"""`dlict monitor`: real ICMP to loopback, real TCP/HTTP checks against local servers, the
exporter as a real process scraped over HTTP (plain, gzip, basic auth, TLS)."""

from __future__ import annotations

import gzip
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab.monitoring import (
    School,
    fetch,
    free_port,
    running_monitor,
    self_signed_certificate,
    write_district,
)
from tests.conftest import CliRunner
from tests.httpstub import QuietHandler, serving

FAST = {"count": 2, "period_ms": 100, "timeout_ms": 300, "services_interval_s": 5,
        "check_timeout_s": 2}


class _Answer(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_body(b"ok", 500 if self.path == "/broken" else 200)


@pytest.fixture
def web_server() -> Iterator[str]:
    with serving(_Answer) as served:
        yield served.url


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_once_reports_each_school_and_fails_on_a_dead_service(
        cli: CliRunner, tmp_path: Path, web_server: str) -> None:
    closed = free_port()
    inventory = write_district(tmp_path / "inv", [
        School("4401010001", probe_targets=["127.0.0.1", "127.0.0.2"],
               services={"http": [f"{web_server}/"]}),
        School("4401010002", probe_targets=["127.0.0.3"],
               services={"tcp": [f"127.0.0.1:{closed}"], "http": [f"{web_server}/broken"]}),
    ], FAST)
    result = cli("-i", str(inventory), "monitor", "--once", "--json")
    assert result.code == 1, result.stderr
    rows = {row["site"]: row for row in json.loads(result.stdout)}
    healthy, failing = rows["4401010001"], rows["4401010002"]
    assert healthy["link_up"] is True
    assert {t: v["received"] for t, v in healthy["targets"].items()} == {
        "127.0.0.1": 2, "127.0.0.2": 2}
    assert healthy["services"][0]["up"] is True and healthy["services"][0]["status"] == 200
    assert failing["link_up"] is True
    by_kind = {s["kind"]: s for s in failing["services"]}
    assert by_kind["tcp"]["up"] is False and "refused" in by_kind["tcp"]["detail"]
    assert by_kind["http"]["up"] is False and by_kind["http"]["status"] == 500

    text = cli("-i", str(inventory), "--lang", "en", "monitor", "--once")
    lines = {line.split()[0]: line for line in text.stdout.splitlines()}
    assert "OK" in lines["4401010001"]
    assert f"tcp 127.0.0.1:{closed} down" in lines["4401010002"]


def test_metrics_are_served_at_scrape_time(tmp_path: Path, web_server: str) -> None:
    inventory = write_district(tmp_path / "inv", [
        School("4401010001", probe_targets=["127.0.0.1"],
               services={"http": [f"{web_server}/"], "tcp": [f"127.0.0.1:{free_port()}"]}),
        School("4401010002", probe_targets=["127.0.0.5", "127.0.0.6"]),
    ], FAST)
    with running_monitor(inventory, tmp_path) as monitor:
        values = samples(monitor.metrics())
        status, headers, body = fetch(f"{monitor.url}/metrics",
                                      headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        zipped = samples(gzip.decompress(body).decode())
        status_404, _h, _b = fetch(f"{monitor.url}/nothing")
    site1 = (("site", "4401010001"),)
    assert values[("dlict_link_up", site1)] == 1
    assert values[("dlict_link_up", (("site", "4401010002"),))] == 1
    target = (("site", "4401010001"), ("target", "127.0.0.1"))
    assert values[("dlict_probe_up", target)] == 1
    assert values[("dlict_probe_loss_ratio", target)] == 0
    assert 0 <= values[("dlict_probe_rtt_seconds", target)] < 0.05
    assert values[("dlict_probe_last_success_timestamp_seconds", target)] > 1.7e9
    http = (("site", "4401010001"), ("target", f"{web_server}/"))
    assert values[("dlict_http_up", http)] == 1
    assert values[("dlict_http_status_code", http)] == 200
    tcp = [k for k in values if k[0] == "dlict_tcp_up"]
    assert len(tcp) == 1 and values[tcp[0]] == 0
    assert values[("dlict_monitor_targets", ())] == 3
    assert values[("dlict_monitor_cycle_seconds", ())] > 0
    assert ("process_cpu_seconds_total", ()) in values
    site_part = {k: v for k, v in zipped.items()
                 if k[0].startswith(("dlict_link", "dlict_probe_up"))}
    assert site_part and all(values.get(k) == v for k, v in site_part.items())
    assert status_404 == 404


def test_tls_and_basic_auth_like_prometheus_exporters(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    hashed = bcrypt.hashpw(b"s3cret-scrape", bcrypt.gensalt(rounds=10)).decode()
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {cert.name}\n  key_file: {key.name}\n"
                   f"basic_auth_users:\n  prometheus: '{hashed}'\n")
    inventory = write_district(tmp_path / "inv", [School("4401010001", ["127.0.0.1"])], FAST)
    trust = ssl.create_default_context(cafile=str(cert))
    with running_monitor(inventory, tmp_path, "--web-config", str(web), scheme="https",
                         context=trust, auth=("prometheus", "s3cret-scrape")) as monitor:
        denied, headers, _ = fetch(f"{monitor.url}/metrics", context=trust)
        wrong, _h, _b = fetch(f"{monitor.url}/metrics", "prometheus", "guess", context=trust)
        allowed, _h, body = fetch(f"{monitor.url}/metrics", "prometheus", "s3cret-scrape",
                                  context=trust)
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            fetch(f"{monitor.url}/metrics", context=ssl.create_default_context())
        log = monitor.output()
    assert denied == 401 and headers["WWW-Authenticate"].startswith("Basic")
    assert wrong == 401
    assert allowed == 200 and b'dlict_link_up{site="4401010001"} 1' in body
    assert "s3cret-scrape" not in log


@pytest.mark.parametrize(("content", "message"), [
    ("basic_auth_users:\n  prometheus: plaintext\n",
     "basic_auth_users: prometheus: the password must be a bcrypt hash"),
    ("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
     "tls_server_config: cannot load the certificate and key"),
    ("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n",
     "min_version 'TLS10' is not TLS12 or TLS13"),
    ("http_server_config: {}\nfoo: 1\n", "unknown key foo"),
])
def test_a_bad_web_config_is_one_line(cli: CliRunner, tmp_path: Path, content: str,
                                      message: str) -> None:
    web = tmp_path / "web.yml"
    web.write_text(content)
    inventory = write_district(tmp_path / "inv", [School("4401010001", ["127.0.0.1"])], FAST)
    result = cli("-i", str(inventory), "monitor", "--web-config", str(web), "--once")
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(web) in result.stderr and message in result.stderr


def test_bad_inventory_settings_and_listen_are_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    inventory = write_district(tmp_path / "inv", [School("4401010001", ["school-gw.local"])],
                               {"count": 0})
    result = cli("-i", str(inventory), "monitor", "--once")
    assert result.code == 2
    assert "group_vars/all.yml" in result.stderr and "dlict_monitor.count" in result.stderr
    inventory = write_district(tmp_path / "inv2", [School("4401010001", ["school-gw.local"])])
    result = cli("-i", str(inventory), "monitor", "--once")
    assert result.code == 2
    assert "site 4401010001: probe target 'school-gw.local' must be an IPv4 address" in \
        result.stderr
    result = cli("-i", str(inventory), "monitor", "--listen", "localhost")
    assert result.code == 2 and "--listen 'localhost'" in result.stderr


def test_export_sd_writes_file_sd_targets(cli: CliRunner, tmp_path: Path) -> None:
    inventory = write_district(tmp_path / "inv", [School("4401010001", ["127.0.0.1"])])
    out = tmp_path / "targets"
    out.mkdir()
    result = cli("-i", str(inventory), "monitor", "export-sd", "--dir", str(out),
                 "--listen", "127.0.0.1:9310")
    assert result.code == 0, result.stderr
    assert json.loads((out / "dlict.json").read_text()) == [
        {"targets": ["127.0.0.1:9310"], "labels": {}}]
    assert json.loads((out / "node.json").read_text()) == [
        {"targets": ["127.30.0.10:9100"], "labels": {"site": "office", "host": "office-log"}}]
    assert (out / "dlict.json").stat().st_mode & 0o777 == 0o644
    missing = cli("-i", str(inventory), "monitor", "export-sd", "--dir", str(tmp_path / "no"))
    assert missing.code == 2 and "no such directory" in missing.stderr
