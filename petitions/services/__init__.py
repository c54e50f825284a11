"""Writes and workflows for petitions, by concern:

- editing.py: creating and saving a petition (safe text; revisions once signed) and its image's renditions
- lifecycle.py: the moves between states, and beat's scheduled opening, closing and anonymising
- memberships.py: members, roles, invitations, and letting go of a deleted account
- signing.py: the decision on one signature sent through the form or the API (limits, intake, answers)
- errors.py: what they raise
"""
