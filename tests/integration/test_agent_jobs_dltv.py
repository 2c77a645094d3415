"""The agent's DLTV job from inside a school, for real: a Tvheadend-like API on 127.0.0.1
answering with the recorded ``/api/status`` answers of ``fixtures/dltv/tvheadend/``, HLS
playlists written now on 127.0.0.1, a tuner's ``dvb-fe-tool --femon`` output from a file (as
an agent may write it), and a local tuner whose ``dvb-fe-tool`` is not installed here —
every receiver one result, none stopping the others. Run through the job runner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dlict.agent.jobs.base import JobContext
from dlict.agent.jobs.dltv import DltvJob
from dlict.agent.jobs.runner import run_job
from dlict.agent.jobs.settings import DltvJobSettings
from dlict.agent.records import Kind, result_of
from dlict.core.metric_names import DLTV_LOCKED, DLTV_SNR, DLTV_STREAM, DLTV_UP
from dlict.core.results import Status
from dlict.dltv import DVB_FEMON, HLS, TVHEADEND
from tests.httpstub import QuietHandler, serving

SITE, HOST = "4401010001", "school-srv"
CONTEXT = JobContext(SITE, HOST, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
TVH = Path(__file__).parent / "fixtures" / "dltv" / "tvheadend" / "locked"
FEMON = Path(__file__).parent.parent / "unit" / "fixtures" / "dltv" / "femon" / "locked.txt"


def media_playlist(first_starts: datetime) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6",
             "#EXT-X-MEDIA-SEQUENCE:1200",
             "#EXT-X-PROGRAM-DATE-TIME:" + first_starts.isoformat(timespec="milliseconds")]
    for n in range(3):
        lines += ["#EXTINF:6.000,", f"seg{1200 + n}.ts"]
    return ("\n".join(lines) + "\n").encode()


class Receivers(QuietHandler):
    """Tvheadend's status API and the HLS streams of channels 1 (fresh) and 2 (stalled)."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        now = datetime.now(UTC)
        pages = {
            "/api/status/inputs": (TVH / "inputs.json").read_bytes(),
            "/api/status/subscriptions": (TVH / "subscriptions.json").read_bytes(),
            "/dltv/1/index.m3u8": media_playlist(now - timedelta(seconds=18)),
            "/dltv/2/index.m3u8": media_playlist(now - timedelta(seconds=618)),
        }
        if self.path in pages:
            self.send_body(pages[self.path], content_type="application/json")
        else:
            self.send_body(b"not found", status=404)

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_body(b"", content_type="video/mp2t", Content_Length="1500000")


def test_dltv_job_reads_tvheadend_hls_and_tuners_from_inside() -> None:
    with serving(Receivers) as web:
        settings = DltvJobSettings(receivers=[
            {"source": TVHEADEND, "address": web.url, "channels": [1, 2]},
            {"source": HLS, "address": f"{web.url}/dltv", "channels": [1, 2]},
            {"source": DVB_FEMON, "address": str(FEMON)},
            {"source": DVB_FEMON, "address": "adapter0"},
        ], read_timeout_s=3)
        run = run_job(DltvJob(settings), CONTEXT)
    assert (run.error, run.cut) == (None, False)
    results = {str(result_of(r).target): result_of(r) for r in run.records
               if r.kind is Kind.RESULT}
    assert {t: r.status for t, r in results.items()} == {
        f"dltv {TVHEADEND} {web.url}": Status.PASS,
        f"dltv {HLS} {web.url}/dltv": Status.FAIL,  # channel 2 stalled: not every stream up
        f"dltv {DVB_FEMON} {FEMON}": Status.PASS,
        f"dltv {DVB_FEMON} adapter0": Status.FAIL,
    }
    assert results[f"dltv {DVB_FEMON} adapter0"].evidence == (
        "dvb-fe-tool not installed (Debian package dvb-tools)")
    assert "channels down: 2 (newest segment is 6" in results[f"dltv {HLS} {web.url}/dltv"].evidence

    values = {(r.body["name"], r.body["labels"]["source"], r.body["labels"]["receiver"],
               r.body["labels"].get("channel", "")): r.body["value"]
              for r in run.records if r.kind is Kind.SAMPLE}
    tvh, hls, femon = web.url, f"{web.url}/dltv", str(FEMON)
    assert values[(DLTV_UP.name, TVHEADEND, tvh, "")] == 1.0
    assert values[(DLTV_LOCKED.name, TVHEADEND, tvh, "")] == 1.0
    assert values[(DLTV_STREAM.name, TVHEADEND, tvh, "1")] == 1.0
    assert values[(DLTV_STREAM.name, HLS, hls, "1")] == 1.0
    assert values[(DLTV_STREAM.name, HLS, hls, "2")] == 0.0
    assert values[(DLTV_SNR.name, DVB_FEMON, femon, "")] == 12.3
    assert values[(DLTV_UP.name, DVB_FEMON, femon, "")] == 1.0
    assert values[(DLTV_UP.name, DVB_FEMON, "adapter0", "")] == 0.0
    assert {r.body["labels"]["vantage"] for r in run.records if r.kind is Kind.SAMPLE} == {
        "agent"}
