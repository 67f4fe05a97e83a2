"""The programme page's notice while its counters are being rebuilt."""

from typing import Any

from django import template

from cohorte.activity.counters import counters_rebuild_pending

register = template.Library()


@register.inclusion_tag("activity/_recompute_banner.html", takes_context=True)
def recompute_banner(context: dict[str, Any], program: Any) -> dict[str, Any]:
    """« Recalcul des compteurs en cours… 45 % » above the table, polled until the rebuild
    is done; the counters below it are greyed meanwhile (they are those of before)."""
    request = context.get("request")
    return {
        "program": program,
        "job": counters_rebuild_pending(program),
        "query": request.GET.urlencode() if request is not None else "",
    }
