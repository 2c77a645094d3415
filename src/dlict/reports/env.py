"""The one Jinja2 environment every report page is rendered with.

Every value in a report can come from someone other than the operator: a school's name in the
inventory, a device's configuration, a log line any host on the network can send. So the
environment escapes every value in every template, whatever the template's name (the shipped
templates are ``*.html.j2``, which ``select_autoescape()`` does not recognise).

Templates take their words from ``dlict.i18n`` through the ``t`` global:
``{{ t("audit.title") }}``, ``{{ t("survey.ignored_unknown", site=site) }}``. Every environment
has the date filters of official documents: ``long_date`` (a date: ``2 ธันวาคม พ.ศ. 2569``,
ISO in English) and ``moment`` (a UTC datetime shown in Bangkok time, B.E. year in Thai).
Printed documents extend ``document.html.j2`` and sign with ``_signature.html.j2``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader

from dlict.core.clock import format_local
from dlict.i18n import date_text, text


def report_environment(lang: str, **filters: Callable[..., Any]) -> Environment:
    """A fresh environment over the package's templates, autoescaping, with ``filters`` added
    and the catalogue's words in ``lang`` as ``t(key, **fields)``.

    Arguments:
        lang: ``th`` or ``en``; also the ``lang`` global (the page's ``<html lang>``).
        filters: name → function, e.g. ``day=lambda iso: ...``.
    """
    env = Environment(loader=PackageLoader("dlict.reports"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["long_date"] = lambda day: date_text(day, lang, era=True)
    env.filters["moment"] = lambda when: format_local(when, lang)
    env.filters.update(filters)
    env.globals["lang"] = lang
    env.globals["t"] = lambda key, **fields: text(key, lang, **fields)
    return env
