"""The request as the office's printable A4 form: HTML through the reports' environment, the
same HTML to PDF through ``dlict.reports.pdf``. Only the masked national ID ever reaches it."""

from __future__ import annotations

from datetime import date

from dlict.access.holidays import Calendar
from dlict.access.reminders import local_day, sla_of
from dlict.access.requests import OPEN, AccessRequest
from dlict.i18n import pick
from dlict.inventory.models import AccessSettings, OfficeSettings
from dlict.reports.env import report_environment

TEMPLATE = "access_form.html.j2"


def render_form(request: AccessRequest, *, lang: str, office: OfficeSettings,
                settings: AccessSettings, calendar: Calendar, today: date) -> str:
    """The filled form as a whole HTML page (Thai by default)."""
    env = report_environment(lang)
    systems = [pick(settings.systems[code].name_th, settings.systems[code].name_en, lang)
               if code in settings.systems else code for code in request.systems]
    sla = sla_of(request, calendar, settings, today) if request.status in OPEN else None
    return env.get_template(TEMPLATE).render(
        r=request.as_json(), systems=systems, sla=sla, office=office,
        office_name=pick(office.name_th, office.name_en, lang),
        office_title=pick(office.director_title_th, office.director_title_en, lang),
        received=local_day(request.received_at), expires=request.expires)
