"""Command-line interface: `flask --app api <command>` for bootstrapping, demo data and serving."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from api.extensions import db
from api.meetings import schedule as meeting_schedule
from engine import accounts, audit, catalog, coherence, covenant, demo, roles
from engine.errors import EngineError
from engine.forms import load_forms
from engine.models import OrganisationKind, Role


def _fail(error: EngineError) -> None:
    db.session.rollback()
    raise click.ClickException(error.message)


@click.command("create-organisation")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice([k.value for k in OrganisationKind]))
@click.option("--email", default=None, help="Address for notifications to this organisation.")
@with_appcontext
def create_organisation_command(name: str, kind: str, email: str | None) -> None:
    """Create an organisation (a partner in the covenant)."""
    try:
        organisation = accounts.create_organisation(db.session, name=name, kind=kind, email=email)
        db.session.commit()
    except EngineError as error:
        _fail(error)
    click.echo(f"Created organisation {organisation.name} ({organisation.kind}) with id {organisation.id}.")


@click.command("create-user")
@click.argument("username")
@click.option("--organisation", "organisation_name", required=True, help="Name of the user's organisation.")
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice([r.value for r in Role]),
              help="May be given more than once.")
@click.option("--full-name", default="", help="Name shown in the application.")
@click.option("--email", default=None)
@with_appcontext
def create_user_command(
    username: str, organisation_name: str, roles: tuple[str, ...], full_name: str, email: str | None
) -> None:
    """Create a user; the password is read from standard input (first line)."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(
            db.session, username=username, password=password, organisation_name=organisation_name,
            roles=list(roles), full_name=full_name, email=email,
        )
        db.session.commit()
    except EngineError as error:
        _fail(error)
    click.echo(f"Created user {user.username} in {user.organisation.name} with roles {', '.join(sorted(roles))}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo organisations, users, processes and cases (idempotent) and print the demo logins."""
    logins = demo.seed_demo(db.session)
    db.session.commit()
    try:
        deploy_bundled_processes()
        created = demo.seed_demo_cases(db.session, schedule=meeting_schedule())
        db.session.commit()
    except EngineError as error:
        db.session.rollback()
        detail = "; ".join(p.message for p in error.problems[:3])
        click.echo(f"No demo processes or cases: {error.message} {detail}".rstrip())
    else:
        click.echo(f"Demo processes deployed; {created} demo cases created." if created else
                   "Demo processes deployed; existing cases left as they are.")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}) — for the demo only:")
    for login in logins:
        click.echo(f"  {login.username:<14} {login.organisation:<28} {login.roles}")


@click.command("map-role")
@click.argument("role")
@click.option("--organisation", "organisation_name", default=None, help="Route this role to a fixed organisation.")
@click.option("--case-role", default=None, help="Or to the case's melder, casusregisseur, ...")
@with_appcontext
def map_role_command(role: str, organisation_name: str | None, case_role: str | None) -> None:
    """Route the tasks of a lane or candidate group (ROLE) to an organisation."""
    try:
        roles.set_role_mapping(db.session, roles.RoleMappingInput(role, organisation_name, case_role))
        db.session.commit()
    except EngineError as error:
        detail = "; ".join(p.message for p in error.problems)
        db.session.rollback()
        raise click.ClickException(f"{error.message} {detail}".strip()) from None
    click.echo(f"Role {role!r} now goes to {organisation_name or 'the case' + chr(39) + 's ' + str(case_role)}.")


@click.command("deploy-processes")
@with_appcontext
def deploy_processes_command() -> None:
    """Deploy every diagram in processes/ (idempotent: unchanged files keep their version)."""
    try:
        for version, created in deploy_bundled_processes():
            state = "deployed as" if created else "unchanged,"
            click.echo(f"{version.filename}: {state} {version.process_key} v{version.version}")
    except EngineError as error:
        db.session.rollback()
        lines = [f"  - {p.element or ''} (line {p.line}): {p.message}" for p in error.problems]
        raise click.ClickException("\n".join([error.message, *lines])) from None


def deploy_bundled_processes() -> list[Any]:
    """Load processes/convenant.yaml (a changed file becomes a new version), then deploy processes/*.bpmn:
    deploying checks every form field's data category against the covenant."""
    from pathlib import Path

    covenant_file = Path(current_app.config["PROCESSES_DIR"]) / "convenant.yaml"
    if covenant_file.exists():
        covenant.load_covenant_file(db.session, covenant_file)
    forms = load_forms(current_app.config["FORMS_DIR"])
    results = catalog.deploy_directory(db.session, current_app.config["PROCESSES_DIR"], forms=forms)
    db.session.commit()
    return results


