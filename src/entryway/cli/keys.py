"""`entryway keys list|rotate`: the environment's OIDC signing keys and their rotation."""

from __future__ import annotations

import click

from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show, show_list
from entryway.keys import rotation


@click.group("keys")
def keys_group() -> None:
    """Signing keys: a new key is published first, signs after a grace period, and stays published after."""


def _state(state: rotation.KeyState) -> dict[str, object]:
    return {
        "kid": state.kid,
        "status": state.status,
        "create_time": state.create_time.isoformat(),
        "activate_time": state.activate_time.isoformat() if state.activate_time else None,
        "retire_time": state.retire_time.isoformat() if state.retire_time else None,
        "published_until": state.published_until.isoformat() if state.published_until else None,
    }


@keys_group.command("list")
@env_option
@json_option
@click.pass_obj
def list_keys(obj: CliContext, env_id: str | None, as_json: bool) -> None:
    """List the OIDC signing keys: next (published, not signing yet), active, retired (published until)."""
    rt = obj.runtime()
    env = obj.environment(env_id)
    with writing(rt) as conn:
        items = [_state(s) for s in rotation.key_states(rt, conn, env.id)]
    show_list(
        items,
        as_json,
        "keys",
        ["kid", "status", "signs from", "retires", "published until"],
        ["kid", "status", "activate_time", "retire_time", "published_until"],
    )


@keys_group.command("rotate")
@click.option(
    "--grace",
    type=int,
    default=rotation.DEFAULT_GRACE_SECONDS,
    show_default=True,
    help=f"Seconds between publishing the new key and signing with it (at least {rotation.MIN_GRACE_SECONDS}).",
)
@env_option
@json_option
@click.pass_obj
def rotate_keys(obj: CliContext, grace: int, env_id: str | None, as_json: bool) -> None:
    """Publish a new signing key now; sign with it after the grace period."""
    rt = obj.runtime()
    env = obj.environment(env_id)
    with writing(rt) as conn:
        done = rotation.rotate(rt, conn, env.id, grace)
    show(
        {
            "kid": done.new_kid,
            "signs_from": done.signs_from.isoformat(),
            "replaces": ", ".join(done.replaced),
            "replaced_published_until": done.replaced_published_until.isoformat(),
        },
        as_json,
    )
