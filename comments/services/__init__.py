"""Writes and workflows for discussion and moderation, by concern:

- writing.py: eligibility, writing, editing and deleting comments, flags, watched words, the checks a comment passes
- moderation.py: moderators' decisions (approve, remove, suspend, reverse) and their audit
- pipeline.py: the checks every comment passes on posting and editing, each a named step that may hold it
- notices.py: reply notices by e-mail, readers' preferences, unsubscribing
- counts.py: rebuilding comment, reply and flag counts
- reader_data.py: a reader's own comments and flags, as a file to download
- errors.py: what they raise
"""