@click.command("timers")
@click.option("--once", is_flag=True, help="Sweep once (fire everything due, send mail) and exit; for cron.")
@click.option("--verbose", is_flag=True, help="Print a line for every timer fired.")
@with_appcontext
def timers_command(once: bool, verbose: bool) -> None:
    """Run the timer sweeper on its own (production); any number may run side by side."""
    from api.sweeper import run_sweeper, sweep_once

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        report = sweep_once(app, on_fired=(lambda i: click.echo(f"fired {i}")) if verbose else None)
        click.echo(f"fired {report.timers.fired} timers ({report.timers.failed} failed), "
                   f"escalated {report.stalled_escalated} stalled cases, sent {report.mails_sent} mails")
        return
    click.echo(f"Timer sweeper: every {app.config['TIMER_SWEEP_SECONDS']} s (stop with Ctrl+C)")
    run_sweeper(app)


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the web app and the timer sweeper in one process (for a single machine and the demo)."""
    from werkzeug.serving import run_simple

    from api.sweeper import start_background_sweeper

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        for version, created in deploy_bundled_processes():
            if created:
                click.echo(f"Deployed {version.filename} as {version.process_key} v{version.version}")
    except EngineError as error:
        db.session.rollback()
        click.echo(f"processes/ not deployed: {error.message}", err=True)
    start_background_sweeper(app)
    click.echo(f"Ketenregie runs on http://{host}:{port}  (timer sweep every {app.config['TIMER_SWEEP_SECONDS']} s;"
               " stop with Ctrl+C)")
    # Not app.run(): Flask ignores that inside a `flask` command. Werkzeug's threaded server is
    # enough for one machine; production runs gunicorn (README).
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.command("load-covenant")
@click.argument("path", required=False)
@with_appcontext
def load_covenant_command(path: str | None) -> None:
    """Load the covenant (default processes/convenant.yaml); a changed file becomes a new version."""
    from pathlib import Path

    source = Path(path) if path else Path(current_app.config["PROCESSES_DIR"]) / "convenant.yaml"
    try:
        row = covenant.load_covenant_file(db.session, source)
        db.session.commit()
    except EngineError as error:
        db.session.rollback()
        lines = [f"  - {p.element}: {p.message}" for p in error.problems]
        raise click.ClickException("\n".join([error.message, *lines])) from None
    click.echo(f"Covenant {row.version} in force (sha256 {row.sha256[:12]}…, "
               f"loaded {row.loaded_at:%Y-%m-%d %H:%M} UTC).")


@click.command("check-covenant")
@click.argument("path", required=False)
@with_appcontext
def check_covenant_command(path: str | None) -> None:
    """Report every conflict between the covenant (in force, or the file PATH), the deployed diagrams,
    the forms in forms/ and the organisations; exit 1 on any conflict, 0 when coherent."""
    from pathlib import Path

    try:
        policy = covenant.parse_covenant(Path(path).read_text(encoding="utf-8")) if path \
            else covenant.current_covenant(db.session)
        problems = coherence.installation_conflicts(db.session, policy)
        problems += coherence.forms_dictionary_conflicts(policy, load_forms(current_app.config["FORMS_DIR"]))
    except EngineError as error:
        _fail(error)
    for problem in problems:
        where = f"{problem.element}" + (f" (line {problem.line})" if problem.line else "")
        click.echo(f"CONFLICT [{problem.code}] {where}: {problem.message}", err=True)
    if problems:
        click.echo(f"{len(problems)} conflict(s) between covenant {policy.version}, the diagrams and the forms.",
                   err=True)
        raise SystemExit(1)
    click.echo(f"Covenant {policy.version} is coherent with the deployed diagrams, the forms and the organisations.")


@click.command("verify-access-log")
@click.option("--checkpoints", "checkpoint_files", multiple=True, type=click.Path(dir_okay=False),
              help="More checkpoint files (e.g. lines from the daily mail) beside ACCESS_LOG_CHECKPOINT_FILE.")
@click.option("--no-seal", is_flag=True, help="Only read: do not seal what is waiting first.")
@with_appcontext
def verify_access_log_command(checkpoint_files: tuple[str, ...], no_seal: bool) -> None:
    """Recompute the access log's keyed chain and compare it with the checkpoints; exit 1 and name
    the entries if anything was altered, removed, inserted, rechained or cut off."""
    from datetime import timedelta
    from pathlib import Path

    from api.privacy import access_log_key, seal_access_log

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not no_seal:
        seal_access_log(app)  # what waits for the sweeper would otherwise only count as unsealed
    lines: list[str] = []
    for name in (app.config["ACCESS_LOG_CHECKPOINT_FILE"], *checkpoint_files):
        path = Path(name)
        if path.exists():
            lines += path.read_text(encoding="utf-8").splitlines()
        elif name in checkpoint_files:
            raise click.ClickException(f"No such checkpoint file: {name}")
    result = audit.verify_chain(db.session, access_log_key(app), checkpoints=lines,
                                unsealed_grace=timedelta(minutes=app.config["ACCESS_LOG_SEAL_GRACE_MINUTES"]))
    if not result.ok:
        for line in result.detail:
            click.echo(f"BROKEN: {line}", err=True)
        raise SystemExit(1)
    click.echo(f"Access log intact: {result.entries} entries verified ({result.legacy} from before the key), "
               f"{result.unsealed} waiting to be sealed, {result.checkpoints} checkpoints matched.")


def init_app(app: Flask) -> None:
    for command in (load_covenant_command, check_covenant_command, verify_access_log_command,
                    create_organisation_command, create_user_command, seed_demo_command, map_role_command,
                    deploy_processes_command, timers_command, serve_command):
        app.cli.add_command(command)
