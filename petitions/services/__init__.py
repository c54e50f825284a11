"""Writes and workflows for petitions, by concern:

- editing.py: creating and saving a petition (safe text; revisions once signed) and its image's renditions
- lifecycle.py: the moves between states, and beat's scheduled opening, closing and anonymising
- memberships.py: members, roles, invitations, and letting go of a deleted account
- signing.py: the decision on one signature sent through the form or the API (limits, intake, answers)
- updates.py: updates written, published, corrected and taken down, with their pictures
- outcomes.py: how the campaign ended, the decision maker's response (and its PDF), updates drafted from them
- thresholds.py: milestones crossed, the organisers told and an update drafted
- mailings.py: updates e-mailed to signers (four eyes, the weekly limit, queueing, rendering, the report)
- alerts.py: trending alerts (bursts of signatures from one source) to the organisers
- notices.py: e-mail to a petition's members holding a role
- errors.py: what they raise
"""
