"""A small client for the Prometheus HTTP API: the range queries and label values reports need.

Only what a report reads: ``/api/v1/query_range`` (one series a result, as ``(labels,
[(timestamp, value), ...])``) and ``/api/v1/label/<name>/values``. Basic authentication comes
from ``DLICT_PROMETHEUS_USER`` / ``DLICT_PROMETHEUS_PASSWORD``; the password is registered as a
secret so it never reaches a log line, and credentials written into the URL are refused.
"""

from __future__ import annotations

import base64
import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from loguru import logger

from dlict.core.errors import InputError, OperationalError
from dlict.core.logging import register_secret

DEFAULT_URL = "http://127.0.0.1:9090"
DEFAULT_TIMEOUT_S = 60.0
USER_ENV = "DLICT_PROMETHEUS_USER"
PASSWORD_ENV = "DLICT_PROMETHEUS_PASSWORD"  # noqa: S105 - the variable's name, not a password
# Prometheus refuses a range query that would give a series more than 11,000 points.
MAX_POINTS = 11_000
# Aim a little below the limit: start and end are aligned to the step, which adds a point.
TARGET_POINTS = 10_000
MIN_STEP_S = 300

Point = tuple[float, float]


class Series(NamedTuple):
    """One series of a range query: its labels (``__name__`` included when Prometheus gives it)
    and its points, oldest first."""

    labels: dict[str, str]
    points: list[Point]


def choose_step(span_s: float, min_step_s: int = MIN_STEP_S) -> int:
    """The step (whole seconds) for a range of ``span_s``: at least ``min_step_s``, and coarse
    enough that no series exceeds Prometheus's 11,000 points."""
    if span_s <= 0:
        return min_step_s
    return max(min_step_s, math.ceil(span_s / TARGET_POINTS))


def check_url(url: str) -> str:
    """The base URL without a trailing slash.

    Raises:
        InputError: not an http(s) URL with a host, or with credentials, a query or a fragment.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # a port out of range or not a number raises here
    except ValueError as exc:
        raise InputError(f"--prometheus {url!r}: not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--prometheus {url!r}: expected http://HOST:PORT or https://HOST:PORT")
    if parts.username is not None or parts.password is not None:
        raise InputError(f"--prometheus: do not put credentials in the URL; set {USER_ENV} and "
                         f"{PASSWORD_ENV} instead")
    if parts.query or parts.fragment:
        raise InputError(f"--prometheus {url!r}: the URL must not have a query or fragment")
    return url.rstrip("/")


class PrometheusClient:
    """Reads from one Prometheus server; every failure is an :class:`OperationalError`."""

    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 user: str | None = None, password: str | None = None) -> None:
        self.url = check_url(url)
        self.timeout_s = timeout_s
        self._authorization: str | None = None
        if user or password:
            register_secret(password)
            token = base64.b64encode(f"{user or ''}:{password or ''}".encode()).decode("ascii")
            register_secret(token)
            self._authorization = f"Basic {token}"

    @classmethod
    def from_env(cls, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 environ: Mapping[str, str] | None = None) -> PrometheusClient:
        """A client with basic authentication from ``DLICT_PROMETHEUS_USER``/``_PASSWORD``."""
        env = os.environ if environ is None else environ
        return cls(url, timeout_s=timeout_s, user=env.get(USER_ENV) or None,
                   password=env.get(PASSWORD_ENV) or None)

    def query_range(self, query: str, start: float, end: float, step: int) -> list[Series]:
        """Evaluate ``query`` every ``step`` seconds from ``start`` to ``end`` (Unix time).

        Raises:
            OperationalError: unreachable, refused, or an answer that is not a matrix.
        """
        points = math.floor((end - start) / step) + 1 if end >= start else 0
        if points > MAX_POINTS:
            raise ValueError(f"step {step}s gives {points} points a series (limit {MAX_POINTS})")
        data = self._get("/api/v1/query_range",
                         {"query": query, "start": _ts(start), "end": _ts(end),
                          "step": str(step)})
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            raise self._malformed("query_range did not return a matrix")
        result: list[Series] = []
        for item in data.get("result") or []:
            try:
                labels = {str(k): str(v) for k, v in item["metric"].items()}
                values = [(float(ts), float(value)) for ts, value in item["values"]]
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise self._malformed(f"unreadable series in query_range ({exc})") from exc
            result.append(Series(labels, values))
        return result

    def label_values(self, label: str, match: Sequence[str], start: float, end: float
                     ) -> list[str]:
        """The values ``label`` takes in series matching any of ``match`` between the times."""
        params: list[tuple[str, str]] = [("match[]", m) for m in match]
        params += [("start", _ts(start)), ("end", _ts(end))]
        data = self._get(f"/api/v1/label/{urllib.parse.quote(label, safe='')}/values", params)
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise self._malformed("label values are not a list of strings")
        return sorted(data)

    def _get(self, path: str, params: Mapping[str, str] | Sequence[tuple[str, str]]) -> Any:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        if self._authorization is not None:
            request.add_unredirected_header("Authorization", self._authorization)
        logger.debug("GET {}{}", self.url, path)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from exc
        except urllib.error.URLError as exc:
            raise OperationalError(
                f"Prometheus at {self.url} cannot be reached: {_reason(exc.reason)}") from exc
        except TimeoutError as exc:
            raise OperationalError(f"Prometheus at {self.url} did not answer within "
                                   f"{self.timeout_s:g} s") from exc
        except OSError as exc:
            raise OperationalError(
                f"Prometheus at {self.url} cannot be reached: {_reason(exc)}") from exc
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise self._malformed("the answer is not JSON") from exc
        if not isinstance(answer, dict) or answer.get("status") != "success":
            error = answer.get("error") if isinstance(answer, dict) else None
            raise self._malformed(f"status is not success ({error or 'no error given'})")
        return answer.get("data")

    def _http_error(self, exc: urllib.error.HTTPError) -> OperationalError:
        if exc.code in (401, 403):
            hint = (f"set {USER_ENV} and {PASSWORD_ENV}" if self._authorization is None
                    else f"check {USER_ENV} and {PASSWORD_ENV}")
            return OperationalError(
                f"Prometheus at {self.url} refused access (HTTP {exc.code}): {hint}")
        detail = ""
        try:
            payload = json.loads(exc.read() or b"{}")
            if isinstance(payload, dict) and payload.get("error"):
                detail = f": {payload['error']}"
        except (ValueError, OSError):
            pass
        return OperationalError(f"Prometheus at {self.url} answered HTTP {exc.code}{detail}")

    def _malformed(self, what: str) -> OperationalError:
        return OperationalError(f"Prometheus at {self.url} gave an unexpected answer: {what}")


def _ts(moment: float) -> str:
    return f"{moment:.3f}"


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason)
