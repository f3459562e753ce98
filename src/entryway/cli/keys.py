"""`entryway keys list|rotate`: the environment's signing keys (OIDC tokens, SAML SP) and their rotation."""

from __future__ import annotations

import time

import click

from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show, show_list
from entryway.config import new_master_key_text
from entryway.connectors.saml.sp_key import connections_relying_on_sp_key
from entryway.keys import master_rotation, rotation
from entryway.keys.sealing import SealError

purpose_option = click.option(
    "--purpose",
    type=click.Choice(rotation.PURPOSES),
    default="oidc",
    show_default=True,
    help="oidc: the key that signs tokens (published at /keys). saml_sp: the SAML SP key that signs "
    "AuthnRequests and LogoutRequests and decrypts assertions (published in every SP metadata).",
)


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
        "retained_until": state.retained_until.isoformat() if state.retained_until else None,
    }


@keys_group.command("list")
@purpose_option
@env_option
@json_option
@click.pass_obj
def list_keys(obj: CliContext, purpose: str, env_id: str | None, as_json: bool) -> None:
    """List the signing keys: next (published, not signing yet), active, retired (published until)."""
    rt = obj.runtime()
    env = obj.environment(env_id)
    with writing(rt) as conn:
        items = [_state(s) for s in rotation.key_states(rt, conn, env.id, purpose)]
    last = "decrypts until" if purpose == "saml_sp" else "published until"
    show_list(
        items,
        as_json,
        "keys",
        ["kid", "status", "signs from", "retires", last],
        ["kid", "status", "activate_time", "retire_time", "retained_until"],
    )


@keys_group.command("rotate")
@click.option(
    "--grace",
    type=int,
    default=None,
    help="Seconds between publishing the new key and signing with it (at least "
    f"{rotation.MIN_GRACE_SECONDS}; default {rotation.DEFAULT_GRACE_BY_PURPOSE['oidc']} for oidc, "
    f"{rotation.DEFAULT_GRACE_BY_PURPOSE['saml_sp']} (7 days) for saml_sp).",
)
@purpose_option
@env_option
@json_option
@click.pass_obj
def rotate_keys(obj: CliContext, grace: int | None, purpose: str, env_id: str | None, as_json: bool) -> None:
    """Publish a new signing key now; sign with it after the grace period."""
    rt = obj.runtime()
    env = obj.environment(env_id)
    with writing(rt) as conn:
        done = rotation.rotate(rt, conn, env.id, grace, purpose)
        relying = connections_relying_on_sp_key(conn, env.id) if purpose == "saml_sp" else []
    result: dict[str, object] = {
        "purpose": purpose,
        "kid": done.new_kid,
        "signs_from": done.signs_from.isoformat(),
        "replaces": ", ".join(done.replaced),
        "replaced_published_until": done.replaced_published_until.isoformat(),
    }
    if purpose == "saml_sp":
        # These IdPs verify the SP's signatures or encrypt to it: each must read the SP metadata again in time.
        result["update_idp_metadata_before_signs_from"] = relying
    show(result, as_json)
    if purpose == "saml_sp" and relying and not as_json:
        click.echo(
            f"Give the IdP of each connection above its SP metadata again before {done.signs_from.isoformat()} "
            "(IdPs that fetch it by URL pick it up by themselves).",
            err=True,
        )


@keys_group.command("new-master")
def new_master() -> None:
    """Print a new random master key (32 bytes, base64) for ENTRYWAY_MASTER_KEY."""
    click.echo(new_master_key_text())


class _ProgressLines:
    """One line per stage as it advances (at most about once a second), and one when it is finished."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if finished or now - self._last.get(stage, 0.0) >= 1.0:
            self._last[stage] = now
            percent = 100 if total == 0 else done * 100 // total
            click.echo(f"{stage}: {done}/{total} ({percent}%)", err=True)


@keys_group.command("rotate-master")
@json_option
@click.pass_obj
def rotate_master(obj: CliContext, as_json: bool) -> None:
    """Re-encrypt every secret at rest under ENTRYWAY_MASTER_KEY, while Entryway keeps serving.

    First give every instance the new key as ENTRYWAY_MASTER_KEY and the old one in
    ENTRYWAY_PREVIOUS_MASTER_KEYS; then run this (resumable: run it again after an interruption); then drop
    ENTRYWAY_PREVIOUS_MASTER_KEYS. See docs/deployment.md.
    """
    rt = obj.runtime()
    try:
        report = master_rotation.rotate_master(rt, _ProgressLines())
    except SealError as exc:
        raise click.ClickException(str(exc)) from exc
    show(
        {
            "master_key_id": report.master_key_id,
            "data_keys_rewrapped": report.rewrapped,
            "data_key": report.data_key + (" (new)" if report.data_key_created else ""),
            "values_resealed": sum(report.resealed.values()),
            "values_already_current": report.already_current,
            "unreadable": len(report.unreadable),
            "data_keys_under_other_masters": report.still_under_other_masters,
        },
        as_json,
    )
    for problem in report.unreadable:
        click.echo(f"unreadable: {problem}", err=True)
    if not report.complete:
        raise click.ClickException("the rotation is not complete: keep ENTRYWAY_PREVIOUS_MASTER_KEYS and run it again")
    if not as_json:
        click.echo("done: nothing depends on a previous master key; remove ENTRYWAY_PREVIOUS_MASTER_KEYS", err=True)


@keys_group.command("master-status")
@json_option
@click.pass_obj
def master_status(obj: CliContext, as_json: bool) -> None:
    """The data keys, which master key wraps each, how many values each has sealed, and the master keys this
    process has."""
    rt = obj.runtime()
    keys = rt.sealer.master_keys
    items = [
        {
            "id": s.id,
            "status": s.status,
            "master_key_id": s.master_key_id,
            "this_process_can_open": "yes" if keys.get(s.master_key_id) is not None else "NO",
            "create_time": s.create_time.isoformat(),
            # The active key is replaced at 2^30 (keys/seal_counts.py); None (unknown) for a key made before seals
            # were counted.
            "sealed_count": s.sealed_count,
        }
        for s in master_rotation.data_key_states(rt)
    ]
    if not as_json:
        previous = ", ".join(i for i in keys.ids if i != keys.current_id) or "none"
        click.echo(f"current master key: {keys.current_id}; also accepted: {previous}")
    show_list(
        items,
        as_json,
        "data_keys",
        ["data key", "status", "wrapped by", "openable", "created", "sealed"],
        ["id", "status", "master_key_id", "this_process_can_open", "create_time", "sealed_count"],
    )
