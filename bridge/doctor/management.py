"""The doctor's reads of a tenant's Management API: a client-credentials token, then GETs with it.

Errors come back as ``ManagementError`` with the HTTP status and Auth0's ``errorCode`` / ``error``, so each
check can word its own fix; transport failures are ``ManagementError`` with status 0. The client secret
and the token never appear in a message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt


class ManagementError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @property
    def missing_scope(self) -> bool:
        return self.status == 403 and self.code == "insufficient_scope"

    def describe(self) -> str:
        if self.status == 0:
            return f"not reachable ({self.message})"
        return f"HTTP {self.status} {self.code}: {self.message}"


def tenant_base(domain: str) -> str:
    """``https://<domain>`` for a tenant domain; a full base URL (the fake tenant's) as it is."""
    if "://" in domain:
        parts = urlsplit(domain)
        return f"{parts.scheme}://{parts.netloc}"
    return f"https://{domain.strip('/')}"


def _error_of(response: httpx.Response) -> ManagementError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    # Management API errors carry errorCode/message; the token endpoint's carry error/error_description.
    code = str(body.get("errorCode") or body.get("error") or "http_error")
    message = str(body.get("message") or body.get("error_description") or response.reason_phrase)
    return ManagementError(response.status_code, code, message)


class ManagementReader:
    def __init__(self, domain: str, client_id: str, client_secret: str, timeout: float = 15.0) -> None:
        self.base = tenant_base(domain)
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = httpx.Client(base_url=self.base, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ManagementError(0, "unreachable", type(exc).__name__) from None
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    def issue_token(self) -> tuple[list[str], int | None]:
        """Asks for a client-credentials token; returns the scopes its ``scope`` claim carries and its
        lifetime in seconds."""
        body = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "audience": f"{self.base}/api/v2/",
        }
        answer = self._request("POST", "/oauth/token", json=body).json()
        self._token = str(answer["access_token"])
        try:
            # Read, not verified: the doctor only looks at what the tenant granted.
            claims = jwt.decode(self._token, options={"verify_signature": False})
            scope = str(claims.get("scope", ""))
        except jwt.PyJWTError:
            scope = str(answer.get("scope", ""))
        lifetime = answer.get("expires_in")
        return scope.split(), int(lifetime) if isinstance(lifetime, int | float) else None

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        if self._token is None:
            raise ManagementError(0, "no_token", "no token was issued")
        headers = {"Authorization": f"Bearer {self._token}"}
        return self._request("GET", path, params=params, headers=headers).json()
