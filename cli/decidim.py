"""`monitor import …` (a file, or a Decidim platform) and `monitor sync` (every source in monitor.toml [sync]).

`monitor import FILE` keeps working as before: the group below treats a first argument that is not one of its
sub-commands as a file and hands it to `monitor import file`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from typer.core import TyperGroup


class ImportGroup(TyperGroup):
    """`monitor import FILE [--layer …]` is `monitor import file FILE [--layer …]`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


import_app = typer.Typer(cls=ImportGroup, no_args_is_help=True,
                         help="Import records: a file (GeoJSON, CSV, GeoPackage) or a Decidim platform "
                              "(its API or its open-data ZIP)")


def _url() -> str:
    from gis.cluster import database_url

    return database_url()


def _platform(base_url: str | None, key: str | None, name: str | None, locale: str):
    from gis.decidim.mapping import Platform

    default = Platform()
    return Platform(key=key or default.key, name=name or default.name, base_url=base_url or default.base_url,
                    locale=locale)


def _show(report, where: str) -> None:
    """The report as JSON on stdout; unplaced meetings, conflicts and refusals also as lines on stderr."""
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
    for item in report.unplaced:
        typer.echo(f"{where}: unplaced meeting {item['external_id']} «{item['title']}»: {item['reason']}"
                   + (f" (address: {item['address']})" if item.get("address") else ""), err=True)
    for item in report.conflicts:
        typer.echo(f"{where}: conflict on {item['table']} {item['id']} ({item['external_id']}): edited here "
                   f"({', '.join(item['edited_here']) or 'newer version'}; by {', '.join(item['edited_by']) or '?'}) "
                   f"and changed upstream ({', '.join(item['upstream_changed'])}): the local version is kept",
                   err=True)
    for item in report.refused:
        typer.echo(f"{where}: refused {item['external_id']} {item['label']}: {item['reason']}", err=True)
    if report.dry_run:
        typer.echo(f"{where}: dry run: nothing was written", err=True)


@import_app.command("decidim")
def import_decidim(
    url: str = typer.Option(..., "--url", help="the platform's GraphQL API, e.g. https://participa.rosario.gob.ar/api"),
    locale: str = typer.Option("es", help="the language to read; other ones fill in missing translations"),
    since: datetime = typer.Option(None, formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
                                   help="leave known records changed upstream before this date unchecked"),
    dry_run: bool = typer.Option(False, "--dry-run", help="read and compare, write nothing"),
    platform_key: str = typer.Option(None, help="key in external ids: decidim:<key>:process:12 (default rosario)"),
    platform_name: str = typer.Option(None, help="the records' source (default Rosario Participa)"),
    overwrite_local: bool = typer.Option(False, "--overwrite-local", help="upstream wins over edits made here"),
    page_size: int = typer.Option(50, min=1, max=50, help="items per page (Decidim allows at most 50)"),
    min_interval: float = typer.Option(0.5, min=0.0, help="seconds between two requests"),
) -> None:
    """Import a Decidim platform through its API: processes and assemblies become instances, meetings
    activities, accountability results commitments (docs/import.md, "Decidim"). Running it again changes only
    what changed upstream."""
    from gis.decidim.client import DecidimError
    from gis.decidim.sync import SyncError, from_api

    base = url.rstrip("/").removesuffix("/api")
    platform = _platform(base, platform_key, platform_name, locale)
    if since is not None and since.tzinfo is None:
        from zoneinfo import ZoneInfo

        since = since.replace(tzinfo=ZoneInfo("America/Argentina/Cordoba"))
    try:
        report = from_api(_url(), url, platform, since=since, dry_run=dry_run, overwrite_local=overwrite_local,
                          page_size=page_size, min_interval=min_interval)
    except (DecidimError, SyncError) as exc:
        typer.echo(f"{url}: {exc}", err=True)
        typer.echo("nothing imported", err=True)
        raise typer.Exit(1) from None
    _show(report, url)


@import_app.command("decidim-open-data")
def import_decidim_open_data(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="the ZIP from /open-data/download"),
    base_url: str = typer.Option(None, help="the platform's address (default https://participa.rosario.gob.ar)"),
    locale: str = typer.Option("es", help="the language to read; other ones fill in missing translations"),
    dry_run: bool = typer.Option(False, "--dry-run", help="read and compare, write nothing"),
    platform_key: str = typer.Option(None, help="key in external ids (default rosario)"),
    platform_name: str = typer.Option(None, help="the records' source (default Rosario Participa)"),
    overwrite_local: bool = typer.Option(False, "--overwrite-local", help="upstream wins over edits made here"),
) -> None:
    """Import a Decidim open-data ZIP: the same mapping and the same keys as the API."""
    from gis.decidim.opendata import OpenDataError
    from gis.decidim.sync import SyncError, from_open_data

    platform = _platform(base_url, platform_key, platform_name, locale)
    try:
        report = from_open_data(_url(), path, platform, dry_run=dry_run, overwrite_local=overwrite_local)
    except (OpenDataError, SyncError) as exc:
        typer.echo(str(exc), err=True)
        typer.echo("nothing imported", err=True)
        raise typer.Exit(1) from None
    _show(report, path.name)


def sync_command(
    config: Path = typer.Option(None, exists=True, dir_okay=False, help="default: monitor.toml beside the checkout"),
    dry_run: bool = typer.Option(False, "--dry-run", help="read and compare, write nothing"),
) -> None:
    """Sync every source named in the sync section of monitor.toml (decidim_url, files): for cron or a systemd
    timer (docs/import.md, "Decidim")."""
    from gis.decidim.sync import SyncError, load_config, sync_all

    try:
        results = sync_all(_url(), load_config(config), dry_run=dry_run)
    except SyncError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    failed = False
    for name, result in results:
        if isinstance(result, str):
            failed = True
            typer.echo(f"{name}: {result}", err=True)
        else:
            _show(result, name)
    if failed:
        raise typer.Exit(1)
