"""Filled application forms for the tests, written with openpyxl and python-docx directly:
the template's rows (dialogs/form_files.layout) with the cells of a filled form put in."""

from __future__ import annotations

import copy
from pathlib import Path

import docx
import openpyxl

from dialogs.form_files import layout

NAME = "示例市示例县精密机械产业"
PLAN = "\n".join([
    "一、集群基本情况简介", "集群以精密机械为主导产业，近三年产值稳步增长。",
    "二、发展成效", "集群创新活力持续增强，数字化和绿色化水平提高。",
    "三、存在的问题", "高端人才不足。",
    "四、未来三年中小企业特色产业集群发展规划",
    "（一）总体思路", "围绕主导产业强链补链。",
    "（二）发展目标", "1.三年总体目标 见下表。 2.阶段性目标 2024年度、2025年度、2026年度逐年推进。",
    "五、重点任务", "培育优质中小企业。",
    "六、保障措施", "完善政策支持。",
])


def ticked(options: list[str], chosen: list[int]) -> str:
    return "\n".join(("☑" if i in chosen else "□") + o for i, o in enumerate(options))


def _options(field_id: str) -> list[str]:
    from engine.form import load_form
    return [o.text for o in load_form().field(field_id).options]


def passing() -> dict:
    """Field id → cells of a form that passes every check (figures of tests/data/eligible.json
    moved to the form's years 2021-2023)."""
    return {
        "cluster_name": [NAME], "county_department": ["示例县工业和信息化局"],
        "department_contact": ["张三"], "department_phone": ["0510-12345678"],
        "operator": ["示例县高新技术产业开发区管委会"], "operator_contact": ["李四"],
        "operator_phone": ["0510-87654321"], "area": [80],
        "energy_efficiency": [ticked(_options("energy_efficiency"), [2])],
        "water_efficiency": [ticked(_options("water_efficiency"), [0])],
        "priority_chain": [ticked(_options("priority_chain"), [0])],
        "total_output": [45.0, 48.2, 52.9], "sme_output_share": [80.5, 81.0, 82.3],
        "leading_output_share": [75.0, 76.2, 77.1], "leading_growth": [11.0, 12.0, 13.0],
        "leading_growth_average": [12.0],
        "enterprises": [300, 320, 350], "smes": [290, 310, 338], "srdi_smes": [15, 18, 20],
        "little_giants": [2, 3, 3], "champions": [1, 1, 1], "hitech": [25, 28, 30],
        "innovative_smes": [8, 9, 10], "fdi_growth": [5.0, 6.0, 7.0], "export_growth": [8.0, 9.0, 10.0],
        "chain_work": [ticked(_options("chain_work"), [0, 1, 2, 4])],
        "resource_sharing": [ticked(_options("resource_sharing"), [0, 1])],
        "honours_national": ["无"], "honours_provincial": ["省级特色产业集群培育对象"], "honours_city": ["无"],
        "quality_brand": [ticked(_options("quality_brand"), [0])],
        "rd_intensity": [3.1, 3.2, 3.4], "rd_growth": [11.0, 12.0, 13.0],
        "std_intl_lead": [0, 0, 0], "std_intl_join": [0, 0, 0],
        "std_national_lead": [1, 0, 1], "std_national_join": [0, 0, 0],
        "std_industry_lead": [0, 0, 0], "std_industry_join": [1, 1, 0],
        "std_group_lead": [0, 1, 0], "std_group_join": [0, 0, 0],
        "platforms_national": ["数量：2个\n名称：国家精密机械创新中心、国家工业设计中心"],
        "platforms_provincial": ["数量：4个\n名称：省工程技术研究中心、省企业技术中心、省工业设计中心、省重点实验室"],
        "platforms_other": ["数量：0个\n名称：无"],
        "sme_employees": [50000], "rd_staff_share": [12.5], "pct": [20], "patent_growth": [16.0],
        "patents_per_10k": [180.0], "invention_patents": [900],
        "cloud_rate": [40.0], "identifier_rate": [30.0], "iip_rate": [25.0],
        "software_purchase": [100.0, 120.0, 150.0],
        "digital_services": [ticked(_options("digital_services"), [0, 1])],
        "pilot_projects": ["数量：2个\n名称：智能工厂示范、工业互联网标杆"],
        "new_models": [ticked(_options("new_models"), [1])],
        "co2_monitoring": [ticked(_options("co2_monitoring"), [0])],
        "co2_intensity": [1.20, 1.10, 1.00], "co2_reduction": [16.67], "energy_reduction": [10.0],
        "solid_waste_use": [90.0], "solid_waste_above": [ticked(_options("solid_waste_above"), [0])],
        "water_reuse": [85.0], "water_reuse_above": [ticked(_options("water_reuse_above"), [0])],
        "green_work": [ticked(_options("green_work"), [0, 1])],
        "green_factories": [3], "green_parks": [1], "green_supply_chains": [2], "green_products": [5],
        "intl_work": [ticked(_options("intl_work"), [0, 3])], "overseas_branches": [2],
        "environment_work": [ticked(_options("environment_work"), [0, 1])],
        "service_platforms": [ticked(_options("service_platforms"), [1])],
        "services": [ticked(_options("services"), [0, 2, 3])],
        "plan_text": [PLAN],
        "target_output_growth": [12.5, 12.0], "target_quality_smes": [63, 90], "target_rd": [5.0, 6.8],
        "target_patents": [900, 1400], "target_iip": [25.0, 45.0], "target_co2": [1.00, 0.82],
        "target_energy": [0.50, 0.43], "target_open": ["无", "拓展东盟市场"], "target_governance": ["无", "完善公共服务"],
        "stages_quality_smes": [70, 80, 90],
        "declaration_signed": ["王五"], "declaration_sealed": ["已盖章"], "declaration_date": ["2024年3月15日"],
        "promise_issuer": ["示例市工业和信息化局"], "promise_sealed": ["已盖章"], "promise_date": ["2024年3月15日"],
    }


