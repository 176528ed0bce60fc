"""Dashboard for the coordinator: cases per stage, work per organisation, lead times per stage,
cases open past 6 and 9 months, and a heatmap of where cases wait on the newest diagram."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from api.extensions import db
from api.web.errors import page_blueprint
from api.web.guards import page_actor, requires
from engine import catalog
from engine.clock import utcnow
from engine.dashboard import overview as dashboard_overview
from engine.dashboard import waiting_per_element
from engine.lead_times import lead_time_report
from engine.models import Role

bp = page_blueprint("web_dashboard", "/dashboard")


@bp.get("")
@requires(Role.COORDINATOR)
def dashboard() -> Any:
    actor = page_actor()
    now = utcnow()
    overview = dashboard_overview(db.session, actor, now=now)
    report = lead_time_report(db.session, now=now)
    newest = {v.process_key: v for v in catalog.list_versions(db.session)}  # ordered by version: last wins
    chosen = request.args.get("proces", "")
    version = newest.get(chosen) or next(iter(newest.values()), None)
    heatmap = None
    if version is not None:
        waiting = waiting_per_element(db.session, actor, version.process_key)
        heatmap = {"xml": version.bpmn_xml, "counts": waiting}
    names = _element_names(version.human_tasks if version else [])
    return render_template(
        "web/dashboard.html", overview=overview, report=report, now=now, processes=list(newest.values()),
        version=version, heatmap=heatmap, element_names=names,
        longest_stage_days=max((s.p80_days or s.median_days or 0 for s in report.stages), default=0),
        most_open=max((count for _, count in overview.per_stage), default=0),
    )


def _element_names(human_tasks: list[dict[str, Any]]) -> dict[str, str]:
    # The task summaries stored with a version carry each user task's element id and title.
    return {str(t["spec_name"]): str(t["title"]) for t in human_tasks if t.get("spec_name")}
