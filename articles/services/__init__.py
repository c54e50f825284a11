"""Writes and workflows for articles, by concern:

- publishing.py: saving, publishing (now or scheduled) and unpublishing
- images.py: queueing and making the renditions of article images
"""
