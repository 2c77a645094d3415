"""The one Jinja2 environment every report page is rendered with.

Every value in a report can come from someone other than the operator: a school's name in the
inventory, a device's configuration, a log line any host on the network can send. So the
environment escapes every value in every template, whatever the template's name (the shipped
templates are ``*.html.j2``, which ``select_autoescape()`` does not recognise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader


def report_environment(**filters: Callable[..., Any]) -> Environment:
    """A fresh environment over the package's templates, autoescaping, with ``filters`` added.

    Arguments:
        filters: name → function, e.g. ``day=lambda iso: ...``.
    """
    env = Environment(loader=PackageLoader("dlict.reports"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(filters)
    return env
