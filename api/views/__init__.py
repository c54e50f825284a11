"""The API's views, by audience:

- osdi.py: the API itself (/api/v1/), for tools
- tokens.py: the organiser pages that make and revoke its tokens
"""
