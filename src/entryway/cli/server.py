"""`entryway dev`, `entryway serve`, `entryway migrate`."""

from __future__ import annotations

from urllib.parse import urlencode

import click
import uvicorn

from entryway.app import create_app
from entryway.cli.context import CliContext
from entryway.cli.supervisor import run_workers
from entryway.observability import json_logs, worker_metrics
from entryway.services.bootstrap import seed_development
from entryway.store.migrate import upgrade
from entryway.store.migration_plan import describe, plan


@click.command()
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="List the pending migrations, each backward compatible or not, and whether the upgrade can be rolling; "
    "apply nothing.",
)
@click.pass_obj
def migrate(obj: CliContext, plan_only: bool) -> None:
    """Apply database migrations up to the newest (first listing them: store/migration_plan.py)."""
    rt = obj.runtime()
    upcoming = plan(rt.engine)
    for line in describe(upcoming):
        click.echo(line)
    if plan_only:
        return
    if not upcoming.known:
        raise click.ClickException(f"not migrated: this release does not know revision {upcoming.current}")
    upgrade(rt.engine, progress=click.echo)  # each wait on a lock held elsewhere is told
    click.echo("database is at the newest migration")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--callback-url",
    envvar="ENTRYWAY_DEV_CALLBACK_URL",
    default=None,
    help="The app's callback URL to register (default http://localhost:3000/callback).",
)
@click.option("--new-secret", is_flag=True, help="Create a fresh client secret and print it.")
@click.option("--no-serve", is_flag=True, help="Migrate, seed and print the .env lines, then exit.")
@click.pass_obj
def dev(obj: CliContext, host: str, port: int, callback_url: str | None, new_secret: bool, no_serve: bool) -> None:
    """Migrate, seed a development environment with the IdP simulator, print the .env lines, and serve."""
    obj.generate_master_key = True
    rt = obj.runtime()
    upgrade(rt.engine, progress=click.echo)
    url = rt.settings.public_url
    callback = callback_url or rt.settings.dev_callback_url
    seed = seed_development(rt, url, callback, new_secret=new_secret)
    click.echo("")
    click.echo("Entryway development environment is ready. Put these three lines in your app's .env:")
    click.echo("")
    click.echo(f"ENTRYWAY_ENV_URL={seed.environment.url}")
    click.echo(f"ENTRYWAY_CLIENT_ID={seed.client_id}")
    if seed.plain_secret:
        click.echo(f"ENTRYWAY_CLIENT_SECRET={seed.plain_secret}")
        click.echo("")
        click.echo("The secret is shown only this once. `entryway dev --new-secret` makes another.")
    else:
        click.echo("ENTRYWAY_CLIENT_SECRET=<shown when it was created; `entryway dev --new-secret` makes another>")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": seed.client_id,
            "redirect_uri": callback,
            "scope": "openid profile email",
            "state": "dev-state",
            "login_hint": "jane@example.com",
        }
    )
    click.echo("")
    click.echo("Log in through the IdP simulator (Test Organization, domains example.com and example.org):")
    click.echo(f"  {seed.environment.url}/oauth/authorize?{query}")
    click.echo("")
    if no_serve:
        return
    json_logs.configure("INFO", json_lines=False)  # a person reads `make dev`'s output
    uvicorn.run(create_app(rt), host=host, port=port, log_config=None, proxy_headers=False)


# Seconds a stopping server gives its requests in flight before it closes their connections.
GRACEFUL_SHUTDOWN_SECONDS = 30
# Seconds an idle kept-alive connection stays open (uvicorn's own default). A balancer that pools connections
# must not keep one longer, or it may send a request on a connection as Entryway closes it (a 502).
KEEP_ALIVE_SECONDS = 5


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server binds where it is told
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1, max=64),
    help="Worker processes sharing the port (about one per CPU core); each is stateless.",
)
@click.option(
    "--graceful-timeout",
    default=GRACEFUL_SHUTDOWN_SECONDS,
    show_default=True,
    type=click.IntRange(min=1),
    help="On SIGTERM, seconds to finish requests in flight (new connections are refused at once).",
)
@click.option(
    "--keep-alive-timeout",
    default=KEEP_ALIVE_SECONDS,
    show_default=True,
    type=click.IntRange(min=1, max=3600),
    help="Seconds an idle kept-alive connection stays open. Set it above your load balancer's idle timeout when "
    "the balancer reuses connections (e.g. 65 behind one that drops them after 60 s).",
)
@click.pass_obj
def serve(obj: CliContext, host: str, port: int, workers: int, graceful_timeout: int, keep_alive_timeout: int) -> None:
    """Serve Entryway (production). Needs ENTRYWAY_MASTER_KEY and a migrated database.

    On SIGTERM or SIGINT it stops listening at once, finishes the requests in flight, and exits.
    """
    obj.settings()  # fail early, with a clear message, on a bad configuration
    json_logs.configure("INFO", json_lines=True)  # the supervisor's own lines; each worker configures its own
    config = uvicorn.Config(
        "entryway.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # each worker configures JSON logs itself (entryway.asgi)
        proxy_headers=False,  # X-Forwarded-* are believed only from ENTRYWAY_TRUSTED_PROXIES (web/requests.py)
        timeout_graceful_shutdown=graceful_timeout,
        timeout_keep_alive=keep_alive_timeout,
        # A worker busy starting on a loaded machine is not hung: give it time before the supervisor replaces it.
        timeout_worker_healthcheck=30,
    )
    if workers == 1:
        uvicorn.Server(config).run()
    else:
        # One port, several processes: they count in one directory so any worker reports them all.
        with worker_metrics.shared_between_workers():
            run_workers(config)
