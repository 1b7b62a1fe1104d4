"""News of the publisher feed, for what builds on it (webhook notices)."""

from django.dispatch import Signal

# Sent after commit when a publisher's feed has new events: publisher_id, last_sequence.
feed_advanced = Signal()
