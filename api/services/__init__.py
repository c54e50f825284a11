"""The API's services, one module per concern (nothing is re-exported):

- `tokens`: making, revoking and checking API tokens, and logging each call made with one.
"""
