"""What tokens cost: the operator's price table (settings.HATCHET_MODEL_PRICES, USD
per million prompt and completion tokens) applied to reported usage."""

from typing import Any

from django.conf import settings


def price_of(model: str | None) -> dict[str, float] | None:
    """The model's price, or that of the longest priced name it starts with followed
    by "-" (a dated release: "gpt-4o-mini-2024-07-18"); None when it has none."""
    if not model:
        return None
    prices: dict[str, dict[str, float]] = settings.HATCHET_MODEL_PRICES
    if model in prices:
        return prices[model]
    releases = [name for name in prices if model.startswith(f"{name}-")]
    return prices[max(releases, key=len)] if releases else None


def cost_of(model: str | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for these tokens of `model`, None when the model has no price."""
    price = price_of(model)
    if price is None:
        return None
    return (prompt_tokens * price["prompt"] + completion_tokens * price["completion"]) / 1_000_000


def cost_of_usages(usages: list[dict[str, Any]]) -> float | None:
    """The cost of several steps' usage, each with its own model; None when none was
    reported or one names a model with no price (a partial sum would understate it)."""
    if not usages:
        return None
    total = 0.0
    for usage in usages:
        cost = cost_of(
            usage.get("model"),
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
        )
        if cost is None:
            return None
        total += cost
    return total
