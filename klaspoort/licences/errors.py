"""The licences' domain errors (the views turn them into HTTP answers)."""


class NotFound(Exception):
    """No such contract, group, child, licence, notice or product for this school or publisher,
    or one that went a moment ago: the views answer 404."""
