"""`studybot slack ...`: tools for setting up the Slack app."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.slack.manifest import manifest_yaml, write

slack_app = typer.Typer(rich_markup_mode=None, help="Slack adapter tools.", no_args_is_help=True)


@slack_app.command("manifest")
def manifest_command(
    url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="public base URL for HTTP mode, e.g. https://study.example.com "
            "(default: a Socket Mode manifest)",
        ),
    ] = None,
    write_file: Annotated[
        bool, typer.Option("--write", help="regenerate adapters/slack/manifest.yaml")
    ] = False,
) -> None:
    """Print the app manifest generated from the command table."""
    if write_file:
        typer.echo(f"wrote {write()}")
        return
    typer.echo(manifest_yaml(url), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(slack_app, name="slack")
