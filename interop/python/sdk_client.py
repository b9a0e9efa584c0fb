"""The official Python MCP SDK's client (PyPI `mcp`, pinned in requirements.txt) against `mcp-authz serve
--dev`, unmodified: the only application code is the user agent (it follows the authorization URL, which
`--dev` answers with a redirect) and the token storage the SDK asks for.

    python sdk_client.py --server http://127.0.0.1:PORT/mcp --access-token-ttl SECONDS

Steps: discovery + dynamic registration, authorization (resource, PKCE S256, state, iss) + token exchange,
tools/list + tools/call, refresh once the access token expired, step-up on 403 insufficient_scope (the SDK
authorizes again with the union of scopes, with the client it registered), revocation. Prints one line
per step; on the first failure prints the reason and the HTTP transcript (tokens redacted).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlparse

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

LABEL = "Python SDK client"
REDIRECT_URI = "http://127.0.0.1:53682/callback"
SECRET_FIELDS = ("access_token", "refresh_token", "code", "code_verifier", "client_secret", "token")


class StepError(Exception):
    """A check of this script failed."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise StepError(message)


def ok(step: str) -> None:
    print(f"  ✓ {LABEL}: {step}", flush=True)


def redact(text: str) -> str:
    """Form or query text with secret values replaced."""
    try:
        pairs = parse_qs(text, keep_blank_values=True)
    except ValueError:
        return text
    if not pairs:
        return text
    return urlencode(
        [(k, "<redacted>" if k in SECRET_FIELDS else v) for k, values in pairs.items() for v in values]
    )


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    form: dict[str, str]


@dataclass
class Transcript:
    """Every HTTP exchange of the run, for the checks and for the failure report."""

    exchanges: list[Exchange] = field(default_factory=list)

    def grants(self, token_endpoint: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.url == token_endpoint]

    def print(self) -> None:
        for e in self.exchanges:
            query = urlparse(e.url)
            url = query._replace(query=redact(query.query)).geturl()
            form = {k: ("<redacted>" if k in SECRET_FIELDS else v) for k, v in e.form.items()}
            print(f"    {e.method} {url} -> {e.status} {form if form else ''}", file=sys.stderr)


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Records each exchange (method, URL, status, form fields) of the SDK's HTTP client."""

    def __init__(self, transcript: Transcript) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.transcript = transcript

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        form: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = await request.aread()
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        response = await self.inner.handle_async_request(request)
        self.transcript.exchanges.append(Exchange(request.method, str(request.url), response.status_code, form))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class MemoryStorage:
    """The token storage the SDK asks for, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class UserAgent:
    """The browser: follows the authorization URL (`--dev` approves at once) and reads the redirect."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.authorizations: list[dict[str, str]] = []
        self.callback: AuthorizationCodeResult | None = None

    async def redirect(self, authorization_url: str) -> None:
        query = {k: v[0] for k, v in parse_qs(urlparse(authorization_url).query).items()}
        self.authorizations.append(query)
        async with httpx2.AsyncClient(follow_redirects=False) as http:
            response = await http.get(authorization_url)
        self.transcript.exchanges.append(Exchange("GET", authorization_url, response.status_code, {}))
        location = response.headers.get("location")
        check(300 <= response.status_code < 400 and location, f"the authorization endpoint answered {response.status_code}")
        callback = urlparse(location)
        check(f"{callback.scheme}://{callback.netloc}{callback.path}" == REDIRECT_URI, f"redirected to {location}")
        params = {k: v[0] for k, v in parse_qs(callback.query).items()}
        check("error" not in params, f"authorization refused: {params.get('error')} {params.get('error_description', '')}")
        self.callback = AuthorizationCodeResult(code=params.get("code", ""), state=params.get("state"), iss=params.get("iss"))

    async def wait_for_callback(self) -> AuthorizationCodeResult:
        check(self.callback is not None, "the SDK asked for the callback before the redirect")
        callback, self.callback = self.callback, None
        return callback  # type: ignore[return-value]