def rows_of(values: dict, drop_rows: tuple = ()) -> list[tuple[str, list[list]]]:
    """The template's sections with the given cells put after each field's label."""
    lay = layout(name=NAME)
    out = []
    for title, rows in lay.sections:
        cells = []
        for field_id, row in rows:
            if field_id in drop_rows:
                continue
            row = copy.copy(row)
            if field_id in values:
                start = 2 if field_id.startswith(("target_", "stages_")) else 1
                given = values[field_id]
                row[start:start + len(given)] = given
            cells.append(row)
        out.append((title, cells))
    return out


# The same form is written again and again by a test process (a third of the workbooks and
# half of the documents, whose writing was several seconds of the suite): each kept as bytes.
_WRITTEN: dict[str, bytes] = {}


def _written(write, path: Path, values: dict, kw: dict) -> Path:
    key = repr((write.__name__, values, sorted(kw.items())))
    content = _WRITTEN.get(key)
    if content is None:
        write(path, values, **kw)
        _WRITTEN[key] = path.read_bytes()
    else:
        path.write_bytes(content)
    return path


def write_xlsx(path: Path, values: dict, **kw) -> Path:
    return _written(_write_xlsx, path, values, kw)


def write_docx(path: Path, values: dict, **kw) -> Path:
    return _written(_write_docx, path, values, kw)


def _write_xlsx(path: Path, values: dict, **kw) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in rows_of(values, **kw):
        sheet = book.create_sheet(title[:31])
        for row in rows:
            sheet.append(row)
    book.save(path)


def _write_docx(path: Path, values: dict, **kw) -> None:
    document = docx.Document()
    for title, rows in rows_of(values, **kw):
        document.add_heading(title, level=1)
        table = document.add_table(rows=0, cols=max(len(r) for r in rows[1:]))
        for row in rows[1:]:
            for cell, value in zip(table.add_row().cells, row):
                cell.text = "" if value is None else str(value)
    document.save(path)
