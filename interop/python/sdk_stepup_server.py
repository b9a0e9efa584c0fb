"""An MCP server built from the official Python MCP SDK's own pieces (PyPI `mcp`, pinned in
requirements.txt), trusting `mcp-authz serve` as its authorization server, for our client's interop
cell: `MCPServer` with `AuthSettings` (protected resource metadata, `required_scopes`) and a
`TokenVerifier` that checks our RFC 9068 JWT access tokens against the authorization server's JWKS
(PyJWT, signature, `iss`, `aud` = this server, expiry). Step-up like the TypeScript step-up server:
`mcp:tools` for everything, `mcp:tools notes:write` for `tools/call` of `add_note`, enforced by the SDK's
own `RequireAuthMiddleware` in front of the same app.

    python sdk_stepup_server.py --port N --issuer http://127.0.0.1:M

Prints `MCP step-up server listening on port N` when ready.
"""

from __future__ import annotations

import argparse
import json
import sys

import anyio
import httpx2
import jwt
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic import AnyHttpUrl
from starlette.middleware.authentication import AuthenticationMiddleware


class JwtVerifier:
    """The SDK's `TokenVerifier` protocol over the authorization server's JWKS."""

    def __init__(self, issuer: str, resource: str) -> None:
        self.issuer = issuer
        self.resource = resource
        # RFC 8414 §3: the metadata of an issuer with an empty path (or just `/`) is at the root.
        metadata = httpx2.get(f"{issuer.rstrip('/')}/.well-known/oauth-authorization-server").json()
        if metadata.get("issuer") != issuer:
            raise SystemExit(f"the authorization server's metadata names issuer {metadata.get('issuer')!r}, not {issuer!r}")
        self.keys = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            key = await anyio.to_thread.run_sync(self.keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["ES256", "EdDSA"],
                issuer=self.issuer,
                audience=self.resource,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self.resource,
            subject=str(claims["sub"]),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--issuer", required=True)
    args = parser.parse_args()
    resource = f"http://127.0.0.1:{args.port}/mcp"
    verifier = JwtVerifier(args.issuer, resource)
    server = MCPServer(
        "python-sdk-stepup-server",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=AnyHttpUrl(args.issuer),
            resource_server_url=AnyHttpUrl(resource),
            required_scopes=["mcp:tools"],
            validate_token_resource=True,
        ),
    )

    @server.tool(description="The scopes of the token")
    def whoami() -> str:
        token = get_access_token()
        return f"scopes={' '.join(token.scopes) if token else ''}"

    @server.tool(description="Needs notes:write")
    def add_note(text: str) -> str:
        return f"noted: {text}"

    app = server.streamable_http_app(stateless_http=True, json_response=True)
    # The SDK's own guard with the wider scope, in front of the same app, for `tools/call` of add_note.
    write_guard = AuthenticationMiddleware(
        RequireAuthMiddleware(app, ["mcp:tools", "notes:write"], build_resource_metadata_url(AnyHttpUrl(resource))),
        backend=BearerAuthBackend(verifier),
    )

    async def per_tool(scope, receive, send):  # noqa: ANN001 - ASGI
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            request = json.loads(body)
        except ValueError:
            request = None
        is_add_note = (
            isinstance(request, dict)
            and request.get("method") == "tools/call"
            and isinstance(request.get("params"), dict)
            and request["params"].get("name") == "add_note"
        )
        await (write_guard if is_add_note else app)(scope, replay, send)

    config = uvicorn.Config(per_tool, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")
    userver = uvicorn.Server(config)

    async def serve() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(userver.serve)
            while not userver.started:
                await anyio.sleep(0.05)
            print(f"MCP step-up server listening on port {args.port}", flush=True)

    try:
        anyio.run(serve)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
