"""The control catalog as Markdown (docs/controls.md is generated from it and kept in step)."""

from __future__ import annotations

from dlict.controls.model import Catalog, load_catalog

AREA_TITLES = {
    "firewall": "5.5.1 Firewall — ไฟร์วอลล์",
    "antivirus": "5.5.2 Antivirus — แอนติไวรัส",
    "endpoint": "5.5.3 Endpoint security — ความปลอดภัยเครื่องปลายทาง",
    "identity": "5.5.4 Identity and access control — การพิสูจน์ตัวตนและควบคุมการเข้าถึง",
    "logging": "5.5.5 Log retention — การเก็บรักษาข้อมูลจราจรทางคอมพิวเตอร์",
}


def catalog_markdown(catalog: Catalog | None = None) -> str:
    """Every control with its titles, rationale, legal reference, check and fix."""
    catalog = catalog or load_catalog()
    lines = [
        "# Control catalog / ทะเบียนมาตรการ",
        "",
        "Generated from `src/dlict/controls/catalog/*.yml` by "
        "`python -m dlict.controls.reference > docs/controls.md`; a test keeps them equal.",
        "",
    ]
    for area in catalog.areas:
        lines += [f"## {AREA_TITLES.get(area, area)}", ""]
        for control in (c for c in catalog.controls if c.area == area):
            lines += [
                f"### {control.id} — {control.title_en}",
                "",
                f"{control.title_th}",
                "",
                f"- SOP clause: {control.sop_clause}; severity: {control.severity.value}; "
                f"platforms: {', '.join(control.platforms)}; "
                f"checked by: {control.checked_by.value}",
            ]
            if control.legal_reference:
                lines.append(f"- Legal reference: {control.legal_reference}")
            lines += [
                f"- Why: {control.rationale}",
                f"- Checked: {control.check}",
                f"- Fixed: {control.fix}",
                "",
            ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(catalog_markdown(), end="")
