"""Money: integer yen through Decimal, never float.

A price is written either as an integer (yen) or as a table `{ amount = 4580, currency = "JPY" }`.
Only currencies we can total are accepted; the BOM refuses to add different currencies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator

from .errors import shown, what_is

Currency = Literal["JPY"]
MAX_YEN = 10**9  # no line of a Pi cluster's BOM costs a billion yen; bigger is a typo (or an attack on the totals)


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Decimal
    currency: Currency = "JPY"

    @field_validator("amount", mode="before")
    @classmethod
    def _integer_yen(cls, v: Any) -> Decimal:
        if isinstance(v, bool) or isinstance(v, float):
            raise ValueError(f"{shown(v)}: a price is a whole number of yen, like 4580 (not a decimal or float)")
        if isinstance(v, str):
            raise ValueError(f"{shown(v)}: write the price as a number, like 4580")
        if not isinstance(v, (int, Decimal)):
            raise ValueError(f"expected a whole number of yen, like 4580; got {what_is(v)}")
        d = Decimal(v)
        if not d.is_finite() or d != d.to_integral_value():
            raise ValueError(f"{shown(v)}: a price is a whole number of yen")
        if d < 0:
            raise ValueError(f"{shown(v)}: a price cannot be negative")
        if d > MAX_YEN:
            raise ValueError(f"{shown(v)}: a price over {MAX_YEN:,} yen is a typo for a part of a Pi cluster")
        return d

    # Sums and products are not input: MAX_YEN bounds one price a person writes, not a total
    # (four boards at the largest price a file may give cost more than it), so they skip it.
    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money.model_construct(amount=self.amount + other.amount, currency=self.currency)

    def __mul__(self, n: int) -> "Money":
        return Money.model_construct(amount=self.amount * int(n), currency=self.currency)

    def __str__(self) -> str:
        return f"{int(self.amount):,} {self.currency}"


def _coerce_money(v: Any) -> Any:
    # Anything but a table is an amount in yen, so a float or string gets the amount's message.
    if isinstance(v, (dict, Money)):
        return v
    return {"amount": v, "currency": "JPY"}


Price = Annotated[Money, BeforeValidator(_coerce_money)]

ZERO = Money(amount=Decimal(0))
