"""Writes and workflows of the shared mechanisms, by concern:

- outbox.py: delivering the e-mail outbox (one message per task, or the pump's claimed batches)
- scrub.py: erasing the personal part of outbox rows once sent and due, or when their person goes
"""
