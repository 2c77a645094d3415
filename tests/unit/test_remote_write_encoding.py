"""The remote_write protobuf is byte for byte what Google's own encoder makes of the same
WriteRequest: ``protoc --encode`` (Debian's protobuf-compiler) with the message definitions of
the Remote-Write 1.0 specification, written out below from the specification's text.

protoc is an independent reference: a field number, a wire type, a varint, the byte order of
a double or a length prefix that dlict's hand-written encoder got wrong would show here.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlict.agent.remote_write import Series, encode_write_request

SPEC_SCHEMA = """\
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
}
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
}
message Label {
  string name = 1;
  string value = 2;
}
message Sample {
  double value = 1;
  int64 timestamp = 2;
}
"""


def protoc() -> str:
    protoc = shutil.which("protoc")
    if protoc is None:
        pytest.fail("protoc is not installed: apt-get install protobuf-compiler "
                    "(bootstrap.sh installs it)")
    return protoc


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    path = tmp_path / "remote.proto"
    path.write_text(SPEC_SCHEMA)
    return path


def _double_text(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _text_format(series: list[Series]) -> str:
    """The WriteRequest in protobuf text format, every field written out: protoc itself leaves
    out what proto3 leaves out."""
    out = []
    for one in series:
        out.append("timeseries {")
        for name, text in one.labels:
            quoted_value = "".join(f"\\x{b:02x}" for b in text.encode())
            out.append(f'  labels {{ name: "{name}" value: "{quoted_value}" }}')
        for timestamp, value in one.samples:
            out.append(f"  samples {{ value: {_double_text(value)} timestamp: {timestamp} }}")
        out.append("}")
    return "\n".join(out) + "\n"


def _protoc_encode(schema: Path, series: list[Series]) -> bytes:
    done = subprocess.run(
        [protoc(), f"--proto_path={schema.parent}", "--encode=prometheus.WriteRequest",
         schema.name], input=_text_format(series).encode(), capture_output=True, check=False,
        timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


CASES = {
    "one series, one sample": [
        Series((("__name__", "dlict_link_up"), ("site", "4401010001")),
               ((1_764_000_000_000, 1.0),))],
    "several series, Thai text, awkward values": [
        Series((("__name__", "dlict_probe_rtt_seconds"), ("host", "s4401010001-srv"),
                ("school", "โรงเรียนบ้านหนองบัว"), ("site", "4401010001")),
               ((1_764_000_000_000, 0.0123), (1_764_000_030_000, -2.5),
                (1_764_000_060_000, 1e300), (1_764_000_090_000, 5e-324))),
        Series((("__name__", "dlict_dltv_snr_db"), ("channel", "DLTV1")),
               ((1_764_000_000_001, math.inf), (1_764_000_000_002, -math.inf),
                (1_764_000_000_003, math.nan), (1_764_000_000_004, -0.0))),
    ],
    "defaults proto3 leaves out: zero value, zero timestamp": [
        Series((("__name__", "x"),), ((0, 0.0), (1, 0.0), (0, 7.0)))],
    "a timestamp before 1970 is a ten-byte varint": [
        Series((("__name__", "old"),), ((-1, 1.0), (-86_400_000, 2.0)))],
    "a long label value has a multi-byte length": [
        Series((("__name__", "long"), ("detail", "ก" * 300)), ((1_764_000_000_000, 3.0),))],
    "an empty request": [],
}


@pytest.mark.parametrize("case", CASES)
def test_encoding_is_byte_for_byte_protocs(schema: Path, case: str) -> None:
    series = CASES[case]
    ours = encode_write_request(series)
    assert ours == _protoc_encode(schema, series)


def test_protoc_reads_back_what_was_written(schema: Path) -> None:
    """The same bytes decoded by protoc name the labels and values that went in."""
    series = CASES["several series, Thai text, awkward values"]
    done = subprocess.run(
        [protoc(), f"--proto_path={schema.parent}", "--decode=prometheus.WriteRequest",
         schema.name], input=encode_write_request(series), capture_output=True, check=False,
        timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    text = done.stdout.decode()
    assert text.count("timeseries {") == 2
    assert 'name: "__name__"\n    value: "dlict_probe_rtt_seconds"' in text
    assert "value: -2.5\n    timestamp: 1764000030000" in text
    assert "value: inf" in text and "value: -inf" in text and "value: nan" in text


def test_without_the_agent_extra_the_client_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """cramjam made unimportable, as on a core-only install."""
    from dlict.agent.config import RemoteWriteSettings
    from dlict.agent.remote_write import RemoteWriteClient
    from dlict.core.errors import OperationalError

    monkeypatch.setitem(sys.modules, "cramjam", None)
    with pytest.raises(OperationalError) as missing:
        RemoteWriteClient(RemoteWriteSettings.model_validate(
            {"url": "http://127.0.0.1:9090/api/v1/write"}))
    assert str(missing.value).startswith("dlict agent needs the Python package cramjam")
    assert str(missing.value).endswith("pip install 'dlict[agent]'")
