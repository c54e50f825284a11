"""The web interface of comments, by audience:

- readers.py: discussions, writing and flagging comments, notice settings
- moderation.py: the moderators' queue, decisions, audit, readers and watched words
"""
