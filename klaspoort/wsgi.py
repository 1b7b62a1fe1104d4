"""The WSGI application (gunicorn klaspoort.wsgi).

A WSGI server runs no system checks, so the production checks run here: an unsafe production
configuration (klaspoort.checks) stops the application from loading, and gunicorn's workers
fail to boot with the reason in the log instead of serving.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
application = get_wsgi_application()

from klaspoort.checks import refuse_unsafe_start  # noqa: E402 - needs the apps loaded

refuse_unsafe_start()
