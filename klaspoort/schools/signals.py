"""What the *Beheer* pages of schools ask the apps above them (a lower app never imports a
higher one): each app that has something to say connects a receiver and answers.
"""

from django.dispatch import Signal

# The *Gegevens* page asks for the cards of other apps (the user data, home sign-in). Arguments:
# request (with request.school). Each receiver answers a PageSection.
school_data_sections = Signal()

# Unticking a publisher on *Uitgeverijen* asks first what stops at once. Arguments: school,
# publisher, day. Each receiver answers a list of sentences (may be empty).
publisher_untick_consequences = Signal()

# The *Schooljaar-checklist* (schools.checklist.checks_for) asks every app for its items.
# Arguments: school, day. Each receiver answers a list of schools.checklist.CheckItem.
school_year_checks = Signal()
