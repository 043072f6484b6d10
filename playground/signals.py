"""What the playground announces to its own parts: `cells_scored(comparison_id)`, sent
after the commit that stored scores of a comparison's cells."""

from django.dispatch import Signal

cells_scored = Signal()
