"""`entryway branding show|set|preview`: an environment's branding, or an organization's overrides (--org)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click

from entryway.api import branding_views as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext, emit_json
from entryway.cli.options import env_option, json_option
from entryway.model.branding_input import BrandingChange, check_branding_change
from entryway.model.colors import contrast_warnings
from entryway.services import branding_updates as updates
from entryway.services.branding import load_branding
from entryway.services.organizations import get_organization
from entryway.web.branding_preview import preview_page

org_override = click.option("--org", "org_id", default=None, metavar="ORG_ID", help="An organization's overrides.")


@click.group("branding")
def branding_group() -> None:
    """Logo, favicon, accent colour and display name of the hosted pages."""


def _given(
    name: str | None, accent: str | None, logo: Path | None, favicon: Path | None, clear: tuple[str, ...]
) -> dict[str, Any]:
    given: dict[str, Any] = {field: None for field in clear}
    if name is not None:
        given["display_name"] = name
    if accent is not None:
        given["accent_color"] = accent
    for field, path in (("logo", logo), ("favicon", favicon)):
        if path is not None:
            given[field] = base64.b64encode(path.read_bytes()).decode("ascii")
    return given


def _change(org_id: str | None, given: dict[str, Any]) -> BrandingChange:
    fields = updates.ORGANIZATION_FIELDS if org_id else updates.ENVIRONMENT_FIELDS
    return check_branding_change(given, allowed=fields)


def _print(data: dict[str, Any], warnings: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json({"branding": data, "warnings": warnings})
        return
    for key in ("display_name", "accent_color"):
        if key in data:
            click.echo(f"{key}: {data[key] or '(default)'}")
    for key in ("logo", "favicon"):
        if key in data:
            image = data[key]
            shown = f"{image['content_type']} {image['size_bytes']:,} bytes {image['url']}" if image else "(default)"
            click.echo(f"{key}: {shown}")
    resolved = data["resolved"]
    click.echo(
        f"pages show: {resolved['display_name']!r}, accent {resolved['accent_color']} "
        f"with {resolved['accent_foreground']} text"
    )
    for warning in warnings:
        click.echo(f"warning: {warning['field']}: {warning['description']}", err=True)


_options = [
    click.option("--name", default=None, help="Display name."),
    click.option("--accent", default=None, metavar="#RRGGBB", help="Accent colour (environment only)."),
    click.option("--logo", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None),
    click.option(
        "--favicon",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="PNG, SVG or ICO (environment only).",
    ),
]


def _with_change_options(command: Any) -> Any:
    for option in reversed(_options):
        command = option(command)
    return command


@branding_group.command("show")
@org_override
@env_option
@json_option
@click.pass_obj
def show(obj: CliContext, org_id: str | None, env_id: str | None, as_json: bool) -> None:
    """Show what is set, and what the pages show."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        if org_id:
            get_organization(conn, env.id, org_id)
            data = view.organization_branding(
                env.url,
                org_id,
                updates.get_organization_branding(conn, env.id, org_id),
                load_branding(conn, env.id, org_id),
            )
        else:
            data = view.environment_branding(
                env.url, updates.get_environment_branding(conn, env.id), load_branding(conn, env.id)
            )
    _print(data, view.warnings(contrast_warnings(data["resolved"]["accent_color"])), as_json)


@branding_group.command("set")
@_with_change_options
@click.option(
    "--clear",
    multiple=True,
    type=click.Choice(["display_name", "accent_color", "logo", "favicon"]),
    help="Back to the default (repeatable).",
)
@org_override
@env_option
@json_option
@click.pass_obj
def set_branding(
    obj: CliContext,
    name: str | None,
    accent: str | None,
    logo: Path | None,
    favicon: Path | None,
    clear: tuple[str, ...],
    org_id: str | None,
    env_id: str | None,
    as_json: bool,
) -> None:
    """Change the branding; every value is checked first, and nothing is saved if one is wrong."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    change = _change(org_id, _given(name, accent, logo, favicon, clear))
    with writing(rt) as conn:
        if org_id:
            get_organization(conn, env.id, org_id)
            stored = updates.update_organization_branding(rt, conn, env.id, org_id, change)
            data = view.organization_branding(env.url, org_id, stored, load_branding(conn, env.id, org_id))
        else:
            stored = updates.update_environment_branding(rt, conn, env.id, change)
            data = view.environment_branding(env.url, stored, load_branding(conn, env.id))
    _print(data, view.warnings(contrast_warnings(data["resolved"]["accent_color"])), as_json)


@branding_group.command("preview")
@_with_change_options
@click.option("--page", type=click.Choice(["sample", "error", "signed_out"]), default="sample", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The HTML file to write.")
@org_override
@env_option
@click.pass_obj
def preview(
    obj: CliContext,
    name: str | None,
    accent: str | None,
    logo: Path | None,
    favicon: Path | None,
    page: str,
    out: Path,
    org_id: str | None,
    env_id: str | None,
) -> None:
    """Write a hosted page drawn with these (unsaved) values to an HTML file to open in a browser."""
    env = obj.environment(env_id)
    env_given = _given(None if org_id else name, accent, None if org_id else logo, favicon, ())
    org_given = _given(name, None, logo, None, ()) if org_id else {}
    env_change = check_branding_change(env_given, allowed=updates.ENVIRONMENT_FIELDS)
    org_change = check_branding_change(org_given, allowed=updates.ORGANIZATION_FIELDS)
    with obj.runtime().engine.connect() as conn:
        if org_id:
            get_organization(conn, env.id, org_id)
        branding = updates.preview_branding(conn, env.id, env_change, org_id, org_change)
    html = bytes(preview_page(page, branding).body)
    # A file opened from disk has no Entryway origin: stored images are linked absolutely.
    out.write_bytes(html.replace(b'="/branding/', f'="{env.url}/branding/'.encode()))
    click.echo(f"wrote {out}")
    for warning in view.warnings(contrast_warnings(branding.accent_color)):
        click.echo(f"warning: {warning['field']}: {warning['description']}", err=True)
