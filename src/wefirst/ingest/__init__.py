"""Event intake: purchases, clicks and refunds become pledges exactly once."""
