"""`/study resources`: the study links, for all areas or one."""

from __future__ import annotations

from collections.abc import Mapping

from bot.context import Ctx
from bot.errors import UserError
from bot.registry import SLASH, Audience, Kind, Param, command
from bot.seam import Block, Context, Heading, Paragraph, Reply, Span, bold, code, link, text


@command(
    "resources",
    summary="Study links, for all areas or one",
    audience=Audience.ANYONE,
    params=(Param("area", Kind.WORD, "a study area, e.g. mlflow"),),
)
def resources(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    c = ctx.content
    area_id = (args.get("area") or "").lower()
    items = list(c.resources)
    title = "Study resources"
    if area_id:
        area = c.area(area_id)
        if area is None:
            known = ", ".join(a.id for a in c.areas)
            raise UserError(f"Unknown study area {area_id!r}. Use one of: {known}.")
        items = [r for r in items if area.id in r.areas]
        title += f" · {area.name}"
    blocks: list[Block] = [Heading(title)]
    kinds = {
        "docs": "Official documentation",
        "mlflow": "MLflow documentation",
        "academy": "Databricks Academy",
        "community": "Community forums",
        "practice": "Practice-question threads",
    }
    for kind, label in kinds.items():
        chosen = [r for r in items if r.kind == kind]
        if not chosen:
            continue
        lines: list[Span] = [bold(label)]
        for r in chosen:
            lines += [Span("\n• "), link(r.title, r.url)]
            if r.note:
                lines.append(Span(f" — {r.note}"))
        blocks.append(Paragraph(tuple(lines)))
    if not area_id:
        blocks.append(
            Context(
                text(
                    "Areas: " + ", ".join(a.id for a in c.areas) + ". ",
                    code(f"{SLASH} resources mlflow"),
                    " narrows the list.",
                )
            )
        )
    return Reply.of(*blocks)
