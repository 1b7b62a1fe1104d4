"""News from accounts for the apps above it (a lower app never imports a higher one)."""

from django.dispatch import Signal

# A staff account set its first password (accounts.services.activate). Arguments: user,
# invitation (the signed coordinator invitation that came with the link, or ""), request.
account_activated = Signal()
