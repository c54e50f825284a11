"""The API's views, by audience:

- osdi.py: the API itself (/api/v1/), for tools
- tokens.py: the organiser pages that make and revoke its tokens
- docs.py: its documentation for people, made from its OpenAPI document
"""
