"""What an enrollment is for: exactly one of a ticket URL and a user id, the rule written once.

The API's request bodies, the clients, the command line and the contract check all take this model (or
build it with ``EnrollmentTarget.of``), so the rule and its message cannot drift apart between them.
"""

from __future__ import annotations

from typing import Self
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, Field, model_validator

ONE_TARGET = "give exactly one of ticket_url and user_id"


def require_one(ticket_url: str | None, user_id: str | None) -> None:
    """``ValueError`` unless exactly one is given; the message never quotes either (a ticket is a secret)."""
    if (ticket_url is None) == (user_id is None):
        raise ValueError(ONE_TARGET)


class EnrollmentTarget(BaseModel):
    ticket_url: str | None = Field(
        default=None, min_length=1, max_length=4096, description="The enrollment ticket URL."
    )
    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Instead of ticket_url: the bridge creates the ticket with BRIDGE_AUTH0_* credentials.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        require_one(self.ticket_url, self.user_id)
        return self

    @classmethod
    def of(cls, ticket_url: str | None, user_id: str | None) -> EnrollmentTarget:
        """From a caller's arguments: only the rule is checked here (the bridge validates the rest), and a
        breach is a plain ``ValueError`` whose message, unlike pydantic's, quotes no input."""
        require_one(ticket_url, user_id)
        return cls.model_construct(ticket_url=ticket_url, user_id=user_id)

    @property
    def ticket_id(self) -> str | None:
        """The ``ticket`` query parameter of the ticket URL (a secret: for redaction only)."""
        if not self.ticket_url:
            return None
        return dict(parse_qsl(urlsplit(self.ticket_url).query)).get("ticket")
