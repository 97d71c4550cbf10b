"""The one retry policy of Celery tasks: named transient errors only.

A dropped database or broker connection is retried with exponential backoff
(2, 4, 8 ... seconds, at most 60, five times); any other error is not retried
and fails the job with a message instead.
"""

from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerOperationalError)
RETRY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}
