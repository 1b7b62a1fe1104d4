"""What other apps learn about a roster change, without the roster app knowing them."""

from django.dispatch import Signal

# Sent inside apply_roster's transaction, after the roster is written: receivers' writes are
# part of the same all-or-nothing change. Arguments: school, and joined_pupil_ids, the pupils
# who joined a group in the middle of a school year (new pupils or pupils moved to another
# group; empty on a school's first roster and when the school year changes), and changed:
# whether any group, pupil or teacher was added, changed or deactivated (a file identical to
# the roster changes nothing others need to look at); group_ids and user_ids: the groups, and
# the accounts of the pupils and teachers, that were added, changed (their links to groups
# included) or deactivated, so a receiver can look at those alone.
roster_applied = Signal()

# Sent by services.process_the_night (`klaspoort nightly`, the beat task nightly_run) around
# the night's imports, after the LAS fetch: nightly_processing_started before the first
# import, nightly_processing_finished after the last (also when the processing failed), with
# `workers`: how many processes the imports used, which the work held until then may use too.
# Receivers may hold work that would compete with the imports for the machine until the
# imports are done.
nightly_processing_started = Signal()
nightly_processing_finished = Signal()
