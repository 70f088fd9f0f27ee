"""``trainyard tokens``: issue, list and revoke API tokens (needs an owner token)."""

from __future__ import annotations

from typing import Annotated

import typer

from trainyard.cli._common import (
    JsonOption,
    TokenOption,
    UriOption,
    connect,
    handle_errors,
    out,
    print_json,
    table,
    when,
)
from trainyard.errors import InvalidArgument

app = typer.Typer(help="API tokens.", no_args_is_help=True)


def _parse_roles(roles: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in roles:
        ws, sep, role = item.partition("=")
        if not sep or not ws or not role:
            raise InvalidArgument(
                f"--role takes WORKSPACE=ROLE (e.g. default=reader), got {item!r}"
            )
        parsed[ws] = role
    return parsed


@app.command("create")
@handle_errors
def create(
    name: Annotated[str, typer.Argument(help="A name that says who or what uses it.")],
    role: Annotated[
        list[str], typer.Option("--role", "-r", help="WORKSPACE=ROLE, repeatable; '*' for all.")
    ],
    uri: UriOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a token; its secret is printed once, now."""
    created = connect(uri, "default", token).tokens.create(name, _parse_roles(role))
    if as_json:
        print_json(created.model_dump(mode="json"))
        return
    out.print(f"token {created.token_id} ({created.name}) roles {created.roles}")
    out.print("secret (shown once, store it now):")
    out.print(created.secret, highlight=False, soft_wrap=True)


@app.command("list")
@handle_errors
def list_tokens(
    uri: UriOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """Every token (never the secrets)."""
    tokens = connect(uri, "default", token).tokens.list()
    if as_json:
        print_json([t.model_dump(mode="json") for t in tokens])
        return
    table(
        "Tokens",
        ["id", "name", "roles", "created", "revoked"],
        [
            (
                t.token_id,
                t.name,
                ", ".join(f"{w}={r}" for w, r in t.roles.items()),
                when(t.created_at),
                when(t.revoked_at),
            )
            for t in tokens
        ],
    )


@app.command("revoke")
@handle_errors
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")],
    uri: UriOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    revoked = connect(uri, "default", token).tokens.revoke(token_id)
    out.print(f"revoked {revoked.token_id} ({revoked.name})")
