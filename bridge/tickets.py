"""Creates enrollment tickets from a user id with Auth0's own Python SDK (Management API)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httpx
from auth0.authentication import GetToken
from auth0.management import Auth0

from bridge.errors import InvalidRequestError, TicketCreationError
from bridge.settings import BridgeSettings

# Renew the management token this long before it expires.
TOKEN_MARGIN_S = 60.0


class TicketIssuer:
    """``POST /api/v2/guardian/enrollments/ticket`` with ``send_mail: false`` for one tenant.

    ``BRIDGE_AUTH0_DOMAIN`` is a tenant domain (``example.eu.auth0.com``) or a full base URL
    (``http://127.0.0.1:8790``, for the fake tenant); the SDK's token client takes a protocol and
    its generated Management client a base URL, which covers both.
    """

    def __init__(self, domain: str, client_id: str, client_secret: str) -> None:
        if "://" in domain:
            parts = urlsplit(domain)
            self._scheme, self._host = parts.scheme, parts.netloc
        else:
            self._scheme, self._host = "https", domain.strip("/")
        self._base = f"{self._scheme}://{self._host}"
        self._client_id = client_id
        self._client_secret = client_secret
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: BridgeSettings) -> TicketIssuer | None:
        if not (settings.auth0_domain and settings.auth0_client_id and settings.auth0_client_secret):
            return None
        return cls(
            settings.auth0_domain,
            settings.auth0_client_id,
            settings.auth0_client_secret.get_secret_value(),
        )

    def _management_token(self) -> str:
        if self._token is None or time.monotonic() > self._token_expires:
            grant = GetToken(self._host, self._client_id, self._client_secret, protocol=self._scheme)
            answer = grant.client_credentials(audience=f"{self._base}/api/v2/")
            self._token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 3600))
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_S, 1.0)
        return self._token

    def _create(self, user_id: str) -> str:
        token = self._management_token()
        with httpx.Client(timeout=15.0) as transport:
            client = Auth0(
                base_url=f"{self._base}/api/v2", token=token, httpx_client=transport, max_retries=0
            )
            ticket = client.guardian.enrollments.create_ticket(user_id=user_id, send_mail=False)
        return str(ticket.ticket_url)

    async def create_ticket_url(self, user_id: str) -> str:
        """A fresh ticket URL for the user; SDK failures become bridge errors without secrets."""
        async with self._lock:
            try:
                # The SDK is synchronous; a thread keeps the event loop free meanwhile.
                return await asyncio.to_thread(self._create, user_id)
            except Exception as exc:
                status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
                if status == 404:
                    raise InvalidRequestError("the Auth0 tenant has no user with this user_id") from exc
                if status in (400, 422):
                    raise InvalidRequestError("Auth0 refused the ticket request for this user_id") from exc
                self._token = None
                raise TicketCreationError("could not create an enrollment ticket with Auth0") from exc


def require_issuer(issuer: TicketIssuer | None) -> TicketIssuer:
    if issuer is None:
        raise InvalidRequestError(
            "user_id needs BRIDGE_AUTH0_DOMAIN, BRIDGE_AUTH0_CLIENT_ID and BRIDGE_AUTH0_CLIENT_SECRET"
        )
    return issuer