def text(result) -> str:  # noqa: ANN001 - a CallToolResult
    check(not result.is_error if hasattr(result, "is_error") else not result.isError, f"the tool failed: {result.content}")
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def run(server: str, ttl: int, transcript: Transcript) -> None:
    storage = MemoryStorage()
    agent = UserAgent(transcript)
    provider = OAuthClientProvider(
        server_url=server,
        client_metadata=OAuthClientMetadata(
            client_name="mcp-authz Python SDK interop",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=agent.redirect,
        callback_handler=agent.wait_for_callback,
    )
    http = httpx2.AsyncClient(auth=provider, transport=RecordingTransport(transcript), timeout=30)
    async with http, streamable_http_client(server, http_client=http) as (read, write):
        async with ClientSession(read, write) as session:
            # 1. Discovery, registration, authorization, token exchange, initialize.
            await session.initialize()
            registrations = [e for e in transcript.exchanges if e.method == "POST" and e.url.endswith("/register")]
            check(len(registrations) == 1 and registrations[0].status == 201, "no successful dynamic registration")
            client_id = storage.client_info.client_id if storage.client_info else None
            ok(f"discovery + dynamic registration (client {client_id})")
            check(agent.authorizations, "the SDK never sent the user to the authorization endpoint")
            first = agent.authorizations[0]
            check(first.get("resource") == server, f"resource={first.get('resource')}")
            check(first.get("code_challenge_method") == "S256", "no S256 PKCE")
            token_endpoint = next(e.url for e in transcript.exchanges if e.form.get("grant_type") == "authorization_code")
            check(any(e.form.get("grant_type") == "authorization_code" and e.status == 200 for e in transcript.grants(token_endpoint)), "no code exchange")
            ok(f"authorization (scope \"{first.get('scope')}\", resource, PKCE S256, state, iss) + token exchange")

            # 2. Tool calls.
            tools = [t.name for t in (await session.list_tools()).tools]
            for name in ("whoami", "read_notes", "add_note"):
                check(name in tools, f"no tool {name}")
            who = text(await session.call_tool("whoami", {}))
            check(f"client={client_id}" in who, f"whoami: {who}")
            ok(f"tools/list + tools/call whoami ({who})")

            # 3. Refresh: the access token expires (serve runs with a short --access-token-ttl); the SDK
            #    refreshes before the next call.
            before = storage.tokens.refresh_token if storage.tokens else None
            check(before, "no refresh token was issued")
            await asyncio.sleep(ttl + 1)
            again = text(await session.call_tool("whoami", {}))
            check(f"client={client_id}" in again, f"whoami after refresh: {again}")
            refreshes = [e for e in transcript.grants(token_endpoint) if e.form.get("grant_type") == "refresh_token"]
            check(refreshes and all(e.status == 200 for e in refreshes), "no successful refresh_token grant")
            check(storage.tokens and storage.tokens.refresh_token != before, "the refresh token was not rotated")
            ok("refresh of the expired access token (refresh token rotated)")

            # 4. Step-up: add_note needs notes:write; the server answers 403 insufficient_scope and the SDK
            #    authorizes again with the union of scopes, with the same registration.
            authorizations_before = len(agent.authorizations)
            note = text(await session.call_tool("add_note", {"text": "from the Python SDK"}))
            check(note.endswith("from the Python SDK"), f"add_note: {note}")
            stepped = agent.authorizations[authorizations_before:]
            check(stepped, "no authorization for the step-up")
            scope = stepped[-1].get("scope", "").split()
            check("notes:write" in scope, f"step-up authorization asked scope {scope}")
            registrations = [e for e in transcript.exchanges if e.method == "POST" and e.url.endswith("/register")]
            check(len(registrations) == 1, "the SDK registered again for the step-up")
            who = text(await session.call_tool("whoami", {}))
            check("notes:write" in who, f"whoami after step-up: {who}")
            ok(f"step-up: authorized with scope \"{' '.join(scope)}\" (same client), add_note succeeded")

            # 5. Revocation (RFC 7009): the SDK has no revocation call, so the application posts the
            #    refresh token it stored; the grant is gone and the SDK's next refresh fails.
            metadata = provider.context.oauth_metadata
            revocation_endpoint = str(metadata.revocation_endpoint) if metadata and metadata.revocation_endpoint else None
            check(revocation_endpoint, "the AS metadata names no revocation_endpoint")
            refresh_token = storage.tokens.refresh_token if storage.tokens else None
            check(refresh_token, "no refresh token after the step-up")
            async with httpx2.AsyncClient() as plain:
                revoked = await plain.post(revocation_endpoint, data={"token": refresh_token, "client_id": client_id})
            check(revoked.status_code == 200, f"revocation answered {revoked.status_code}")
            async with httpx2.AsyncClient() as plain:
                refused = await plain.post(
                    token_endpoint,
                    data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, "resource": server},
                )
            check(refused.status_code == 400 and refused.json().get("error") == "invalid_grant", f"refresh after revocation: {refused.status_code} {refused.text}")
            ok("revocation: the revoked refresh token is invalid_grant")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--access-token-ttl", type=int, required=True)
    args = parser.parse_args()
    transcript = Transcript()
    started = time.monotonic()
    try:
        asyncio.run(run(args.server, args.access_token_ttl, transcript))
    except BaseException as error:  # noqa: BLE001 - report anything, then fail
        print(f"{LABEL}: FAILED: {error!r}", file=sys.stderr)
        transcript.print()
        return 1
    print(f"{LABEL}: passed ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
