"""`monitor survey link | list | revoke`: survey links residents answer at /encuesta/{code} (see gis/surveys.py)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import typer

app = typer.Typer(help="Public satisfaction surveys: links with a short code, a form URL and a QR code",
                  no_args_is_help=True)


def _url() -> str:
    from gis.cluster import database_url

    return database_url()


def _echo(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@app.command("link")
def link(
    instance: int = typer.Option(..., "--instance", min=1, help="the instance the survey is about (published)"),
    activity: int = typer.Option(None, "--activity", min=1, help="one of its activities, when it is about one"),
    days: int = typer.Option(30, "--days", min=1, max=366, help="days the link takes answers"),
) -> None:
    """Make a survey link and print the form's full URL (base: MONITOR_PUBLIC_URL, else http://127.0.0.1:8000).

    The code, its expiry and the QR code's address go to standard error; standard output is the URL alone."""
    from gis import surveys
    from gis.db import connect

    try:
        with connect(_url(), actor="cli:survey") as conn:
            made = surveys.create_link(conn, instance, activity, days)
    except (surveys.SurveyError, surveys.NotFound) as exc:
        raise typer.BadParameter(str(exc)) from None
    document = surveys.public_link(made, surveys.public_base())
    until = document["expires_at"].astimezone(ZoneInfo(surveys.CITY_TZ))
    typer.echo(f"survey {document['code']} about {document['instance_name']!r}, open until "
               f"{until:%Y-%m-%d %H:%M} (Rosario); QR code: {document['qr']}", err=True)
    typer.echo(document["url"])


@app.command("list")
def list_links(instance: int = typer.Option(None, "--instance", min=1, help="only this instance's links")) -> None:
    """List survey links, newest first, with their status and how many answers came through each (JSON lines)."""
    from gis import surveys
    from gis.db import connect

    base = surveys.public_base()
    with connect(_url()) as conn:
        for row in surveys.list_links(conn, instance):
            _echo(surveys.public_link(row, base))


@app.command("revoke")
def revoke(code: str = typer.Argument(..., help="the link's code (the end of its URL)")) -> None:
    """Close a survey link now: the form then answers that the survey is closed (410)."""
    from gis import surveys
    from gis.db import connect

    with connect(_url(), actor="cli:survey") as conn:
        if not surveys.revoke_link(conn, code):
            raise typer.BadParameter(f"no open survey link {code!r}")
    typer.echo(f"survey link {code} revoked")
